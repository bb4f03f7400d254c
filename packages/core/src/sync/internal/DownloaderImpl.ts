/**
 * The downloader: a registry of peers that outlives syncs, and one sync at a time, run on the
 * caller's fiber as an actor (see Sync.ts) with the importer forked beside it in the sync's own
 * scope: forward by number (ForwardSync) when the origin peer speaks eth/61, the seed's hash and
 * block phases when it speaks eth/60. Whatever ends a sync (success, a peer's fault, a defect, a
 * cancel, the caller's interruption), its fibers stop first, then the queue, reservations and
 * cache are emptied, then subscribers hear Done or Failed.
 *
 * @since 0.1.0
 */
import { Clock, Deferred, Duration, Effect, FiberSet, Metric, PubSub, Queue, type Scope, Stream } from "effect"
import { ChainStore } from "../../chain/ChainStore.ts"
import * as Hash from "../../chain/Hash.ts"
import { BanList } from "../BanList.ts"
import { CheckRandom } from "../CheckRandom.ts"
import type { Shape } from "../Downloader.ts"
import { commitSize, DownloaderConfig } from "../DownloaderConfig.ts"
import { Network } from "../Network.ts"
import type { PeerHandle } from "../PeerHandle.ts"
import * as SyncMetrics from "../SyncMetrics.ts"
import {
  BannedHead,
  Busy,
  DuplicatePeer,
  NoSyncActive,
  type SyncError,
  Terminated,
  UnknownPeer
} from "../SyncError.ts"
import { SyncEvent } from "../SyncEvent.ts"
import * as BlockPhase from "./BlockPhase.ts"
import { DownloadQueue } from "./DownloadQueue.ts"
import * as ForwardSync from "./ForwardSync.ts"
import * as HashPhase from "./HashPhase.ts"
import * as Importer from "./Importer.ts"
import { PeerSet } from "./PeerSet.ts"
import * as Links from "./Links.ts"
import * as Sync from "./Sync.ts"
import * as SyncEnding from "./SyncEnding.ts"

/** Events kept for a subscriber that stops reading; older ones give way to newer. */
const eventBacklog = 1024

/** Builds a downloader; its peers' sender fibers end with the scope. */
export const make: Effect.Effect<Shape, never, ChainStore | BanList | Network | Scope.Scope> = Effect.gen(function*() {
  const config = yield* DownloaderConfig
  const store = yield* ChainStore
  const banList = yield* BanList
  const network = yield* Network
  const random = yield* CheckRandom
  /** Sync events for every subscriber. */
  const events = yield* PubSub.sliding<SyncEvent>(eventBacklog)
  /** The peers' sender fibers. */
  const senders = yield* FiberSet.make()
  /** The scheduler, reset at the start and end of every sync; written only by the running sync. */
  const queue = new DownloadQueue(config.blockCacheLimit, config.requestsPerPeer)
  /** Registered peers by id, in registration order; they outlive syncs. */
  const registry = new Map<string, Links.Link>()
  /** The sync in progress, if any. */
  let running: Sync.Sync | undefined
  /** Set by terminate: no sync runs again. */
  let terminated = false
  /** Whether the one-time "sync started" notice was logged. */
  let notified = false
  /** Syncs started so far: the next sync's id. */
  let started = 0

  /** Forgets a registered peer: its sender ends, and the running sync hears it left. */
  const forget = (id: string): Links.Link | undefined => {
    const link = registry.get(id)
    if (!link) return undefined
    registry.delete(id)
    Links.close(link)
    if (running) Sync.signal(running, { _tag: "PeerLeft", id })
    return link
  }

  /** Drops a misbehaving peer: unregisters it and has the network disconnect it (once). */
  const drop = (id: string, reason: string): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (!forget(id)) return Effect.void
      return Effect.andThen(
        Effect.all([Metric.update(SyncMetrics.peersDropped, 1), Metric.update(SyncMetrics.peers, registry.size)]),
        network.disconnect(id, reason)
      ).pipe(Effect.annotateLogs({ peer: id }))
    })

  const register = (handle: PeerHandle) =>
    Effect.gen(function*() {
      if (yield* banList.has(handle.head)) return yield* new BannedHead({ peer: handle.id, head: Hash.toHex(handle.head) })
      if (registry.has(handle.id)) return yield* new DuplicatePeer({ peer: handle.id })
      const link = yield* Links.link(handle, config.maxBlockFetch)
      if (registry.has(handle.id)) return yield* new DuplicatePeer({ peer: handle.id })
      registry.set(handle.id, link)
      // A failed send drops this link's peer, not a later registration under the same id; the drop
      // runs to its end although it stops this very sender.
      link.sender = yield* FiberSet.run(
        senders,
        Links.sender(link, (error) => registry.get(handle.id) === link ? Effect.uninterruptible(drop(handle.id, error.message)) : Effect.void)
      )
      if (running) Sync.signal(running, { _tag: "PeerJoined", peer: link.peer })
      yield* Metric.update(SyncMetrics.peers, registry.size)
    })

  /** The phases of one sync in its own scope, the importer forked beside them. */
  const phases = (sync: Sync.Sync, peer: string, origin: Links.Link, head: Hash.Hash) =>
    Effect.gen(function*() {
      // Added first, so it runs last: after the importer has stopped.
      yield* Effect.addFinalizer(() => end(sync))
      if (!notified) {
        notified = true
        yield* Effect.logInfo("Block synchronisation started")
      }
      queue.reset()
      for (const link of registry.values()) {
        link.peer.reset()
        sync.peers.add(link.peer)
      }
      yield* PubSub.publish(events, SyncEvent.Started({ peer }))
      yield* Effect.forkScoped(Importer.run({
        importQueue: sync.importQueue, store, chunkSize: commitSize(config), drop: sync.drop, report: (report) => Sync.signal(sync, report)
      }))
      if (origin.handle.version >= 61) {
        const claimed = (yield* network.peers).find((connected) => connected.id === peer)
        return yield* ForwardSync.run(sync, origin.peer, claimed?.td ?? 0n)
      }
      // eth/60: the seed's algorithm, which holds the whole hash chain before the first block by design.
      yield* HashPhase.run(sync, origin.peer, head)
      sync.phase = "blocks"
      yield* BlockPhase.run(sync)
    }).pipe(Effect.scoped)

  /** Empties what the sync held and lets it go; its fibers have stopped. */
  const end = (sync: Sync.Sync) =>
    Effect.gen(function*() {
      queue.reset()
      yield* Sync.close(sync)
      yield* SyncEnding.resetMetrics
    })

  const synchronise = (peer: string, head: Hash.Hash): Effect.Effect<void, SyncError> =>
    Effect.gen(function*() {
      if (terminated) return yield* new Terminated()
      if (running) return yield* new Busy()
      if (yield* banList.has(head)) return yield* new BannedHead({ peer, head: Hash.toHex(head) })
      const origin = registry.get(peer)
      if (!origin) return yield* new UnknownPeer({ peer })
      const sync = yield* Sync.make({
        id: ++started,
        config,
        queue,
        peers: new PeerSet(),
        store,
        banList,
        events,
        random,
        send: (id, request) => {
          const link = registry.get(id)
          if (link) Queue.offerUnsafe(link.outbox, request)
        },
        drop
      })
      // Building the sync yielded: the peer may have left, or another sync started, meanwhile.
      if (running) return yield* new Busy()
      if (registry.get(peer) !== origin) return yield* new UnknownPeer({ peer })
      running = sync
      return yield* phases(sync, peer, origin, head).pipe(
        SyncEnding.report(events, {
          peer,
          imported: () => sync.progress.imported,
          canceled: () => Sync.canceled(sync),
          ended: sync.ended,
          release: () => {
            if (running === sync) running = undefined
          }
        }),
        Effect.annotateLogs({ sync: sync.id, peer }),
        Effect.withLogSpan("sync")
      )
    })

  /** Hands a delivery to the running sync, or fails with NoSyncActive. */
  const deliver = (delivery: Sync.Delivery) =>
    Effect.suspend(() => {
      const current = running
      if (!current) return Effect.fail(new NoSyncActive())
      return Effect.flatMap(Sync.post(current, delivery), (accepted) => accepted ? Effect.void : Effect.fail(new NoSyncActive()))
    })

  /** Stops the running sync, if any, and waits until it has cleaned up. */
  const cancel = Effect.suspend(() => {
    const current = running
    if (!current) return Effect.void
    Sync.signal(current, { _tag: "Cancel" })
    return Deferred.await(current.ended)
  })

  return {
    registerPeer: register,
    unregisterPeer: (id) =>
      Effect.suspend(() =>
        forget(id) ? Metric.update(SyncMetrics.peers, registry.size) : Effect.fail(new UnknownPeer({ peer: id }))
      ),
    synchronise,
    synchroniseOrDrop: SyncEnding.orDrop(synchronise, drop),
    deliverHashes: (peer, hashes) =>
      Effect.suspend((): Effect.Effect<void, NoSyncActive | UnknownPeer> => {
        const link = registry.get(peer)
        // Every BlockHashes message answers the peer's oldest open hash request, whether or not a sync runs.
        const asked = link && Links.answeredHashes(link)
        return link || !running ? deliver({ _tag: "Hashes", peer, hashes, asked }) : Effect.fail(new UnknownPeer({ peer }))
      }),
    deliverBlocks: (peer, blocks) =>
      Effect.suspend((): Effect.Effect<void, NoSyncActive | UnknownPeer> => {
        const link = registry.get(peer)
        // Every Blocks message answers the peer's oldest open request, whether or not a sync runs.
        const asked = link && Links.answered(link)
        return link || !running ? deliver({ _tag: "Blocks", peer, blocks, asked }) : Effect.fail(new UnknownPeer({ peer }))
      }),
    cancel,
    terminate: Effect.suspend(() => {
      terminated = true
      return cancel
    }),
    stats: Effect.map(Clock.currentTimeMillis, (now) => {
      const sync = running
      const importing = sync?.progress.pending ?? 0
      const left = queue.queued + queue.cached + importing
      return {
        queued: queue.queued,
        cached: queue.cached,
        importing,
        eta: sync ? sync.progress.eta(now, left) : Duration.zero
      }
    }),
    has: (hash) => Effect.sync(() => queue.has(hash)),
    synchronising: Effect.sync(() => running !== undefined),
    subscribe: Effect.map(PubSub.subscribe(events), Stream.fromSubscription)
  }
})
