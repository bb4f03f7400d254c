/**
 * The hash phase of eth/60: fetch the hash chain backwards from the sync peer's head until it meets
 * a block we have, cross-checking a random hash of each batch, and switching peers on a timeout.
 * It queues the whole hash chain before the first block is asked for, so what it holds grows with
 * the chain's length: unbounded by design, the seed's algorithm, kept for eth/60 peers only (an
 * eth/61 peer is synced forward, with a cap: see ForwardSync).
 *
 * @since 0.1.0
 */
import { Clock, Effect, Option } from "effect"
import * as Hash from "../../chain/Hash.ts"
import * as CheckRandom from "../CheckRandom.ts"
import { BadPeer, EmptyHashSet, InvalidChain, StallingPeer, Timeout } from "../SyncError.ts"
import * as BanProcedure from "./BanProcedure.ts"
import * as CrossChecks from "./CrossChecks.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"

/** Fetches hashes from `origin` starting at `head`; on success the queue holds every new hash. */
export const run = Effect.fnUntraced(function*(sync: Sync.Sync, origin: Peer, head: Hash.Hash) {
  const { queue } = sync
  /** The peer hashes are taken from; replaced on a timeout. */
  let active = origin
  /** The last hash received: where the next request starts. */
  let last: Hash.Hash | undefined
  /** Peers already tried as the hash source. */
  const attempted = new Set([origin.id])
  /** When the open hash request times out; Infinity while none is open. */
  let hashDeadline = (yield* Clock.currentTimeMillis) + sync.hashTTL

  queue.insert([head], origin.id)
  Sync.requestHashes(sync, active, head)
  while (true) {
    const event = yield* Sync.next(sync, hashDeadline)
    const now = yield* Clock.currentTimeMillis
    // Only the answer to the open request counts: any other hash reply was not asked for.
    if (event._tag === "Hashes" && (event.peer !== active.id || hashDeadline === Infinity)) {
      yield* Sync.unrequested(sync, event.peer)
    } else if (event._tag === "Hashes") {
      hashDeadline = Infinity
      const { hashes } = event
      if (hashes.length === 0) return yield* new EmptyHashSet({ peer: active.id })
      if (hashes.length > sync.config.maxHashFetch) return yield* new BadPeer({ peer: active.id })
      const bannedAt = yield* sync.banList.firstBanned(hashes)
      if (bannedAt >= 0) {
        const banned = hashes[bannedAt]!
        queue.insert(hashes.slice(0, bannedAt + 1), active.id)
        const outcome = yield* BanProcedure.run(sync, active, banned)
        yield* Effect.logDebug("ban procedure ended", outcome).pipe(Effect.annotateLogs({ peer: active.id }))
        return yield* new InvalidChain({ peer: active.id, reason: `peer ${active.id} sent banned hash ${Hash.toHex(banned)}` })
      }
      // The common ancestor: the first hash whose block the chain has.
      const ancestor = yield* sync.store.firstKnown(hashes)
      const found = ancestor >= 0
      last = hashes[found ? ancestor : hashes.length - 1]!
      const inserted = queue.insert(found ? hashes.slice(0, ancestor) : hashes, active.id)
      if (inserted.length === 0 && !found) return yield* new BadPeer({ peer: active.id })
      if (found) {
        const common = yield* sync.store.get(last)
        queue.prepare(Option.match(common, { onNone: () => 0, onSome: (b) => b.number + 1 }))
        return
      }
      if (inserted.length < sync.config.minHashFetch) {
        return yield* new StallingPeer({ peer: active.id, hashes: inserted.length })
      }
      if (inserted.length >= 2) {
        const at = CheckRandom.below(sync.random, inserted.length - 1)
        CrossChecks.open(sync, active, inserted[at]!, inserted[at + 1]!, now)
      }
      Sync.requestHashes(sync, active, last)
      hashDeadline = now + sync.hashTTL
    }
    // A timeout, or the source left (dropped, disconnected): another peer whose head is queued takes over,
    // from the last hash received; after a timeout only once one was (the seed's rule), the source may be slow.
    const left = sync.peers.get(active.id) === undefined
    if (now >= hashDeadline || left) {
      const next = sync.peers.all().find((p) => !attempted.has(p.id) && queue.has(p.head))
      if (!next || (!last && !left)) return yield* new Timeout({ peer: active.id })
      yield* Effect.logDebug("hash fetch switched peers", { from: active.id, to: next.id })
      active = next
      attempted.add(next.id)
      Sync.requestHashes(sync, active, last ?? head)
      hashDeadline = now + sync.hashTTL
    }
  }
})
