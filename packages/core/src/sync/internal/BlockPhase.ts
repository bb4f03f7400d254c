/**
 * The block fetcher: hand out block requests whenever something changes (a delivery, an expiry, a
 * new peer, freed cache space), match deliveries to requests, feed the importer, and finish when
 * every block is imported. No fixed tick: the only timer is the next request expiry. eth/60 runs
 * it as a phase after the hash phase; eth/61 turns its rounds beside the hash stream (ForwardSync).
 *
 * @since 0.1.0
 */
import { Clock, Effect, Metric } from "effect"
import * as SyncMetrics from "../SyncMetrics.ts"
import { InvalidChain, NoPeers, PeersUnavailable } from "../SyncError.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"

/** Downloads every queued hash's block and waits until all are imported. */
export const run = Effect.fnUntraced(function*(sync: Sync.Sync) {
  while (true) {
    if (yield* round(sync, yield* Clock.currentTimeMillis, false)) return
    const event = yield* Sync.next(sync, deadline(sync))
    if (event._tag === "Blocks") yield* receive(sync, event)
  }
})

/**
 * One round of the block fetcher, run whenever something changed: feeds the importer, expires
 * requests, hands out new ones. True once every queued block is downloaded and imported.
 * `hashesComing`: whether more hashes are on their way (eth/61's hash stream has not ended).
 */
export const round = Effect.fnUntraced(function*(sync: Sync.Sync, now: number, hashesComing: boolean) {
  const { queue, peers } = sync
  yield* Sync.feedImporter(sync, hashesComing)
  // Without peers nothing more arrives; blocks already downloaded are still imported.
  if (peers.size === 0 && (queue.pending > 0 || queue.inFlight > 0)) return yield* new NoPeers()
  for (const id of queue.expire(now, sync.hardTTL)) {
    peers.get(id)?.demote()
    yield* Effect.logDebug("block request expired").pipe(Effect.annotateLogs({ peer: id }))
  }
  if (queue.pending > 0) {
    if (!queue.throttle()) {
      // Slow peers would hold the front of the cache window while fast ones wait: they are asked
      // only when nobody else has a request out.
      const best = peers.bestRoundTrip()
      const slow = (peer: Peer) =>
        best !== undefined && peer.roundTrip !== undefined && peer.roundTrip > best * sync.config.slowPeerFactor
      const available = peers.available(queue.requestsPerPeer)
      dispatch(sync, available.filter((peer) => !slow(peer)), now)
      if (queue.inFlight === 0) dispatch(sync, available.filter(slow), now)
      if (queue.inFlight === 0) {
        return yield* new PeersUnavailable({ peer: queue.pendingSource() ?? "", pending: queue.pending })
      }
    }
  } else if (queue.inFlight === 0 && !sync.progress.importing) {
    if (queue.cached === 0) return true
    // Everything arrived, yet blocks wait behind a gap: the hash chain skipped a block.
    return yield* new InvalidChain({
      peer: queue.gapSource() ?? "",
      reason: `${queue.cached} downloaded blocks do not follow the chain: the hash chain has a gap`
    })
  }
  yield* Effect.all([
    Metric.update(SyncMetrics.queued, queue.queued),
    Metric.update(SyncMetrics.cached, queue.cached),
    Metric.update(SyncMetrics.inFlight, queue.inFlight)
  ], { discard: true })
  return false
})

/** When the block fetcher must look again without being woken: the next request expiry (Clock millis). */
export const deadline = (sync: Sync.Sync): number => sync.queue.nextExpiry(sync.hardTTL) ?? Infinity

/** Takes blocks answering one of the sync's requests, from a peer still in the sync. */
export const receive = (sync: Sync.Sync, event: Extract<Sync.Event, { _tag: "Blocks" }>) => {
  const peer = sync.peers.get(event.peer)
  return peer ? deliver(sync, peer, event) : Effect.void
}

/**
 * Hands `peers` requests of up to their capacity while the cache has room: each its first, then
 * each its second, and so on up to requestsPerPeer, so every peer is busy before one gets two.
 */
const dispatch = (sync: Sync.Sync, peers: ReadonlyArray<Peer>, now: number): void => {
  for (let slot = 0; slot < sync.queue.requestsPerPeer; slot++) {
    for (const peer of peers) {
      if (sync.queue.throttle()) return
      if (peer.open > slot) continue
      const request = sync.queue.reserve(peer, peer.capacity, now)
      if (request) Sync.requestBlocks(sync, peer, request)
    }
  }
}

/** Matches a delivery to the request it answers and adjusts the peer, as the seed's table says. */
const deliver = Effect.fnUntraced(function*(sync: Sync.Sync, peer: Peer, event: Extract<Sync.Event, { _tag: "Blocks" }>) {
  const now = yield* Clock.currentTimeMillis
  const { blocks } = event
  const result = sync.queue.deliver(peer, blocks, event.request)
  const idle = (stored: number) => {
    const elapsed = peer.setIdle(now, stored, sync.tuning)
    return stored > 0 ? Metric.update(SyncMetrics.roundTrip, elapsed) : Effect.void
  }
  switch (result._tag) {
    case "Accepted":
      if (blocks.length === 0) peer.demote()
      else peer.promote()
      return yield* idle(result.stored)
    case "InvalidChain":
      return yield* new InvalidChain({
        peer: result.source,
        reason: `block ${result.number} (delivered by ${peer.id}) has no place in the download window: the hash chain is out of order`
      })
    case "WrongHashChain":
      return yield* new InvalidChain({ peer: result.source, reason: `${result.reason} (hashes from ${result.source})` })
    case "NoFetchesPending":
      // A late answer to an expired request: it was slow, so it is measured (once: the peer may be busy again).
      peer.demote()
      if (peer.open > 0) yield* idle(0)
      return
    case "Stale":
      return yield* Sync.unrequested(sync, peer.id)
    case "Partial":
      yield* idle(result.stored)
      return yield* Sync.unrequested(sync, peer.id)
  }
})
