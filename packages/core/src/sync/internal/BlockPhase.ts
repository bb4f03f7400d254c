/**
 * The block phase: hand out block requests whenever something changes (a delivery, an expiry, a
 * new peer, freed cache space), match deliveries to requests, and finish when every block is
 * imported. No fixed tick: the only timer is the next request expiry.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"
import type * as Block from "../../chain/Block.ts"
import * as Hash from "../../chain/Hash.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"
import { InvalidChain, NoPeers, PeersUnavailable } from "../SyncError.ts"

/** Downloads every queued hash's block and waits until all are imported. */
export const run = Effect.fnUntraced(function*(sync: Sync.Sync) {
  const { queue, peers } = sync
  while (true) {
    const now = yield* Clock.currentTimeMillis
    if (sync.importError) return yield* sync.importError
    if (peers.size === 0) return yield* new NoPeers()
    for (const id of queue.expire(now, sync.hardTTL)) {
      peers.get(id)?.demote()
      yield* Effect.logDebug(`peer ${id}: block request expired`)
    }
    if (queue.pending > 0) {
      if (!queue.throttle()) {
        // Slow peers would hold the front of the cache window while fast ones wait: they are asked
        // only when nobody else has a request out.
        const best = peers.bestRoundTrip()
        const slow = (peer: Peer) =>
          best !== undefined && peer.roundTrip !== undefined && peer.roundTrip > best * sync.config.slowPeerFactor
        const idle = peers.idle()
        yield* dispatch(sync, idle.filter((peer) => !slow(peer)), now)
        if (queue.inFlight === 0) yield* dispatch(sync, idle.filter(slow), now)
        if (queue.inFlight === 0) return yield* new PeersUnavailable({ pending: queue.pending })
      }
    } else if (queue.inFlight === 0 && !sync.importing) {
      if (queue.cached === 0) return
      // Everything arrived, yet blocks wait behind a gap: the hash chain skipped a block.
      return yield* new InvalidChain({ reason: `${queue.cached} downloaded blocks do not follow the chain: the hash chain has a gap` })
    }
    const message = yield* Sync.next(sync, queue.nextExpiry(sync.hardTTL) ?? Infinity)
    if (message._tag !== "Blocks") continue
    Sync.answered(sync, message)
    const peer = peers.get(message.peer)
    if (peer) yield* deliver(sync, peer, message.blocks)
    else if (message.blocks.length === 1) sync.checks.delete(Hash.key(message.blocks[0]!.hash))
  }
})

/** Hands each of `peers` in turn a request of up to its capacity, while the cache has room. */
const dispatch = Effect.fnUntraced(function*(sync: Sync.Sync, peers: ReadonlyArray<Peer>, now: number) {
  for (const peer of peers) {
    if (sync.queue.throttle()) return
    const request = sync.queue.reserve(peer, peer.capacity, now)
    if (!request) continue
    peer.fetching(now)
    yield* Sync.requestBlocks(sync, peer, Array.from(request.hashes.values(), (e) => e.hash), false)
  }
})

/** Matches a delivery to the peer's request and adjusts the peer, as the seed's table says. */
const deliver = Effect.fnUntraced(function*(sync: Sync.Sync, peer: Peer, blocks: ReadonlyArray<Block.Block>) {
  if (blocks.length === 1 && sync.checks.delete(Hash.key(blocks[0]!.hash))) return
  const now = yield* Clock.currentTimeMillis
  const result = sync.queue.deliver(peer, blocks)
  const idle = () => peer.setIdle(now, "stored" in result ? result.stored : 0, sync.tuning)
  switch (result._tag) {
    case "Accepted":
      if (blocks.length === 0) {
        peer.demote()
        idle()
      } else {
        peer.promote()
        idle()
        yield* Sync.wakeImporter(sync)
      }
      return
    case "InvalidChain":
      return yield* new InvalidChain({
        reason: `block ${result.number} (delivered by ${peer.id}) has no place in the download window: the hash chain is out of order`
      })
    case "NoFetchesPending":
      // A late answer to an expired request is measured (it was slow); one to no request at all is not.
      peer.demote()
      if (peer.idle) return
      idle()
      return
    case "Stale":
      peer.demote()
      return
    case "Partial":
      peer.demote()
      idle()
      yield* Sync.wakeImporter(sync)
      return
  }
})
