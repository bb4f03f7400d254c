/**
 * One running header-first sync as an actor: its state is written only by the sync's own fiber,
 * which takes everything that concerns it from its mailbox: answers to its open requests (matched
 * to their request by id in the deliver call, so the mailbox never holds more answers than the
 * sync has requests open), peers joining and leaving, a cancel, and the importer's reports.
 *
 * @since 0.3.0
 */
import { Clock, Deferred, Duration, Effect, type Option, PubSub, Queue } from "effect"
import type * as ChainStore from "../../chain/ChainStore.ts"
import type * as Hash from "../../chain/Hash.ts"
import type * as Header from "../../chain/Header.ts"
import type * as SealVerifier from "../../chain/SealVerifier.ts"
import type * as BanList from "../../sync/BanList.ts"
import type { Config } from "../../sync/DownloaderConfig.ts"
import type { Body, HeaderRequest } from "../../sync/HeaderPeer.ts"
import { BlockFetchCanceled, HashFetchCanceled, type ImportFailed } from "../../sync/SyncError.ts"
import { SyncEvent } from "../../sync/SyncEvent.ts"
import type * as HeaderConfig from "../HeaderConfig.ts"
import { ImportProgress } from "../../sync/internal/ImportProgress.ts"
import * as Mailbox from "../../sync/internal/Mailbox.ts"
import type * as Importer from "../../sync/internal/Importer.ts"
import * as Links from "./Links.ts"

/** What arrives in a sync's mailbox. */
export type Message =
  /** Headers answering this sync's request `id` to `peer`. */
  | { readonly _tag: "Headers"; readonly peer: string; readonly id: bigint; readonly headers: ReadonlyArray<Header.Header> }
  /** Bodies answering this sync's request `id` to `peer`. */
  | { readonly _tag: "Bodies"; readonly peer: string; readonly id: bigint; readonly bodies: ReadonlyArray<Body> }
  /** A peer registered during the sync. */
  | { readonly _tag: "Joined"; readonly id: string }
  /** A peer unregistered (or was dropped) during the sync. */
  | { readonly _tag: "Left"; readonly id: string }
  /** Stop, reporting the cancel for the phase the sync is in. */
  | { readonly _tag: "Cancel" }
  /** What the importer reports. */
  | Importer.Report

/** What a phase is woken by: an answer, a peer coming or going, a change, or its deadline. */
export type Event =
  /** Headers answering the sync's open request `request`. */
  | { readonly _tag: "Headers"; readonly request: Request; readonly headers: ReadonlyArray<Header.Header> }
  /** Bodies answering the sync's open request `request`. */
  | { readonly _tag: "Bodies"; readonly request: Request; readonly bodies: ReadonlyArray<Body> }
  | Extract<Message, { readonly _tag: "Joined" | "Left" }>
  /** The importer went idle: look again. */
  | { readonly _tag: "Changed" }
  /** The deadline passed. */
  | { readonly _tag: "Tick" }

/** The phase a sync is in, so a cancel reports the right error. */
export type Phase = "headers" | "blocks"

/** Why a sync stops on its own, whatever phase it is in. */
export type Stop = HashFetchCanceled | BlockFetchCanceled | ImportFailed | ChainStore.StoreError

/** A request of this sync, open until answered, expired or abandoned. */
export interface Request {
  /** Its id. */
  readonly id: bigint
  /** The peer asked. */
  readonly peer: string
  /** When it was sent (Clock millis). */
  readonly sent: number
  /** When it expires (Clock millis). */
  readonly deadline: number
}

/** What a sync works with, given by the engine. */
export interface Services {
  /** Tells this sync's requests from earlier syncs'. */
  readonly id: number
  /** The shared configuration in force. */
  readonly config: Config
  /** The header-first configuration in force. */
  readonly settings: HeaderConfig.Config
  /** The local chain. */
  readonly store: ChainStore.Shape
  /** The ban list. */
  readonly banList: BanList.Shape
  /** The seal verifier, when one is in context: headers' seals are checked before their bodies are asked for. */
  readonly verifier: Option.Option<SealVerifier.Shape>
  /** Where sync events are published. */
  readonly events: PubSub.PubSub<SyncEvent>
  /** The engine's registered peers (read only: the engine writes it). */
  readonly links: ReadonlyMap<string, Links.Link>
  /** The engine's next request id: never reused. */
  readonly nextId: () => bigint
  /** Drops a peer for misbehaving: unregisters it and disconnects it. */
  readonly drop: (peer: string, reason: string) => Effect.Effect<void>
  /** The peer synced with. */
  readonly origin: string
  /** The head synced to. */
  readonly head: Hash.Hash
}

/** Everything a running sync works with. */
export interface Sync extends Services {
  /** How long a request may stay unanswered, in millis (blockHardTTL). */
  readonly ttl: number
  /** Notices and answers, in arrival order; shut down when the sync ends. */
  readonly mailbox: Queue.Queue<Message>
  /** Batches of blocks for the importer, one at a time. */
  readonly importQueue: Queue.Queue<ReadonlyArray<Importer.Pending>>
  /** The sync's open requests by id. */
  readonly requests: Map<bigint, Request>
  /** Completed once the sync has ended and cleaned up. */
  readonly ended: Deferred.Deferred<void>
  /** The phase the sync is in. */
  phase: Phase
  /** Where the importer is. */
  readonly progress: ImportProgress
  /** Headers waiting for their bodies (for Stats). */
  queued: number
  /** Blocks assembled and waiting for import (for Stats). */
  cached: number
}

/** Builds the state of a new sync. */
export const make = (services: Services): Effect.Effect<Sync> =>
  Effect.gen(function*() {
    return {
      ...services,
      ttl: Duration.toMillis(services.config.blockHardTTL),
      mailbox: yield* Queue.unbounded<Message>(),
      importQueue: yield* Queue.bounded<ReadonlyArray<Importer.Pending>>(1),
      requests: new Map(),
      ended: yield* Deferred.make<void>(),
      phase: "headers",
      progress: new ImportProgress(),
      queued: 0,
      cached: 0
    }
  })

/** Posts a message to the sync's mailbox (ignored once the sync has ended). */
export const signal = (sync: Sync, message: Message): void => void Queue.offerUnsafe(sync.mailbox, message)

/** Closes the sync's doors and retires its open requests, so answers to them are late, not floods. */
export const close = (sync: Sync): Effect.Effect<void> =>
  Effect.sync(() => {
    Queue.shutdownUnsafe(sync.mailbox)
    Queue.shutdownUnsafe(sync.importQueue)
    for (const request of sync.requests.values()) {
      const link = sync.links.get(request.peer)
      if (link) Links.retire(link, request.id)
    }
    sync.requests.clear()
  })

/** Sends `peer` a GetBlockHeaders; its id. */
export const requestHeaders = (sync: Sync, peer: string, request: HeaderRequest, now: number, ttl = sync.ttl): bigint =>
  open(sync, peer, now, ttl, (id) => ({ _tag: "Headers", id, request }))

/** Sends `peer` a GetBlockBodies; its id. */
export const requestBodies = (sync: Sync, peer: string, hashes: ReadonlyArray<Hash.Hash>, now: number): bigint =>
  open(sync, peer, now, sync.ttl, (id) => ({ _tag: "Bodies", id, hashes }))

/**
 * Registers a request of the sync and queues it on its peer's link, expiring `ttl` millis from `now`
 * for each request then open with that peer and this one: a peer answers in order, so a request
 * behind others waits for their answers too (a peer with a slow link owes several fills of 1,024
 * headers and a body request at once).
 */
const open = (sync: Sync, peer: string, now: number, ttl: number, outgoing: (id: bigint) => Links.Outgoing): bigint => {
  const id = sync.nextId()
  let ahead = 0
  for (const request of sync.requests.values()) if (request.peer === peer) ahead++
  sync.requests.set(id, { id, peer, sent: now, deadline: now + ttl * (1 + ahead) })
  const link = sync.links.get(peer)
  if (link) Links.send(link, sync.id, outgoing(id))
  return id
}

/** Forgets request `id` without an answer (expired, or its peer's work taken back): a later answer is late. */
export const abandon = (sync: Sync, id: bigint): void => {
  const request = sync.requests.get(id)
  if (!request) return
  sync.requests.delete(id)
  const link = sync.links.get(request.peer)
  if (link) Links.retire(link, id)
}

/** The earliest deadline of the sync's open requests (Clock millis), or Infinity. */
export const nextDeadline = (sync: Sync): number => {
  let first = Infinity
  for (const request of sync.requests.values()) if (request.deadline < first) first = request.deadline
  return first
}

/** The cancel error for the phase the sync is in. */
export const canceled = (sync: Sync) => sync.phase === "headers" ? new HashFetchCanceled() : new BlockFetchCanceled()

/** Hands the importer a batch, if it is idle. */
export const feedImporter = (sync: Sync, batch: ReadonlyArray<Importer.Pending>): Effect.Effect<void> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    sync.progress.handedOver(batch.length, now)
    Queue.offerUnsafe(sync.importQueue, batch)
  })

/**
 * The next event for the running phase, or a Tick once `deadline` passes. Handles on the way what
 * every phase handles alike: the importer's reports and a cancel. Answers to requests the sync
 * has abandoned are skipped.
 */
export const next = (sync: Sync, deadline: number): Effect.Effect<Event, Stop> =>
  Effect.gen(function*() {
    while (true) {
      const message = yield* Mailbox.takeBefore(sync.mailbox, deadline)
      if (message === undefined) return tick
      switch (message._tag) {
        case "Headers": {
          const request = sync.requests.get(message.id)
          if (!request) continue
          sync.requests.delete(message.id)
          return { _tag: "Headers", request, headers: message.headers }
        }
        case "Bodies": {
          const request = sync.requests.get(message.id)
          if (!request) continue
          sync.requests.delete(message.id)
          return { _tag: "Bodies", request, bodies: message.bodies }
        }
        case "Joined":
        case "Left":
          return message
        case "Cancel":
          return yield* canceled(sync)
        case "Imported":
          sync.progress.stored(message.blocks, message.inserted)
          yield* PubSub.publish(sync.events, SyncEvent.Progress({ imported: sync.progress.imported, head: message.head }))
          continue
        case "ImportDone":
          sync.progress.idle()
          return changed
        case "ImportStopped":
          return yield* message.error
      }
    }
  })

const tick: Event = { _tag: "Tick" }
const changed: Event = { _tag: "Changed" }
