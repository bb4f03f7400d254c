/**
 * The downloader's public face: the service a protocol handler talks to, and how to build it.
 *
 * @since 0.1.0
 */
import { Context, type Duration, Effect, Layer, type Scope, type Stream } from "effect"
import type * as Block from "../chain/Block.ts"
import { ChainStore } from "../chain/ChainStore.ts"
import type * as Hash from "../chain/Hash.ts"
import * as BanListModule from "./BanList.ts"
import { DownloaderConfig } from "./DownloaderConfig.ts"
import { Network } from "./Network.ts"
import * as DownloaderImpl from "./internal/DownloaderImpl.ts"
import type { PeerHandle } from "./PeerHandle.ts"
import type { BannedHead, DuplicatePeer, NoSyncActive, SyncError, UnknownPeer } from "./SyncError.ts"
import type { SyncEvent } from "./SyncEvent.ts"

/** Progress figures, as the seed's Stats() gives them. */
export interface Stats {
  /** Hashes queued whose blocks have not arrived (waiting to be requested, or requested). */
  readonly queued: number
  /** Blocks downloaded and waiting for import. */
  readonly cached: number
  /** Blocks of the current import batch not yet in the chain. */
  readonly importing: number
  /** Estimated time to finish: time per imported block of this batch x blocks left; zero before the first. */
  readonly eta: Duration.Duration
}

/** The downloader. */
export interface Shape {
  /** Adds a peer to download from; refused when its head is banned or its id is taken. */
  readonly registerPeer: (peer: PeerHandle) => Effect.Effect<void, BannedHead | DuplicatePeer>
  /** Removes a peer; its reservations go back to the queue. */
  readonly unregisterPeer: (id: string) => Effect.Effect<void, UnknownPeer>
  /**
   * Syncs with `peer` from its head `head`; fails with the error that ended the sync. Every sync
   * started ends with a Done or a Failed event, whatever ends it (a defect becomes SyncDefect).
   */
  readonly synchronise: (peer: string, head: Hash.Hash) => Effect.Effect<void, SyncError>
  /**
   * As `synchronise`, but never fails: a sync error that is a peer's fault drops (unregisters and
   * disconnects through the Network) the peer the error names, whose data caused it. Returns
   * the error, if any, for logging.
   */
  readonly synchroniseOrDrop: (peer: string, head: Hash.Hash) => Effect.Effect<SyncError | undefined>
  /** Hands in hashes a peer sent; fails with NoSyncActive when no sync runs (or it ends first). */
  readonly deliverHashes: (peer: string, hashes: ReadonlyArray<Hash.Hash>) => Effect.Effect<void, NoSyncActive | UnknownPeer>
  /**
   * Hands in blocks a peer sent; the reply answers the peer's oldest unanswered block request,
   * sync or no sync. Waits while the peer's own backlog is full; fails with NoSyncActive when no
   * sync runs (or it ends first).
   */
  readonly deliverBlocks: (peer: string, blocks: ReadonlyArray<Block.Block>) => Effect.Effect<void, NoSyncActive | UnknownPeer>
  /** Stops the running sync (if any) and waits until it has cleaned up; safe to call at any time, twice. */
  readonly cancel: Effect.Effect<void>
  /** Cancels, and refuses every later sync. */
  readonly terminate: Effect.Effect<void>
  /** Progress figures. */
  readonly stats: Effect.Effect<Stats>
  /** Whether a hash is queued, or its block downloaded and waiting. */
  readonly has: (hash: Hash.Hash) => Effect.Effect<boolean>
  /** Whether a sync is running. */
  readonly synchronising: Effect.Effect<boolean>
  /** Sync events from now on; subscribe before starting the sync you want to watch. A reader that lags loses the oldest. */
  readonly subscribe: Effect.Effect<Stream.Stream<SyncEvent>, never, Scope.Scope>
}

/** The downloader service. */
export class Downloader extends Context.Service<Downloader, Shape>()("@ethsync/core/Downloader") {}

/** Builds a downloader from the chain store, ban list, network and configuration in context. */
export const make: Effect.Effect<Shape, never, ChainStore | BanListModule.BanList | Network | Scope.Scope> = DownloaderImpl.make

/** The downloader as a layer. */
export const layer: Layer.Layer<Downloader, never, ChainStore | BanListModule.BanList | Network> = Layer.effect(Downloader, make)

/** A downloader over `store` that disconnects through `network`, with a fresh ban list of the configured size. */
export const makeOn = (store: ChainStore["Service"], network: Network["Service"]): Effect.Effect<Shape, never, Scope.Scope> =>
  Effect.flatMap(DownloaderConfig, (config) =>
    make.pipe(
      Effect.provideService(ChainStore, store),
      Effect.provideService(BanListModule.BanList, BanListModule.make([], config.maxBannedHashes)),
      Effect.provideService(Network, network)
    ))
