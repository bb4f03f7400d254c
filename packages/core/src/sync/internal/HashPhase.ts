/**
 * The hash phase: fetch the hash chain backwards from the sync peer's head until it meets a block
 * we have, cross-checking a random hash of each batch, and switching peers on a timeout.
 *
 * @since 0.1.0
 */
import { Clock, Effect, Option, Random } from "effect"
import * as BanProcedure from "./BanProcedure.ts"
import * as Hash from "../../chain/Hash.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"
import { BadPeer, CrossCheckFailed, EmptyHashSet, InvalidChain, StallingPeer, Timeout } from "../SyncError.ts"

/** Fetches hashes from `origin` starting at `head`; on success the queue holds every new hash. */
export const run = Effect.fnUntraced(function*(sync: Sync.Sync, origin: Peer, head: Hash.Hash) {
  const { queue, checks } = sync
  /** The peer hashes are taken from; replaced on a timeout. */
  let active = origin
  /** The last hash received: where the next request starts. */
  let last: Hash.Hash | undefined
  /** Peers already tried as the hash source. */
  const attempted = new Set([origin.id])
  /** When the open hash request times out. */
  let hashDeadline = (yield* Clock.currentTimeMillis) + sync.hashTTL

  queue.insert([head])
  yield* active.handle.requestHashes(head)
  while (true) {
    let deadline = hashDeadline
    for (const check of checks.values()) deadline = Math.min(deadline, check.expire)
    const message = yield* Sync.next(sync, deadline)
    const now = yield* Clock.currentTimeMillis
    switch (message._tag) {
      case "Hashes": {
        // Only the answer to the open request counts: other peers' and unasked replies are skipped.
        if (message.peer !== active.id || hashDeadline === Infinity) break
        hashDeadline = Infinity
        if (message.hashes.length === 0) return yield* new EmptyHashSet({ peer: active.id })
        if (message.hashes.length > sync.config.maxHashFetch) return yield* new BadPeer({ peer: active.id })
        const bannedAt = yield* sync.banList.firstBanned(message.hashes)
        if (bannedAt >= 0) {
          const banned = message.hashes[bannedAt]!
          queue.insert(message.hashes.slice(0, bannedAt + 1))
          const outcome = yield* BanProcedure.run(sync, active, banned)
          yield* Effect.logDebug(`ban procedure against ${active.id}: ${outcome}`)
          return yield* new InvalidChain({ peer: active.id, reason: `peer ${active.id} sent banned hash ${Hash.toHex(banned)}` })
        }
        // The common ancestor: the first hash whose block the chain has.
        const ancestor = yield* sync.store.firstKnown(message.hashes)
        const found = ancestor >= 0
        const hashes = found ? message.hashes.slice(0, ancestor) : message.hashes
        last = message.hashes[found ? ancestor : message.hashes.length - 1]!
        const inserted = queue.insert(hashes)
        if (inserted.length === 0 && !found) return yield* new BadPeer({ peer: active.id })
        if (found) {
          const common = yield* sync.store.get(last!)
          queue.prepare(Option.match(common, { onNone: () => 0, onSome: (b) => b.number + 1 }))
          return
        }
        if (inserted.length < sync.config.minHashFetch) {
          return yield* new StallingPeer({ peer: active.id, hashes: inserted.length })
        }
        if (inserted.length >= 2) {
          const at = yield* Random.nextIntBetween(0, inserted.length - 1, { halfOpen: true })
          const origin = inserted[at]!
          checks.set(Hash.key(origin), { peer: active.id, expire: now + sync.softTTL, parent: inserted[at + 1]! })
          yield* Sync.requestBlocks(sync, active, [origin], true)
        }
        yield* active.handle.requestHashes(last!)
        hashDeadline = now + sync.hashTTL
        break
      }
      case "Blocks": {
        // Only answers to this sync's cross-checks matter here; late replies to anything else are skipped.
        const asked = Sync.answered(sync, message)
        if (!asked?.check || asked.sync !== sync.id) break
        if (message.blocks.length === 0) {
          return yield* new CrossCheckFailed({ peer: message.peer, reason: `peer ${message.peer} has no block for a hash of its own chain` })
        }
        if (message.blocks.length !== 1) break
        const block = message.blocks[0]!
        const check = checks.get(block.key)
        if (!check) break
        if (!Hash.equals(block.header.parentHash, check.parent)) {
          return yield* new CrossCheckFailed({
            peer: check.peer,
            reason: `block ${Hash.toHex(block.hash)} names parent ${Hash.toHex(block.header.parentHash)}, the hash chain says ${Hash.toHex(check.parent)}`
          })
        }
        checks.delete(block.key)
        break
      }
      default:
        break
    }
    for (const [key, check] of checks) {
      if (now >= check.expire) {
        return yield* new CrossCheckFailed({ peer: check.peer, reason: `no block for ${Hash.toHex(Hash.fromKey(key))} in time` })
      }
    }
    if (now >= hashDeadline) {
      const next = sync.peers.all().find((p) => !attempted.has(p.id) && queue.has(p.head))
      if (!next || !last) return yield* new Timeout({ peer: active.id })
      yield* Effect.logDebug(`hash fetch switched from ${active.id} to ${next.id}`)
      active = next
      attempted.add(next.id)
      yield* active.handle.requestHashes(last)
      hashDeadline = now + sync.hashTTL
    }
  }
})
