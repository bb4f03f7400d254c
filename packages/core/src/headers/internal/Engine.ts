/**
 * The header-first engine: a registry of peers that outlives syncs, request ids from one counter
 * (never reused), answers matched to their request as they are handed in, and one sync at a time,
 * run on the caller's fiber as an actor (see Sync.ts) with the importer forked beside it. Whatever
 * ends a sync, its fibers stop first, its open requests are retired (answers to them are late, not
 * floods), then subscribers hear Done or Failed.
 *
 * @since 0.3.0
 */
import { Clock, Deferred, Duration, Effect, FiberSet, Metric, PubSub, type Scope, Stream } from "effect"
import { ChainStore } from "../../chain/ChainStore.ts"
import * as Hash from "../../chain/Hash.ts"
import { SealVerifier } from "../../chain/SealVerifier.ts"
import { BanList } from "../../sync/BanList.ts"
import { commitSize, DownloaderConfig } from "../../sync/DownloaderConfig.ts"
import type { Shape } from "../../sync/HeaderDownloader.ts"
import type { HeaderPeer } from "../../sync/HeaderPeer.ts"
import { Network } from "../../sync/Network.ts"
import {
  BannedHead,
  Busy,
  DuplicatePeer,
  type SyncError,
  Terminated,
  UnknownPeer,
  UnrequestedReplies
} from "../../sync/SyncError.ts"
import { SyncEvent } from "../../sync/SyncEvent.ts"
import * as SyncMetrics from "../../sync/SyncMetrics.ts"
import * as Importer from "../../sync/internal/Importer.ts"
import * as SyncEnding from "../../sync/internal/SyncEnding.ts"
import { HeaderConfig } from "../HeaderConfig.ts"
import * as Ancestor from "./Ancestor.ts"
import * as Download from "./Download.ts"
import * as Links from "./Links.ts"
import * as Sync from "./Sync.ts"

/** Events kept for a subscriber that stops reading; older ones give way to newer. */
const eventBacklog = 1024

/** Builds a header-first engine; its peers' sender fibers end with the scope. */
export const make: Effect.Effect<Shape, never, ChainStore | BanList | Network | Scope.Scope> = Effect.gen(function*() {
  const config = yield* DownloaderConfig
  const settings = yield* HeaderConfig
  const store = yield* ChainStore
  const banList = yield* BanList
  const network = yield* Network
  const verifier = yield* Effect.serviceOption(SealVerifier)
  /** Sync events for every subscriber. */
  const events = yield* PubSub.sliding<SyncEvent>(eventBacklog)
  /** The peers' sender fibers. */
  const senders = yield* FiberSet.make()
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
  /** Request ids handed out so far: the next request's id (never reused by this engine). */
  let requested = 0n

  /** Forgets a registered peer: its sender ends, and the running sync hears it left. */
  const forget = (id: string): boolean => {
    const link = registry.get(id)
    if (!link) return false
    registry.delete(id)
    Links.close(link)
    if (running) Sync.signal(running, { _tag: "Left", id })
    return true
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

  const register = (peer: HeaderPeer) =>
    Effect.gen(function*() {
      if (yield* banList.has(peer.head)) return yield* new BannedHead({ peer: peer.id, head: Hash.toHex(peer.head) })
      if (registry.has(peer.id)) return yield* new DuplicatePeer({ peer: peer.id })
      const link = yield* Links.make(peer)
      if (registry.has(peer.id)) return yield* new DuplicatePeer({ peer: peer.id })
      registry.set(peer.id, link)
      // A failed send drops this link's peer, not a later registration under the same id.
      link.sender = yield* FiberSet.run(
        senders,
        Links.sender(link, (error) => registry.get(peer.id) === link ? Effect.uninterruptible(drop(peer.id, error.message)) : Effect.void)
      )
      if (running) Sync.signal(running, { _tag: "Joined", id: peer.id })
      yield* Metric.update(SyncMetrics.peers, registry.size)
    })

  /** Counts an answer nobody asked for against the peer of `link`, dropping it past the limit. */
  const unrequested = (id: string, link: Links.Link): Effect.Effect<void> =>
    ++link.unrequested <= config.maxUnrequestedReplies
      ? Effect.void
      : drop(id, new UnrequestedReplies({ peer: id, replies: link.unrequested }).message)

  /** Matches an answer to its peer's open request and hands it to the sync that asked, if it still runs. */
  const deliver = (peer: string, id: bigint, message: Sync.Message & { readonly _tag: Links.Kind }) =>
    Effect.suspend((): Effect.Effect<void, UnknownPeer> => {
      const link = registry.get(peer)
      if (!link) return Effect.fail(new UnknownPeer({ peer }))
      const answer = Links.answer(link, id, message._tag)
      if (answer._tag === "Unrequested") return unrequested(peer, link)
      if (answer._tag === "Open" && running?.id === answer.open.sync) Sync.signal(running, message)
      return Effect.void
    })

  /** The phases of one sync in its own scope, the importer forked beside them. */
  const phases = (sync: Sync.Sync) =>
    Effect.gen(function*() {
      // Added first, so it runs last: after the importer has stopped.
      yield* Effect.addFinalizer(() => end(sync))
      if (!notified) {
        notified = true
        yield* Effect.logInfo("Block synchronisation started (header-first)")
      }
      for (const link of registry.values()) link.unrequested = 0
      yield* PubSub.publish(events, SyncEvent.Started({ peer: sync.origin }))
      yield* Effect.forkScoped(Importer.run({
        importQueue: sync.importQueue, store, chunkSize: commitSize(config), drop: sync.drop, report: (report) => Sync.signal(sync, report)
      }))
      const head = yield* Ancestor.head(sync)
      if (yield* store.has(head.hash)) return
      const ancestor = yield* Ancestor.find(sync, head.number)
      sync.phase = "blocks"
      yield* Download.run(sync, ancestor, head)
    }).pipe(Effect.scoped)

  /** Lets the sync go: its doors closed, its requests retired; its fibers have stopped. */
  const end = (sync: Sync.Sync) =>
    Effect.gen(function*() {
      yield* Sync.close(sync)
      yield* SyncEnding.resetMetrics
    })

  const synchronise = (peer: string, head: Hash.Hash): Effect.Effect<void, SyncError> =>
    Effect.gen(function*() {
      if (terminated) return yield* new Terminated()
      if (running) return yield* new Busy()
      if (yield* banList.has(head)) return yield* new BannedHead({ peer, head: Hash.toHex(head) })
      if (!registry.has(peer)) return yield* new UnknownPeer({ peer })
      const sync = yield* Sync.make({
        id: ++started,
        config,
        settings,
        store,
        banList,
        verifier,
        events,
        links: registry,
        nextId: () => ++requested,
        drop,
        origin: peer,
        head
      })
      // Building the sync yielded: the peer may have left, or another sync started, meanwhile.
      if (running) return yield* new Busy()
      if (!registry.has(peer)) return yield* new UnknownPeer({ peer })
      running = sync
      return yield* phases(sync).pipe(
        SyncEnding.report(events, {
          peer,
          imported: () => sync.progress.imported,
          canceled: () => Sync.canceled(sync),
          ended: sync.ended,
          release: () => {
            if (running === sync) running = undefined
          }
        }),
        Effect.annotateLogs({ sync: sync.id, peer }), Effect.withLogSpan("sync"))
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
      Effect.suspend(() => forget(id) ? Metric.update(SyncMetrics.peers, registry.size) : Effect.fail(new UnknownPeer({ peer: id }))),
    synchronise,
    synchroniseOrDrop: SyncEnding.orDrop(synchronise, drop),
    deliverHeaders: (peer, id, headers) => deliver(peer, id, { _tag: "Headers", peer, id, headers }),
    deliverBodies: (peer, id, bodies) => deliver(peer, id, { _tag: "Bodies", peer, id, bodies }),
    cancel,
    terminate: Effect.suspend(() => {
      terminated = true
      return cancel
    }),
    stats: Effect.map(Clock.currentTimeMillis, (now) => {
      const sync = running
      const importing = sync?.progress.pending ?? 0
      const queued = sync?.queued ?? 0
      const cached = sync?.cached ?? 0
      return {
        queued,
        cached,
        importing,
        eta: sync ? sync.progress.eta(now, queued + cached + importing) : Duration.zero
      }
    }),
    synchronising: Effect.sync(() => running !== undefined),
    subscribe: Effect.map(PubSub.subscribe(events), Stream.fromSubscription)
  }
})
