/**
 * What `serve`, `sync` and `node` share: their flags (datadir and chain, listening address,
 * peers, node key, limits) and starting an EthNode from them: the datadir's store, the node key
 * (the datadir's `nodekey`, made on first use, or `--nodekey FILE`), the peers of `--peer` and
 * of the datadir's `static-nodes.json`, the network id of the datadir's chain, and the seal
 * checks of `--verify-seals` (Ethash unless `none`) on every block a peer sends, each seal checked
 * once; and the downloader's cap on queued hashes (NodeSyncConfig).
 *
 * @since 0.2.0
 */
import { Hash, SealVerifier } from "@ethsync/core"
import { Console, Data, Effect, Option, Path } from "effect"
import type { NetAddress } from "effect/net"
import { Flag } from "effect/cli"
import * as NodeSyncConfig from "../NodeSyncConfig.ts"
import * as GenesisChoice from "../GenesisChoice.ts"
import * as LmdbChainStore from "../LmdbChainStore.ts"
import * as MetricsServer from "../MetricsServer.ts"
import type * as SealChoice from "../SealChoice.ts"
import * as EthNode from "../net/EthNode.ts"
import * as SealMemory from "../seal/SealMemory.ts"
import * as Enode from "../rlpx/Enode.ts"
import { defaultHost } from "../rlpx/Listen.ts"
import * as NodeKeyFile from "../rlpx/NodeKeyFile.ts"
import * as StaticNodes from "../rlpx/StaticNodes.ts"
import * as Flags from "./Flags.ts"
import * as GenesisFlags from "./GenesisFlags.ts"

/** The network id of a chain that is no built-in network, unless `--networkid` says otherwise (go-ethereum's default). */
const defaultNetworkId = 1

/** An empty datadir and no `--network` or `--genesis` to start it from. */
export class ChainUnnamed extends Data.TaggedError("ChainUnnamed")<{
  /** The datadir's folder. */
  readonly path: string
}> {
  override get message() {
    return `datadir ${this.path} holds no chain yet: pass --network or --genesis to name the chain to serve and sync`
  }
}

/** `--port N`, defaulting to `fallback` (0 picks a free port). */
export const port = (fallback: number): Flag.Flag<number> =>
  Flag.Int("port").pipe(
    Flag.withDescription(`TCP port to listen on; 0 picks a free one (default ${fallback})`),
    Flag.filter((n) => n >= 0 && n <= 65535, (n) => `a port is 0..65535, not ${n}`),
    Flag.withDefault(fallback)
  )

/** The flags of every command that runs a node. */
export const flags = {
  datadir: Flags.datadir({ mustExist: false }),
  network: GenesisFlags.network,
  genesis: GenesisFlags.genesis,
  addr: Flag.String("addr").pipe(
    Flag.withDescription("Address to listen on (default 127.0.0.1: this machine only)"),
    Flag.withDefault(defaultHost)
  ),
  port: port(30303),
  peers: Flag.String("peer").pipe(
    Flag.withDescription("enode://ID@HOST:PORT of a node to dial and keep connected to (repeatable)"),
    Flag.filterMap(
      (url) => {
        const enode = Enode.parse(url)
        return enode instanceof Enode.EnodeUrlError ? Option.none() : Option.some(enode)
      },
      (url) => {
        const enode = Enode.parse(url)
        return enode instanceof Enode.EnodeUrlError ? enode.message : url
      }
    ),
    Flag.atLeast(0)
  ),
  maxPeers: Flag.Int("maxpeers").pipe(
    Flag.withDescription(`Most peers connected at once (default ${EthNode.defaultMaxPeers})`),
    Flag.filter((n) => n >= 1, (n) => `--maxpeers is at least 1, not ${n}`),
    Flag.withDefault(EthNode.defaultMaxPeers)
  ),
  nodekey: Flag.File("nodekey", { mustExist: true }).pipe(
    Flag.withDescription(`Node key file (64 hex digits); default: ${NodeKeyFile.fileName} in the datadir, made on first use`),
    Flag.optional
  ),
  networkId: Flag.Int("networkid").pipe(
    Flag.withDescription("Network id of the eth Status (default: the built-in network's, else 1)"),
    Flag.optional
  ),
  metrics: Flags.metrics,
  verifySeals: Flags.verifySeals
}

/** The parsed flags of a node command. */
export interface Input {
  /** The datadir. */
  readonly datadir: string
  /** `--network`. */
  readonly network: Option.Option<GenesisChoice.NetworkName>
  /** `--genesis`. */
  readonly genesis: Option.Option<string>
  /** `--addr`. */
  readonly addr: string
  /** `--port`. */
  readonly port: number
  /** Each `--peer`. */
  readonly peers: ReadonlyArray<Enode.Enode>
  /** `--maxpeers`. */
  readonly maxPeers: number
  /** `--nodekey`. */
  readonly nodekey: Option.Option<string>
  /** `--networkid`. */
  readonly networkId: Option.Option<number>
  /** `--metrics`. */
  readonly metrics: Option.Option<NetAddress.InetAddress>
  /** `--verify-seals`: the command provides the SealVerifier it names (SealChoice.layer). */
  readonly verifySeals: SealChoice.Name
}

/** How the command runs its node. */
export interface Mode {
  /** Sync on go-ethereum's triggers. */
  readonly autoSync: boolean
  /** Also sync as soon as the first peer has said Status. */
  readonly syncOnFirstPeer: boolean
}

/** The network id of a datadir whose genesis is `genesis`. */
const networkIdOf = (genesis: Hash.Hash): number => {
  const builtIn = Object.values(GenesisChoice.networks).find((network) => Hash.equals(network.genesis.hash, genesis))
  return builtIn?.networkId ?? defaultNetworkId
}

/** Opens the datadir and starts the node (and the metrics server, if asked); all close with the scope. */
export const start = (input: Input, mode: Mode) =>
  Effect.gen(function*() {
    if (Option.isSome(input.metrics)) yield* MetricsServer.serve(input.metrics.value)
    const path = yield* Path.Path
    const chosen = yield* GenesisFlags.chosen(input.network, input.genesis)
    // One verifier for the store and the header-first engine, remembering good seals: a header the
    // engine checked before asking for its body is not checked again when its block is inserted.
    const verifier = SealMemory.remembering(yield* SealVerifier.SealVerifier)
    const store = yield* LmdbChainStore.make({ path: input.datadir, genesis: chosen, verifier }).pipe(
      Effect.catchTag("EmptyDatadir", () => Effect.fail(new ChainUnnamed({ path: input.datadir })))
    )
    const key = yield* Option.match(input.nodekey, {
      onNone: () => NodeKeyFile.loadOrCreate(path.join(input.datadir, NodeKeyFile.fileName)),
      onSome: NodeKeyFile.read
    })
    const staticNodes = yield* StaticNodes.read(path.join(input.datadir, StaticNodes.fileName))
    const node = yield* NodeSyncConfig.provide(EthNode.make({
      store,
      key,
      networkId: Option.getOrElse(input.networkId, () => networkIdOf(store.genesis.hash)),
      host: input.addr,
      port: input.port,
      peers: [...input.peers, ...staticNodes],
      maxPeers: input.maxPeers,
      autoSync: mode.autoSync,
      syncOnFirstPeer: mode.syncOnFirstPeer
    }).pipe(Effect.provideService(SealVerifier.SealVerifier, verifier)))
    return { store, node }
  })

/** Starts the node, prints its enode URL (the first line of stdout, which scripts read), and runs until interrupted. */
export const runForever = (mode: Mode) => (input: Input) =>
  Effect.scoped(Effect.gen(function*() {
    const { node } = yield* start(input, mode)
    yield* Console.log(node.enode)
    return yield* Effect.never
  }))
