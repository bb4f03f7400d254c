/**
 * R1 and R3 of shared/docs/benchmarks.md: a sync of the mainnet file over RLPx on 127.0.0.1 from
 * one (three) `ethsync serve` processes serving one datadir that holds it, into an empty LMDB
 * datadir. The servers run as child processes, so that they neither share the syncing node's
 * event loop nor its core, as with a real peer; the syncing node runs in the bench's process, as
 * the import it is compared with does (both warmed up by an untimed run, neither paying a process
 * start).
 *
 * @since 0.2.0
 */
import { NodeServices } from "@effect/platform-node"
import { ChainStore, Genesis, SealVerifier } from "@ethsync/core"
import { ChainImport, EthNode, EthVersion, LmdbChainStore, NodeSyncConfig, type Offered, Rlpx } from "@ethsync/node"
import { Effect, Schedule, type Scope, Stream } from "effect"
import { join } from "node:path"
import * as ServeProcess from "./ServeProcess.ts"
import { BenchFailed, tempDir } from "./Workloads.ts"

/** The servers of a case: where to dial them, and the chain's head number they serve. */
export interface Servers {
  /** Their enode URLs. */
  readonly enodes: ReadonlyArray<string>
  /** The number of the head block they serve. */
  readonly head: number
}

/** Any failure of a case as the bench's failure. */
const asBenchFailed = <A, E extends { readonly _tag: string; readonly message: string }, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.mapError(effect, (e) => e instanceof BenchFailed ? e : new BenchFailed({ reason: e.message }))

/**
 * Imports the file (untimed) into a datadir of its own, closes it, and starts `count` servers over
 * it, each with its own node key; they are stopped, and the datadir removed, when the scope closes.
 */
export const startServers = (file: string, count: number): Effect.Effect<Servers, BenchFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const dir = yield* tempDir()
    const datadir = join(dir, "served")
    const head = yield* Effect.scoped(Effect.gen(function*() {
      const store = yield* LmdbChainStore.make({ path: datadir, initialGenesis: Genesis.mainnet, verifier: SealVerifier.none })
      yield* Effect.provideService(ChainImport.importFiles([file], { batchSize: 1024 }), ChainStore.ChainStore, store)
      return (yield* store.head).block.number
    }))
    const servers = yield* Effect.forEach(Array.from({ length: count }), () => ServeProcess.start(datadir, dir))
    return { enodes: servers.map((server) => server.enode), head }
  }).pipe(asBenchFailed, Effect.provide(NodeServices.layer))

/**
 * Real milliseconds for a node in this process to sync the servers' chain into an empty datadir:
 * from the syncing node's start (dials and handshakes included) until its sync engine (the
 * hash-chain downloader or the header-first engine) reports the servers' head imported, with
 * the engines configured as `ethsync sync` configures them (NodeSyncConfig), offering `versions`
 * (eth/61 and eth/60 unless told: R1 and R3 measure the hash-chain engine; the servers offer
 * eth/66-68 too). Seals are not checked (as in I1).
 */
export const run = (servers: Servers, versions: ReadonlyArray<Offered.Offered> = EthVersion.supported): Effect.Effect<{ readonly ms: number; readonly blocks: number }, BenchFailed> =>
  Effect.scoped(Effect.gen(function*() {
    const peers = yield* Effect.forEach(servers.enodes, (url) => {
      const enode = Rlpx.Enode.parse(url)
      return enode instanceof Rlpx.Enode.EnodeUrlError ? Effect.fail(new BenchFailed({ reason: enode.message })) : Effect.succeed(enode)
    })
    const store = yield* LmdbChainStore.make({ path: join(yield* tempDir(), "synced"), genesis: Genesis.mainnet, verifier: SealVerifier.none })
    const start = performance.now()
    const client = yield* NodeSyncConfig.provide(EthNode.make({
      store,
      key: Rlpx.NodeKey.generate(),
      networkId: Genesis.mainnetNetworkId,
      port: 0,
      peers,
      versions,
      syncOnFirstPeer: peers.length === 1
    }))
    // Subscribed before the sync can start: it needs a dial and a handshake first.
    const progress = Stream.merge(yield* client.downloader.subscribe, yield* client.headerEngine.subscribe)
    if (peers.length > 1) {
      yield* Effect.repeat(client.network.peers, { until: (connected) => connected.length >= peers.length, schedule: Schedule.spaced("1 millis") })
      yield* client.syncNow
    }
    // Told by the engines' events, not by polling the store: a poll reads and decodes the head
    // block each time, on the syncing node's own thread (about 3% of a sync every 2 ms).
    yield* Stream.runHead(Stream.filter(progress, (event) => event._tag === "Progress" && event.head >= servers.head)).pipe(
      Effect.timeoutOrElse({ duration: "5 minutes", orElse: () => Effect.fail(new BenchFailed({ reason: "the sync did not finish within 5 minutes" })) })
    )
    const ms = performance.now() - start
    const head = (yield* store.head).block.number
    if (head < servers.head) return yield* new BenchFailed({ reason: `the sync ended at block ${head} of ${servers.head}` })
    return { ms, blocks: servers.head }
  })).pipe(asBenchFailed, Effect.provide(NodeServices.layer))
