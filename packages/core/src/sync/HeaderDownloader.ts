/**
 * The header-first sync engine's public face (eth/66 and later peers): the service a header-first
 * protocol handler talks to. It shares the hash engine's services (ChainStore, BanList, Network,
 * DownloaderConfig where a constant applies) and its events and errors, so the sync loop and the
 * progress output treat both engines alike; the node picks the engine by the version a peer speaks.
 *
 * @since 0.3.0
 */
import { Context, type Effect, Layer, type Scope, type Stream } from "effect"
import type { ChainStore } from "../chain/ChainStore.ts"
import type * as Hash from "../chain/Hash.ts"
import type * as Header from "../chain/Header.ts"
import * as Engine from "../headers/internal/Engine.ts"
import type * as BanListModule from "./BanList.ts"
import type { Stats } from "./Downloader.ts"
import type { Body, HeaderPeer } from "./HeaderPeer.ts"
import type { Network } from "./Network.ts"
import type { BannedHead, DuplicatePeer, SyncError, UnknownPeer } from "./SyncError.ts"
import type { SyncEvent } from "./SyncEvent.ts"

/** The header-first engine. */
export interface Shape {
  /** Adds a peer to download from; refused when its head is banned or its id is taken. */
  readonly registerPeer: (peer: HeaderPeer) => Effect.Effect<void, BannedHead | DuplicatePeer>
  /** Removes a peer; its open requests go back to the queue. */
  readonly unregisterPeer: (id: string) => Effect.Effect<void, UnknownPeer>
  /** Syncs with `peer` from its head `head`; fails with the error that ended the sync; ends with a Done or Failed event. */
  readonly synchronise: (peer: string, head: Hash.Hash) => Effect.Effect<void, SyncError>
  /** As `synchronise`, but drops (unregisters and disconnects through the Network) the peer a peer's-fault error names; returns the error. */
  readonly synchroniseOrDrop: (peer: string, head: Hash.Hash) => Effect.Effect<SyncError | undefined>
  /** Hands in the answer to the peer's header request `requestId` (an unknown id is unrequested and counts against the peer). */
  readonly deliverHeaders: (peer: string, requestId: bigint, headers: ReadonlyArray<Header.Header>) => Effect.Effect<void, UnknownPeer>
  /** Hands in the answer to the peer's body request `requestId` (an unknown id is unrequested and counts against the peer). */
  readonly deliverBodies: (peer: string, requestId: bigint, bodies: ReadonlyArray<Body>) => Effect.Effect<void, UnknownPeer>
  /** Stops the running sync (if any) and waits until it has cleaned up. */
  readonly cancel: Effect.Effect<void>
  /** Cancels, and refuses every later sync. */
  readonly terminate: Effect.Effect<void>
  /** Progress figures. */
  readonly stats: Effect.Effect<Stats>
  /** Whether a sync is running. */
  readonly synchronising: Effect.Effect<boolean>
  /** Sync events from now on (the hash engine's event type). */
  readonly subscribe: Effect.Effect<Stream.Stream<SyncEvent>, never, Scope.Scope>
}

/** The header-first engine as a service. */
export class HeaderDownloader extends Context.Service<HeaderDownloader, Shape>()("@ethsync/core/HeaderDownloader") {}

/** Builds a header-first engine from the chain store, ban list and network in context (and the seal verifier, when there is one). */
export const make: Effect.Effect<Shape, never, ChainStore | BanListModule.BanList | Network | Scope.Scope> = Engine.make

/** The header-first engine as a layer. */
export const layer: Layer.Layer<HeaderDownloader, never, ChainStore | BanListModule.BanList | Network> = Layer.effect(HeaderDownloader, make)

