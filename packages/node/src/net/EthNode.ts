/**
 * An ethsync node on the real network, in one call: the network registry, both sync engines built
 * on it (the hash-chain downloader for eth/60-61 peers, the header-first engine for eth/66-68),
 * the RLPx network (listener, dialled peers, the eth handler of its version per connection), the
 * sync loop and the announcement of each new head. Everything lives in the caller's Scope; closing it
 * stops the sync, disconnects every peer (client quitting) and closes the listener. The
 * `serve`, `sync` and `node` commands are built on it.
 *
 * @since 0.2.0
 */
import { BanList, ChainStore, Downloader, DownloaderConfig, HeaderDownloader, Network } from "@ethsync/core"
import { type Duration, Effect, type Scope } from "effect"
import * as Offered from "../eth/Offered.ts"
import type * as Connection from "../rlpx/Connection.ts"
import type * as Enode from "../rlpx/Enode.ts"
import type * as HandshakeMessage from "../rlpx/HandshakeMessage.ts"
import type { ListenFailed } from "../rlpx/Listen.ts"
import type * as NodeKey from "../rlpx/NodeKey.ts"
import * as HeadAnnouncer from "./HeadAnnouncer.ts"
import * as RlpxNetwork from "./RlpxNetwork.ts"
import * as SyncScheduler from "./SyncScheduler.ts"

/** Every duration of a node; tests shrink them. */
export interface Timing extends RlpxNetwork.Timing {
  /** A sync with the best peer is tried this often (go-ethereum: 10 s). */
  readonly syncInterval: Duration.Input
  /** How often the chain's head is looked at, to announce it when an import moved it. */
  readonly headCheck: Duration.Input
  /** `untilSynced` gives up after this long without a connected peer. */
  readonly peerlessLimit: Duration.Input
}

/** go-ethereum's durations, a head check every second, and 30 s without peers before giving up. */
export const defaultTiming: Timing = {
  ...RlpxNetwork.defaultTiming,
  syncInterval: "10 seconds",
  headCheck: "1 second",
  peerlessLimit: "30 seconds"
}

/** The peers that start a sync as one more connects, as go-ethereum 1.0 counts them. */
export const defaultMinPeers = 5

/** The most connections unless told otherwise, as go-ethereum's default. */
export const defaultMaxPeers = 25

/** The client id our hello carries. */
export const clientId = "ethsync/v0.2.0"

/** What a node is made of. Only `store`, `key` and `networkId` are required. */
export interface Options {
  /** The chain served and synced into. */
  readonly store: ChainStore.ChainStore["Service"]
  /** Our node key. */
  readonly key: NodeKey.NodeKey
  /** Our network id (1 for mainnet). */
  readonly networkId: number
  /** The address to listen on (default 127.0.0.1). */
  readonly host?: string | undefined
  /** The port to listen on (default 0: a free one). */
  readonly port?: number | undefined
  /** The nodes to dial and keep connected to (`--peer` and the datadir's static nodes). */
  readonly peers?: ReadonlyArray<Enode.Enode> | undefined
  /** Most connections (default 25); inbound ones beyond it are refused. */
  readonly maxPeers?: number | undefined
  /** Sync on go-ethereum's triggers: a 5th peer, the timer, a heavier NewBlock (default true; `serve` only serves). */
  readonly autoSync?: boolean | undefined
  /** Sync as soon as any peer has said Status (for `ethsync sync`), besides go-ethereum's triggers. */
  readonly syncOnFirstPeer?: boolean | undefined
  /** The eth versions offered, highest first (default 68, 67, 66, 61 and 60). */
  readonly versions?: ReadonlyArray<Offered.Offered> | undefined
  /** The auth form tried first when dialling (default plain, as a 2015 node needs; EIP-8 after a failed dial). */
  readonly handshake?: HandshakeMessage.Form | undefined
  /** Durations, each defaulting to {@link defaultTiming}. */
  readonly timing?: Partial<Timing> | undefined
}

/** A running node. */
export interface EthNode {
  /** Our enode URL: what other nodes dial. */
  readonly enode: string
  /** The port listened on. */
  readonly port: number
  /** The connected peers and what happens to them. */
  readonly network: Network.Shape
  /** The hash-chain downloader syncing into the store from eth/60-61 peers. */
  readonly downloader: Downloader.Shape
  /** The header-first engine syncing into the store from eth/66-68 peers. */
  readonly headerEngine: HeaderDownloader.Shape
  /** The peers we disconnected, each once with the first reason (refused at their Status, or dropped later). */
  readonly drops: Effect.Effect<ReadonlyArray<Network.Drop>>
  /** Each connected peer's traffic so far (messages and bytes by kind, in and out), by peer id. */
  readonly traffic: Effect.Effect<ReadonlyMap<string, Connection.Stats>>
  /** Asks for a sync with the best peer now. */
  readonly syncNow: Effect.Effect<void>
  /** The connected peers ahead of us (a higher TD and a head block we do not have). */
  readonly ahead: Effect.Effect<ReadonlyArray<Network.Connected>, ChainStore.StoreError>
  /**
   * Waits until every node we dial has connected or been tried once, a peer is connected, none
   * is ahead of us and no sync runs: "synced", for `--exit-when-synced`. Fails with
   * NoPeerConnected after `peerlessLimit` without any peer.
   */
  readonly untilSynced: Effect.Effect<ChainStore.Head, SyncScheduler.NoPeerConnected | ChainStore.StoreError>
  /** Announces the chain's head to the peers now if it moved since the last announcement (an import just ended). */
  readonly announceHead: Effect.Effect<void, ChainStore.StoreError>
}

/** Starts a node; it runs until the Scope closes. Fails when it cannot listen or read the store's head. */
export const make = (options: Options): Effect.Effect<EthNode, ListenFailed | ChainStore.StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const timing: Timing = { ...defaultTiming, ...options.timing }
    const config = yield* DownloaderConfig.DownloaderConfig
    const { store } = options
    const registry = yield* Network.makeRegistry
    /** The one ban list of both engines: a head banned by either is refused by both. */
    const bans = BanList.make([], config.maxBannedHashes)
    /** Builds an engine on the node's chain, network and ban list. */
    const onNode = <A, R>(engine: Effect.Effect<A, never, R>) =>
      engine.pipe(
        Effect.provideService(ChainStore.ChainStore, store),
        Effect.provideService(BanList.BanList, bans),
        Effect.provideService(Network.Network, registry)
      )
    const downloader = yield* onNode(Downloader.make)
    const headerEngine = yield* onNode(HeaderDownloader.make)
    const engines: SyncScheduler.Engines = { hashChain: downloader, headerFirst: headerEngine }
    const network = yield* RlpxNetwork.start({
      key: options.key,
      clientId,
      host: options.host,
      port: options.port,
      peers: options.peers ?? [],
      maxPeers: options.maxPeers ?? defaultMaxPeers,
      networkId: options.networkId,
      versions: options.versions ?? Offered.all,
      handshake: options.handshake,
      timing,
      store,
      registry,
      downloader,
      headerEngine,
      maxHashFetch: config.maxHashFetch
    })
    const announcer = yield* HeadAnnouncer.make({
      store,
      sessions: network.sessions,
      network: registry,
      synchronising: SyncScheduler.synchronising(engines)
    })
    const scheduler = yield* SyncScheduler.start({
      engines,
      store,
      network: registry,
      announcer,
      automatic: options.autoSync ?? true,
      interval: timing.syncInterval,
      minPeers: defaultMinPeers,
      onFirstPeer: options.syncOnFirstPeer ?? false,
      peerlessLimit: timing.peerlessLimit,
      settled: network.settled,
      drops: network.drops
    })
    yield* Effect.forkScoped(Effect.forever(Effect.andThen(
      Effect.sleep(timing.headCheck),
      Effect.catchTag(announcer.announceIfMoved, "StoreError", (error) => Effect.logWarning(`announcing the head: ${error.message}`))
    )))
    yield* Effect.logInfo(`listening as ${network.enode}`)
    return {
      enode: network.enode,
      port: network.port,
      network: registry,
      downloader,
      headerEngine,
      drops: network.drops,
      traffic: Effect.flatMap(network.sessions.all, (sessions) =>
        Effect.map(
          Effect.forEach(sessions, (session) => Effect.map(session.traffic, (stats) => [session.id, stats] as const)),
          (entries) => new Map(entries)
        )),
      syncNow: scheduler.trigger,
      ahead: scheduler.ahead,
      untilSynced: scheduler.untilSynced,
      announceHead: announcer.announceIfMoved
    }
  })
