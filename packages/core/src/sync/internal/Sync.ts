/**
 * The state of one running sync, shared by its phases: the mailbox deliveries arrive in, the
 * deadlines, the cross-checks, and the importer's progress.
 *
 * @since 0.1.0
 */
import { Clock, Duration, Effect, Latch, type PubSub, Queue } from "effect"
import type * as Block from "../../chain/Block.ts"
import type * as BanList from "../BanList.ts"
import type * as ChainStore from "../../chain/ChainStore.ts"
import type * as DownloadQueue from "./DownloadQueue.ts"
import type { Config } from "../DownloaderConfig.ts"
import type * as Hash from "../../chain/Hash.ts"
import type { PeerDropper } from "../PeerDropper.ts"
import type { Asked, Peer, PeerSet, Tuning } from "./PeerSet.ts"
import type { SyncError } from "../SyncError.ts"
import type { SyncEvent } from "../SyncEvent.ts"

/** What wakes a sync: a delivery, a change, or a deadline. */
export type Message =
  /** Hashes from a peer. */
  | { readonly _tag: "Hashes"; readonly peer: string; readonly hashes: ReadonlyArray<Hash.Hash> }
  /** Blocks from a peer. */
  | { readonly _tag: "Blocks"; readonly peer: string; readonly blocks: ReadonlyArray<Block.Block> }
  /** Something changed (a peer came or went, cache space freed, the importer went idle): look again. */
  | { readonly _tag: "Wake" }
  /** A deadline passed. */
  | { readonly _tag: "Tick" }

/** A pending cross-check: the block of a random hash must arrive in time with this parent. */
export interface CrossCheck {
  /** The peer asked for the block, which answers for the check. */
  readonly peer: string
  /** Deadline (Clock millis). */
  readonly expire: number
  /** The hash its block must name as parent: the next hash of the batch. */
  readonly parent: Hash.Hash
}

/** The phase a sync is in, so a cancel reports the right error. */
export type Phase = "hashes" | "blocks"

/** Everything a running sync works with. */
export interface Sync {
  /** Tells this sync's requests from earlier syncs' in the peers' unanswered lists. */
  readonly id: number
  /** The configuration in force. */
  readonly config: Config
  /** hashTTL in millis. */
  readonly hashTTL: number
  /** blockSoftTTL in millis. */
  readonly softTTL: number
  /** blockHardTTL in millis. */
  readonly hardTTL: number
  /** What sizes a peer's requests, in millis. */
  readonly tuning: Tuning
  /** The downloader's scheduler (reset for this sync). */
  readonly queue: DownloadQueue.DownloadQueue
  /** The downloader's peers. */
  readonly peers: PeerSet
  /** The local chain. */
  readonly store: ChainStore.Shape
  /** The ban list. */
  readonly banList: BanList.Shape
  /** Disconnects misbehaving peers. */
  readonly dropper: PeerDropper["Service"]
  /** Where sync events are published. */
  readonly events: PubSub.PubSub<SyncEvent>
  /** Deliveries and signals, in arrival order; shut down when the sync ends. */
  readonly mailbox: Queue.Queue<Message>
  /** Open cross-checks by hash key. */
  readonly checks: Map<string, CrossCheck>
  /** Opened to make the importer look at the cache. */
  readonly importWake: Latch.Latch
  /** The phase the sync is in. */
  phase: Phase
  /** Whether the importer has work (set when woken, cleared when it finds the cache empty). */
  importing: boolean
  /** Blocks of the current import batch. */
  importBatch: number
  /** Blocks of the current import batch already in the chain. */
  importDone: number
  /** When the current import batch was taken (Clock millis). */
  importStart: number
  /** Blocks this sync imported. */
  imported: number
  /** Set by cancel, so the interruption is reported as a cancel. */
  canceled: boolean
  /** Set by the importer when an insert fails: the error the sync ends with. */
  importError: SyncError | undefined
}

/** Builds the state of a new sync. */
export const make = (
  config: Config,
  services: Pick<Sync, "id" | "queue" | "peers" | "store" | "banList" | "dropper" | "events">
): Effect.Effect<Sync> =>
  Effect.gen(function*() {
    const hardTTL = Duration.toMillis(config.blockHardTTL)
    return {
      ...services,
      config,
      hashTTL: Duration.toMillis(config.hashTTL),
      softTTL: Duration.toMillis(config.blockSoftTTL),
      hardTTL,
      tuning: { maxBlockFetch: config.maxBlockFetch, hardTTL, targetRoundTrip: Duration.toMillis(config.targetRoundTrip) },
      mailbox: yield* Queue.bounded<Message>(64),
      checks: new Map(),
      importWake: yield* Latch.make(false),
      phase: "hashes",
      importing: false,
      importBatch: 0,
      importDone: 0,
      importStart: 0,
      imported: 0,
      canceled: false,
      importError: undefined
    }
  })

/** The next message, or a Tick once `deadline` (Clock millis) passes. */
export const next = (sync: Sync, deadline: number): Effect.Effect<Message> =>
  deadline === Infinity
    ? Queue.take(sync.mailbox)
    : Effect.flatMap(Clock.currentTimeMillis, (now) =>
      deadline <= now
        ? Effect.succeed(tick)
        : Queue.take(sync.mailbox).pipe(
          Effect.timeoutOrElse({ duration: Duration.millis(deadline - now), orElse: () => Effect.succeed(tick) })
        ))

const tick: Message = { _tag: "Tick" }

/** Sends `peer` a block request, recording what it is for: the reply is matched to it by order. */
export const requestBlocks = (sync: Sync, peer: Peer, hashes: ReadonlyArray<Hash.Hash>, check: boolean): Effect.Effect<void> =>
  Effect.suspend(() => {
    peer.asked({ sync: sync.id, check })
    return peer.handle.requestBlocks(hashes)
  })

/** The request a block reply answers, by the order of its sender's requests (undefined for an unknown peer). */
export const answered = (sync: Sync, message: { readonly peer: string }): Asked | undefined =>
  sync.peers.get(message.peer)?.answered()

/** Asks the sync to look again (cache space freed, a peer joined). */
export const wake = (sync: Sync): Effect.Effect<void> => Effect.asVoid(Queue.offer(sync.mailbox, { _tag: "Wake" }))

/** Tells the importer that blocks may be ready. */
export const wakeImporter = (sync: Sync): Effect.Effect<void> =>
  Effect.suspend(() => {
    sync.importing = true
    return Effect.asVoid(sync.importWake.open)
  })
