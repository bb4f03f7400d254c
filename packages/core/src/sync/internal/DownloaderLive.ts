/**
 * The downloader: one sync at a time, run as a fiber whose phases (hashes, then blocks with the
 * importer beside them) share a mailbox of deliveries. Cancel interrupts that fiber; whatever ends
 * the sync, the queue, the reservations and the cache are emptied.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Duration, Effect, Exit, Fiber, Layer, Metric, PubSub, Queue, Stream } from "effect"
import { BanList } from "../BanList.ts"
import * as BlockPhase from "./BlockPhase.ts"
import { ChainStore } from "../../chain/ChainStore.ts"
import { Downloader } from "../Downloader.ts"
import { DownloaderConfig } from "../DownloaderConfig.ts"
import { DownloadQueue } from "./DownloadQueue.ts"
import * as Hash from "../../chain/Hash.ts"
import * as HashPhase from "./HashPhase.ts"
import * as Importer from "./Importer.ts"
import { PeerDropper } from "../PeerDropper.ts"
import { type Peer, PeerSet } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"
import * as SyncMetrics from "../SyncMetrics.ts"
import {
  BannedHead,
  BlockFetchCanceled,
  Busy,
  dropsPeer,
  DuplicatePeer,
  HashFetchCanceled,
  NoSyncActive,
  type SyncError,
  Terminated,
  UnknownPeer
} from "../SyncError.ts"
import { SyncEvent } from "../SyncEvent.ts"

/** A sync in progress, as the public face sees it. */
interface Running {
  /** The sync's state. */
  readonly sync: Sync.Sync
  /** Its fiber, once forked; cancel interrupts it. */
  fiber: Fiber.Fiber<void, SyncError> | undefined
}

/** Builds a downloader from the chain store, ban list, peer dropper and configuration in context. */
export const make = Effect.gen(function*() {
  const config = yield* DownloaderConfig
  const store = yield* ChainStore
  const banList = yield* BanList
  const dropper = yield* PeerDropper
  /** Sync events for every subscriber. */
  const events = yield* PubSub.unbounded<SyncEvent>()
  /** The scheduler, reset at the start and end of every sync. */
  const queue = new DownloadQueue(config.blockCacheLimit)
  /** Registered peers; they outlive syncs. */
  const peers = new PeerSet(config.maxBlockFetch)
  /** The sync in progress, if any. */
  let running: Running | undefined
  /** Set by terminate: no sync runs again and the importer stops. */
  let terminated = false
  /** Whether the one-time "sync started" notice was logged. */
  let notified = false
  /** Syncs started so far: the next sync's id. */
  let started = 0

  /** Stops the running sync, if any (its finalizer empties the queue), else empties the queue. */
  const cancel = Effect.suspend(() => {
    const current = running
    if (!current) return Effect.sync(() => queue.reset())
    current.sync.canceled = true
    return current.fiber ? Fiber.interrupt(current.fiber) : Effect.void
  })

  /** The phases of one sync, with the importer forked beside them. */
  const phases = (sync: Sync.Sync, origin: Peer, head: Hash.Hash) =>
    Effect.gen(function*() {
      yield* Effect.forkScoped(Importer.run(sync))
      yield* HashPhase.run(sync, origin, head)
      sync.phase = "blocks"
      yield* BlockPhase.run(sync)
    }).pipe(Effect.scoped)

  const synchronise = (peer: string, head: Hash.Hash): Effect.Effect<void, SyncError> =>
    Effect.gen(function*() {
      if (terminated) return yield* new Terminated()
      if (running) return yield* new Busy()
      const sync = yield* Sync.make(config, { id: ++started, queue, peers, store, banList, dropper, events })
      if (running) return yield* new Busy()
      const current: Running = { sync, fiber: undefined }
      running = current
      return yield* Effect.gen(function*() {
        if (yield* banList.has(head)) return yield* new BannedHead({ head: Hash.toHex(head) })
        if (!notified) {
          notified = true
          yield* Effect.logInfo("Block synchronisation started")
        }
        queue.reset()
        peers.reset()
        const origin = peers.get(peer)
        if (!origin) return yield* new UnknownPeer({ peer })
        yield* PubSub.publish(events, SyncEvent.Started({ peer }))
        const fiber = yield* Effect.forkChild(phases(sync, origin, head), { startImmediately: true })
        current.fiber = fiber
        if (sync.canceled) yield* Fiber.interrupt(fiber) // canceled while the sync was being set up
        const exit = yield* Fiber.await(fiber)
        if (Exit.isSuccess(exit)) {
          yield* PubSub.publish(events, SyncEvent.Done({ peer, imported: sync.imported }))
          return
        }
        const error = failureOf(exit.cause, sync)
        if (error === undefined) return yield* Effect.failCause(exit.cause)
        yield* PubSub.publish(events, SyncEvent.Failed({ peer, error }))
        return yield* error
      }).pipe(Effect.ensuring(Effect.suspend(() => {
        running = undefined
        queue.reset()
        peers.reset()
        return Effect.andThen(Queue.shutdown(sync.mailbox), Metric.update(SyncMetrics.syncsEnded, 1))
      })))
    })

  /** Offers a delivery to the running sync, or fails with NoSyncActive. */
  const deliver = (message: Sync.Message) =>
    Effect.suspend(() => {
      const current = running
      if (!current) return Effect.fail(new NoSyncActive())
      return Effect.flatMap(Queue.offer(current.sync.mailbox, message), (accepted) =>
        accepted ? Effect.void : Effect.fail(new NoSyncActive()))
    })

  /** Wakes the running sync, if any, after a change it should look at. */
  const wakeRunning = Effect.suspend(() => running ? Sync.wake(running.sync) : Effect.void)

  return Downloader.of({
    registerPeer: (handle) =>
      Effect.gen(function*() {
        if (yield* banList.has(handle.head)) return yield* new BannedHead({ head: Hash.toHex(handle.head) })
        const added = peers.register(handle)
        if (added instanceof DuplicatePeer) return yield* added
        yield* wakeRunning
      }),
    unregisterPeer: (id) =>
      Effect.gen(function*() {
        const removed = peers.unregister(id)
        if (removed instanceof UnknownPeer) return yield* removed
        queue.cancelPeer(id)
        yield* wakeRunning
      }),
    synchronise,
    synchroniseOrDrop: (peer, head) =>
      synchronise(peer, head).pipe(
        Effect.as(undefined),
        Effect.catch((error: SyncError) =>
          dropsPeer(error)
            ? Effect.as(Effect.andThen(dropper.drop(culprit(error, peer), error.message), Metric.update(SyncMetrics.peersDropped, 1)), error)
            : Effect.succeed(error))
      ),
    deliverHashes: (peer, hashes) => deliver({ _tag: "Hashes", peer, hashes }),
    deliverBlocks: (peer, blocks) => deliver({ _tag: "Blocks", peer, blocks }),
    cancel,
    terminate: Effect.suspend(() => {
      terminated = true
      return cancel
    }),
    stats: Effect.map(Clock.currentTimeMillis, (now) => {
      const sync = running?.sync
      const importing = sync ? sync.importBatch - sync.importDone : 0
      const done = sync?.importDone ?? 0
      const left = queue.queued + queue.cached + importing
      return {
        pending: queue.queued,
        cached: queue.cached,
        importing,
        eta: done > 0 ? Duration.millis(((now - sync!.importStart) / done) * left) : Duration.zero
      }
    }),
    has: (hash) => Effect.sync(() => queue.has(hash)),
    synchronising: Effect.sync(() => running !== undefined),
    subscribe: Effect.map(PubSub.subscribe(events), Stream.fromSubscription)
  })
})

/** The peer a dropping error blames: the one it names (the hash source may have changed), else the sync peer. */
const culprit = (error: SyncError, syncPeer: string): string =>
  "peer" in error && error.peer !== undefined ? error.peer : syncPeer

/** The sync error an ended sync reports: its failure, or a cancel error for the phase it was in. */
const failureOf = (cause: Cause.Cause<SyncError>, sync: Sync.Sync): SyncError | undefined => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure) return failure.error
  if (sync.canceled) return sync.phase === "hashes" ? new HashFetchCanceled() : new BlockFetchCanceled()
  return undefined
}

/** The downloader as a layer; needs a ChainStore, a BanList and a PeerDropper. */
export const layer: Layer.Layer<Downloader, never, ChainStore | BanList | PeerDropper> = Layer.effect(Downloader, make)
