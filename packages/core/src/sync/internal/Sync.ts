/**
 * One running sync as an actor: its state is written only by the sync's own fiber, which takes
 * everything that concerns it from its mailbox: deliveries (through a bounded inbox per peer, so a
 * flooding peer waits in its own deliver call and cannot push others' replies back), peers joining
 * and leaving, a cancel, and the importer's reports. API callers only post and read.
 *
 * @since 0.1.0
 */
import { Clock, Deferred, Duration, Effect, PubSub, Queue, type Random } from "effect"
import type * as Block from "../../chain/Block.ts"
import type * as ChainStore from "../../chain/ChainStore.ts"
import type * as Hash from "../../chain/Hash.ts"
import type * as BanList from "../BanList.ts"
import type { Config } from "../DownloaderConfig.ts"
import {
  BlockFetchCanceled,
  type CrossCheckFailed,
  HashFetchCanceled,
  type ImportFailed,
  UnrequestedReplies
} from "../SyncError.ts"
import { SyncEvent } from "../SyncEvent.ts"
import * as CrossChecks from "./CrossChecks.ts"
import type { Cached, DownloadQueue, Request } from "./DownloadQueue.ts"
import type { Peer, PeerSet, Tuning } from "./PeerSet.ts"
import { ImportProgress } from "./ImportProgress.ts"
import * as Mailbox from "./Mailbox.ts"
import type * as Importer from "./Importer.ts"
import type { Asked, Outgoing } from "./Links.ts"

/** A reply from a peer, as its deliver call hands it in. */
export type Delivery =
  /** Hashes from a peer, with the sync whose request they answer by the peer's request order (none: unrequested). */
  | { readonly _tag: "Hashes"; readonly peer: string; readonly hashes: ReadonlyArray<Hash.Hash>; readonly asked: number | undefined }
  /** Blocks from a peer, with the request they answer by the peer's request order (none: unrequested). */
  | { readonly _tag: "Blocks"; readonly peer: string; readonly blocks: ReadonlyArray<Block.Block>; readonly asked: Asked | undefined }

/** What arrives in a sync's mailbox. */
export type Message =
  /** A delivery from `peer` waits in its inbox. */
  | { readonly _tag: "Inbox"; readonly peer: string }
  /** A peer registered during the sync. */
  | { readonly _tag: "PeerJoined"; readonly peer: Peer }
  /** A peer unregistered (or was dropped) during the sync. */
  | { readonly _tag: "PeerLeft"; readonly id: string }
  /** Stop, reporting the cancel for the phase the sync is in. */
  | { readonly _tag: "Cancel" }
  /** What the importer reports. */
  | Importer.Report

/** What a phase is woken by. */
export type Event =
  /** Hashes from a peer, with the sync whose request they answer (none: unrequested). */
  | { readonly _tag: "Hashes"; readonly peer: string; readonly hashes: ReadonlyArray<Hash.Hash>; readonly asked: number | undefined }
  /** Blocks answering `request`, one of this sync's block requests (not a cross-check). */
  | { readonly _tag: "Blocks"; readonly peer: string; readonly blocks: ReadonlyArray<Block.Block>; readonly request: Request }
  /** Something changed (a peer came or went, the importer went idle): look again. */
  | { readonly _tag: "Changed" }
  /** The deadline passed. */
  | { readonly _tag: "Tick" }

/** The phase a sync is in, so a cancel reports the right error. */
export type Phase = "hashes" | "blocks"

/** Why a sync stops on its own: the errors `next` can end it with. */
export type Stop = HashFetchCanceled | BlockFetchCanceled | CrossCheckFailed | ImportFailed | ChainStore.StoreError

/** What a sync works with, given by the downloader. */
export interface Services {
  /** Tells this sync's requests from earlier syncs' in the peers' request orders. */
  readonly id: number
  /** The configuration in force. */
  readonly config: Config
  /** The downloader's scheduler (reset for this sync). */
  readonly queue: DownloadQueue
  /** The sync's view of the registered peers. */
  readonly peers: PeerSet
  /** The local chain. */
  readonly store: ChainStore.Shape
  /** The ban list. */
  readonly banList: BanList.Shape
  /** Where sync events are published. */
  readonly events: PubSub.PubSub<SyncEvent>
  /** Draws the hash to cross-check in each batch. */
  readonly random: Random.Random
  /** Puts a request into a registered peer's outbox (nothing happens for a peer that left). */
  readonly send: (peer: string, request: Outgoing) => void
  /** Drops a peer for misbehaving: unregisters it and disconnects it. */
  readonly drop: (peer: string, reason: string) => Effect.Effect<void>
}

/** Everything a running sync works with. */
export interface Sync extends Services {
  /** hashTTL in millis. */
  readonly hashTTL: number
  /** blockSoftTTL in millis. */
  readonly softTTL: number
  /** blockHardTTL in millis. */
  readonly hardTTL: number
  /** What sizes a peer's requests, in millis. */
  readonly tuning: Tuning
  /**
   * Notices and signals, in arrival order; shut down when the sync ends. Bound: one notice per
   * delivery waiting in an inbox (replyBacklog per peer), a join or leave per peer event, a cancel,
   * and the importer's reports of its one batch (a chunk each, within blockCacheLimit blocks).
   */
  readonly mailbox: Queue.Queue<Message>
  /** Each registered peer's deliveries not yet taken, at most config.replyBacklog each; a peer's goes when it leaves, all when the sync ends. */
  readonly inboxes: Map<string, Queue.Queue<Delivery>>
  /** Batches of downloaded blocks for the importer, one at a time (at most blockCacheLimit blocks). */
  readonly importQueue: Queue.Queue<ReadonlyArray<Cached>>
  /** Open cross-checks (eth/60): one per hash batch, each closed by its answer or its deadline within blockSoftTTL. */
  readonly checks: Set<CrossChecks.CrossCheck>
  /** Completed once the sync has ended and cleaned up. */
  readonly ended: Deferred.Deferred<void>
  /** Set when the sync's doors close: an inbox made later is shut at once. */
  closed: boolean
  /** The phase the sync is in. */
  phase: Phase
  /** Where the importer is. */
  readonly progress: ImportProgress
}

/** Builds the state of a new sync. */
export const make = (services: Services): Effect.Effect<Sync> =>
  Effect.gen(function*() {
    const { config } = services
    const hardTTL = Duration.toMillis(config.blockHardTTL)
    return {
      ...services,
      hashTTL: Duration.toMillis(config.hashTTL),
      softTTL: Duration.toMillis(config.blockSoftTTL),
      hardTTL,
      tuning: { maxBlockFetch: config.maxBlockFetch, hardTTL, targetRoundTrip: Duration.toMillis(config.targetRoundTrip) },
      mailbox: yield* Queue.unbounded<Message>(),
      inboxes: new Map(),
      importQueue: yield* Queue.bounded<ReadonlyArray<Cached>>(1),
      checks: new Set(),
      ended: yield* Deferred.make<void>(),
      closed: false,
      phase: "hashes",
      progress: new ImportProgress()
    }
  })

/**
 * Hands a delivery to the sync: into the peer's inbox (waiting while it is full: only this peer
 * waits), then a notice into the mailbox. False once the sync has ended.
 */
export const post = (sync: Sync, delivery: Delivery): Effect.Effect<boolean> =>
  Effect.gen(function*() {
    const inbox = yield* inboxOf(sync, delivery.peer)
    return (yield* Queue.offer(inbox, delivery)) && Queue.offerUnsafe(sync.mailbox, { _tag: "Inbox", peer: delivery.peer })
  })

/** The inbox of `peer`, made on its first delivery (shut at once if the sync has already ended). */
const inboxOf = (sync: Sync, peer: string): Effect.Effect<Queue.Queue<Delivery>> =>
  Effect.suspend(() => {
    const known = sync.inboxes.get(peer)
    if (known) return Effect.succeed(known)
    return Effect.map(Queue.bounded<Delivery>(sync.config.replyBacklog), (made) => {
      const inbox = sync.inboxes.get(peer) ?? made
      sync.inboxes.set(peer, inbox)
      if (sync.closed) Queue.shutdownUnsafe(inbox)
      return inbox
    })
  })

/** Posts a signal to the sync's mailbox (ignored once the sync has ended). */
export const signal = (sync: Sync, message: Message): void => void Queue.offerUnsafe(sync.mailbox, message)

/** Closes the sync's doors: later posts are refused and deliverers waiting for room are let go. */
export const close = (sync: Sync): Effect.Effect<void> =>
  Effect.sync(() => {
    sync.closed = true
    Queue.shutdownUnsafe(sync.mailbox)
    Queue.shutdownUnsafe(sync.importQueue)
    for (const inbox of sync.inboxes.values()) Queue.shutdownUnsafe(inbox)
  })

/** Sends `peer` a hash request. */
export const requestHashes = (sync: Sync, peer: Peer, from: Hash.Hash): void => sync.send(peer.id, { _tag: "Hashes", from, sync: sync.id })

/** Sends `peer` (eth/61) a request for the hashes of heights `from` .. `from + count - 1`. */
export const requestHashesFromNumber = (sync: Sync, peer: Peer, from: number, count: number): void =>
  sync.send(peer.id, { _tag: "HashesFromNumber", from, count, sync: sync.id })

/** Sends `peer` the block request reserved for it; its reply is matched to it by the peer's request order. */
export const requestBlocks = (sync: Sync, peer: Peer, request: Request): void => {
  peer.fetching(request.time)
  const hashes = Array.from(request.hashes.values(), (entry) => entry.hash)
  sync.send(peer.id, { _tag: "Blocks", hashes, asked: { _tag: "Download", sync: sync.id, request } })
}

/** Sends `peer` the one-block request of a cross-check; its reply is matched to it by the peer's request order. */
export const requestCheck = (sync: Sync, peer: Peer, check: CrossChecks.CrossCheck): void =>
  sync.send(peer.id, { _tag: "Blocks", hashes: [check.hash], asked: { _tag: "Check", sync: sync.id, check } })

/** Counts a reply nobody asked for against `peer`, dropping it past the limit; whether it was dropped. */
export const unrequested = (sync: Sync, id: string): Effect.Effect<boolean> =>
  Effect.suspend(() => {
    const peer = sync.peers.get(id)
    if (!peer) return Effect.succeed(false)
    peer.demote()
    if (++peer.unrequested <= sync.config.maxUnrequestedReplies) return Effect.succeed(false)
    return Effect.as(dropPeer(sync, id, new UnrequestedReplies({ peer: id, replies: peer.unrequested }).message), true)
  })

/** Drops a peer of this sync: out of its view, its reservation back in the queue, unregistered and disconnected. */
const dropPeer = (sync: Sync, id: string, reason: string): Effect.Effect<void> =>
  Effect.suspend(() => {
    sync.peers.remove(id)
    sync.queue.cancelPeer(id)
    return sync.drop(id, reason)
  })

/**
 * Hands the importer the downloaded run at the front of the cache, if it is idle and there is one:
 * at most importBatch blocks, and fewer only when waiting would not make a whole batch: the cache
 * is full, no block is pending or in flight, or the queue holds less than a batch and no more
 * hashes are coming (the chain's last blocks are then stored as they arrive, so little is left to
 * store after the last reply). Each commit thus stores a whole batch. `hashesComing`: whether more
 * hashes are on their way (eth/61's hash stream has not ended).
 */
export const feedImporter = (sync: Sync, hashesComing: boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (sync.progress.importing) return Effect.void
    const { queue } = sync
    const { importBatch } = sync.config
    const fillable = !queue.throttle() && (queue.pending > 0 || queue.inFlight > 0) && (hashesComing || queue.held >= importBatch)
    if (importBatch > 0 && fillable && queue.ready < importBatch) return Effect.void
    const batch = queue.takeBlocks(importBatch > 0 ? importBatch : queue.cacheLimit)
    if (batch.length === 0) return Effect.void
    return Effect.map(Clock.currentTimeMillis, (now) => {
      sync.progress.handedOver(batch.length, now)
      Queue.offerUnsafe(sync.importQueue, batch)
    })
  })

/** The cancel error for the phase the sync is in. */
export const canceled = (sync: Sync) => sync.phase === "hashes" ? new HashFetchCanceled() : new BlockFetchCanceled()

/**
 * The next event for the running phase, or a Tick once `deadline` passes. Handles on the way what
 * every phase handles alike: cross-check answers and deadlines, replies nobody asked for, late
 * replies to earlier syncs, peers joining and leaving, the importer's reports, and a cancel.
 */
export const next = (sync: Sync, deadline: number): Effect.Effect<Event, Stop> =>
  Effect.gen(function*() {
    while (true) {
      const message = yield* Mailbox.takeBefore(sync.mailbox, Math.min(deadline, CrossChecks.nextExpiry(sync)))
      // A check is enforced after the message is handled: a cancel, or the check's own answer,
      // arriving at its deadline wins.
      if (message === undefined) {
        yield* CrossChecks.enforce(sync, yield* Clock.currentTimeMillis)
        return tick
      }
      const event = yield* handle(sync, message)
      yield* CrossChecks.enforce(sync, yield* Clock.currentTimeMillis)
      if (event) return event
    }
  })

/** Handles one message: an event for the phase, or undefined when it was handled here. */
const handle = (sync: Sync, message: Message): Effect.Effect<Event | undefined, Stop> => {
  switch (message._tag) {
    case "Inbox": {
      // The inbox is gone when its peer left after posting: what it held went with it.
      const inbox = sync.inboxes.get(message.peer)
      const delivery = inbox && Queue.takeUnsafe(inbox)
      return delivery?._tag === "Success" ? receive(sync, delivery.value) : Effect.undefined
    }
    case "PeerJoined":
      message.peer.reset()
      sync.peers.add(message.peer)
      return Effect.succeed(changed)
    case "PeerLeft": {
      const inbox = sync.inboxes.get(message.id)
      if (inbox) Queue.shutdownUnsafe(inbox)
      sync.inboxes.delete(message.id)
      if (!sync.peers.remove(message.id)) return Effect.undefined
      sync.queue.cancelPeer(message.id)
      return Effect.succeed(changed)
    }
    case "Cancel":
      return Effect.fail(canceled(sync))
    case "Imported":
      sync.progress.stored(message.blocks, message.inserted)
      return Effect.as(PubSub.publish(sync.events, SyncEvent.Progress({ imported: sync.progress.imported, head: message.head })), undefined)
    case "ImportDone":
      sync.progress.idle()
      return Effect.succeed(changed)
    case "ImportStopped":
      return Effect.fail(message.error)
  }
}

/** What a delivery means to the phase: an event, or nothing (handled here, or not this sync's business). */
const receive = (sync: Sync, delivery: Delivery): Effect.Effect<Event | undefined, CrossCheckFailed> => {
  if (delivery._tag === "Hashes") return Effect.succeed(delivery)
  const { asked } = delivery
  // A flooder dropped here gave its reservation back: the phase must look again.
  if (asked === undefined) return Effect.map(unrequested(sync, delivery.peer), (dropped) => dropped ? changed : undefined)
  if (asked.sync !== sync.id) return Effect.undefined
  if (asked._tag === "Check") return Effect.as(CrossChecks.answer(sync, asked.check, delivery.blocks), undefined)
  return Effect.succeed({ _tag: "Blocks", peer: delivery.peer, blocks: delivery.blocks, request: asked.request })
}

const tick: Event = { _tag: "Tick" }
const changed: Event = { _tag: "Changed" }
