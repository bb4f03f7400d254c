/**
 * The common ancestor of our chain and an eth/61 peer's, found as go-ethereum 1.0 finds it: the
 * peer is asked for its hashes of our last maxHashesFromNumber heights, and the highest one we hold
 * is the ancestor; when we hold none, a binary search below them with one-hash requests. A reply
 * of the wrong length or a hash at a height where we do not hold it is BadPeer, an empty first
 * reply EmptyHashSet, no reply in time (or the peer gone) Timeout. It keeps no more than one reply.
 *
 * @since 0.2.0
 */
import { Clock, Effect, Option } from "effect"
import type * as Hash from "../../chain/Hash.ts"
import { BadPeer, EmptyHashSet, Timeout } from "../SyncError.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"

/** The highest block both chains hold. */
export interface Ancestor {
  /** Its height. */
  readonly number: number
  /** Its hash. */
  readonly hash: Hash.Hash
}

/** Finds the common ancestor with `peer`. */
export const find = Effect.fnUntraced(function*(sync: Sync.Sync, peer: Peer) {
  const head = (yield* sync.store.head).block.number
  const from = Math.max(0, head - sync.config.maxHashesFromNumber + 1)
  const count = head - from + 1
  const recent = yield* ask(sync, peer, from, count)
  if (recent.length === 0) return yield* new EmptyHashSet({ peer: peer.id })
  if (recent.length > count) return yield* bad(peer, `${recent.length} hashes for ${count} heights`)
  // The highest hash of the reply that we hold, if any: one store call for the whole reply.
  const reversed = [...recent].reverse()
  const known = yield* sync.store.firstKnown(reversed)
  if (known >= 0) {
    const number = from + recent.length - 1 - known
    yield* expectHeight(sync, peer, reversed[known]!, number)
    return { number, hash: reversed[known]! }
  }
  let start: Ancestor = { number: 0, hash: sync.store.genesis.hash }
  let end = from
  while (start.number + 1 < end) {
    const check = Math.floor((start.number + end) / 2)
    const reply = yield* ask(sync, peer, check, 1)
    if (reply.length !== 1) return yield* bad(peer, `${reply.length} hashes for the one of height ${check}`)
    const hash = reply[0]!
    if (yield* sync.store.has(hash)) {
      yield* expectHeight(sync, peer, hash, check)
      start = { number: check, hash }
    } else {
      end = check
    }
  }
  return start
})

/** BadPeer for `peer`, logging why. */
const bad = (peer: Peer, reason: string) =>
  Effect.andThen(
    Effect.logDebug(`ancestor search: ${reason}`).pipe(Effect.annotateLogs({ peer: peer.id })),
    Effect.fail(new BadPeer({ peer: peer.id }))
  )

/** Fails with BadPeer unless the block of `hash`, which we hold, is at `height`, where the peer put it. */
const expectHeight = (sync: Sync.Sync, peer: Peer, hash: Hash.Hash, height: number) =>
  Effect.flatMap(sync.store.header(hash), (header) =>
    Option.isSome(header) && header.value.number !== height
      ? bad(peer, `a hash of height ${header.value.number} given for height ${height}`)
      : Effect.void)

/** Asks `peer` for the hashes of `count` heights from `from` and waits for its answer. */
const ask = (sync: Sync.Sync, peer: Peer, from: number, count: number) =>
  Effect.gen(function*() {
    Sync.requestHashesFromNumber(sync, peer, from, count)
    const deadline = (yield* Clock.currentTimeMillis) + sync.hashTTL
    while (true) {
      const event = yield* Sync.next(sync, deadline)
      if (event._tag === "Tick" || sync.peers.get(peer.id) === undefined) return yield* new Timeout({ peer: peer.id })
      if (event._tag !== "Hashes") continue
      // Only this request of this sync is open: any other answer is an earlier sync's (ignored) or nobody's.
      if (event.asked === undefined) yield* Sync.unrequested(sync, event.peer)
      else if (event.asked === sync.id && event.peer === peer.id) return event.hashes
    }
  })
