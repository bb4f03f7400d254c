/**
 * The R2 workloads: the mainnet blocks of a geth-format file synced over RLPx on 127.0.0.1 between
 * ethsync and the EthereumJS client 0.10.5 (a child process, started by the interop tests'
 * harness, which keeps it on loopback), both ways. Each run starts untimed what must already be
 * there (the client loaded with the blocks, or ethsync's datadir holding them, and the client
 * started empty), then times from the syncing side's first contact until its head is the file's
 * last block, and fails loudly when it does not get there.
 *
 * @since 0.2.0
 */
import { NodeServices } from "@effect/platform-node"
import { ChainStore, Genesis, Hash, SealVerifier } from "@ethsync/core"
import { ChainImport, EthNode, LmdbChainStore, Offered, Rlpx } from "@ethsync/node"
import { Effect, Schedule } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import * as Mainnet from "../packages/core/test/support/mainnet.ts"
import * as EthereumJsClient from "../packages/node/test/interop/EthereumJsClient.ts"
import * as NetworkSync from "./NetworkSync.ts"
import { BenchFailed } from "./Workloads.ts"

/** How long one sync may take before the run is void. */
const limit = "15 minutes"

/** A temporary folder for the duration of the scope. */
const tempDir = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "ethsync-bench-r2-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** The enode of a URL that a node or the client printed. */
const enodeOf = (url: string) => {
  const enode = Rlpx.Enode.parse(url)
  return enode instanceof Rlpx.Enode.EnodeUrlError ? Effect.fail(new BenchFailed({ reason: enode.message })) : Effect.succeed(enode)
}

/**
 * Real milliseconds for ethsync (an in-process node on an empty LMDB datadir, header-first over
 * eth/68) to sync the mainnet blocks 1..N of the ETHSYNC_MAINNET_RLP file from the client loaded
 * with them (untimed): from the
 * node's start, dialling the client with an EIP-8 auth, until its head is block N with the
 * client's hash.
 */
export const runFromClient: Effect.Effect<{ readonly ms: number; readonly blocks: number }, BenchFailed> = Effect.scoped(Effect.gen(function*() {
    const dir = yield* tempDir
    const all = Mainnet.load().blocks
    const head = all[all.length - 1]!
    const blocks = join(dir, "blocks.rlp")
    EthereumJsClient.writeMainnetBlocks(blocks, 1, head.number)
    const client = yield* EthereumJsClient.start({ loadBlocksFromRlp: blocks, startLimit: 900_000 })
    const store = yield* LmdbChainStore.make({ path: join(dir, "synced"), genesis: Genesis.mainnet, verifier: SealVerifier.none })
    const start = performance.now()
    yield* EthNode.make({
      store,
      key: Rlpx.NodeKey.generate(),
      networkId: Genesis.mainnetNetworkId,
      port: 0,
      peers: [yield* enodeOf(client.enode)],
      handshake: "eip8",
      syncOnFirstPeer: true
    })
    const synced = yield* Effect.repeat(store.head, {
      until: (ours) => ours.block.number >= head.number,
      schedule: Schedule.spaced("2 millis")
    }).pipe(Effect.timeoutOrElse({ duration: limit, orElse: () => Effect.fail(new BenchFailed({ reason: `ethsync did not sync from the client within ${limit}` })) }))
    const ms = performance.now() - start
    if (!Hash.equals(synced.block.hash, head.hash)) return yield* new BenchFailed({ reason: "ethsync's head is not the file's" })
    return { ms, blocks: head.number }
  })).pipe(
    Effect.mapError((e) => e._tag === "BenchFailed" ? e : new BenchFailed({ reason: e.message })),
    Effect.provide(NodeServices.layer)
  )

/**
 * Real milliseconds for the client, started empty (untimed), to sync the file's blocks 1..N from
 * an in-process ethsync node serving an LMDB datadir holding them (imported untimed): from the
 * node's start, dialling the client with an EIP-8 auth, until the client's JSON-RPC says its head
 * is block N with the file's hash. The client executes every block it takes.
 */
export const runClientFromEthsync = (file: string): Effect.Effect<{ readonly ms: number; readonly blocks: number }, BenchFailed> =>
  Effect.scoped(Effect.gen(function*() {
    const dir = yield* tempDir
    const served = yield* LmdbChainStore.make({ path: join(dir, "served"), initialGenesis: Genesis.mainnet, verifier: SealVerifier.none })
    yield* Effect.provideService(ChainImport.importFiles([file], { batchSize: 1024 }), ChainStore.ChainStore, served)
    const head = (yield* served.head).block
    const client = yield* EthereumJsClient.start()
    const start = performance.now()
    yield* EthNode.make({
      store: served,
      key: Rlpx.NodeKey.generate(),
      networkId: Genesis.mainnetNetworkId,
      port: 0,
      peers: [yield* enodeOf(client.enode)],
      handshake: "eip8",
      autoSync: false
    })
    yield* Effect.repeat(client.blockNumber, {
      until: (number) => number >= head.number,
      schedule: Schedule.spaced("100 millis")
    }).pipe(Effect.timeoutOrElse({ duration: limit, orElse: () => Effect.fail(new BenchFailed({ reason: `the client did not sync from ethsync within ${limit}` })) }))
    const ms = performance.now() - start
    const top = yield* client.rpc("eth_getBlockByNumber", [`0x${head.number.toString(16)}`, false])
    if ((top as { readonly hash?: string }).hash !== Hash.toHex(head.hash)) return yield* new BenchFailed({ reason: "the client's head is not the file's" })
    return { ms, blocks: head.number }
  })).pipe(
    Effect.mapError((e) => e._tag === "BenchFailed" ? e : new BenchFailed({ reason: e.message })),
    Effect.provide(NodeServices.layer)
  )

/** The median of some figures. */
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Blocks per second of `blocks` in `ms`. */
const perSecond = (blocks: number, ms: number) => Math.round(blocks / ms * 1000)

/**
 * The R2 case, `runs` times each, alternating: ethsync syncing from the client, the client syncing
 * from ethsync, and, side by side, ethsync syncing header-first (eth/68) and by hash chains (eth/61,
 * R1) from one `ethsync serve` child, each sync configured as `ethsync sync` configures it (as R1
 * is measured: `NetworkSync`); one untimed ethsync-to-ethsync sync of each kind first, so the JIT
 * has compiled both ends. The medians, as blocks/s and milliseconds, with every run's
 * milliseconds. Without `client` (the case R2-ethsync), only the two ethsync-to-ethsync syncs: the
 * header-first engine against R1 in a few seconds, without the client's minutes.
 */
export const r2Case = (file: string, runs: number, client = true) =>
  Effect.scoped(Effect.gen(function*() {
    const servers = yield* NetworkSync.startServers(file, 1)
    yield* NetworkSync.run(servers, Offered.all)
    const { blocks } = yield* NetworkSync.run(servers)
    const times: Record<string, Array<number>> = client
      ? { fromClient: [], clientFromEthsync: [], headerFirst: [], r1: [] }
      : { headerFirst: [], r1: [] }
    for (let i = 0; i < runs; i++) {
      if (client) {
        times["fromClient"]!.push((yield* runFromClient).ms)
        times["clientFromEthsync"]!.push((yield* runClientFromEthsync(file)).ms)
      }
      times["headerFirst"]!.push((yield* NetworkSync.run(servers, Offered.all)).ms)
      times["r1"]!.push((yield* NetworkSync.run(servers)).ms)
    }
    const round = (ms: number) => Math.round(ms)
    const figures = Object.fromEntries(Object.entries(times).flatMap(([name, ms]) => [
      [`${name}BlocksPerSec`, perSecond(blocks, median(ms))],
      [`${name}Ms`, round(median(ms))]
    ]))
    return {
      case: client ? "R2" : "R2-ethsync",
      blocks,
      ...figures,
      headerFirstOverR1: Math.round(median(times["r1"]!) / median(times["headerFirst"]!) * 100) / 100,
      ...(client ? { headerFirstOverClient: Math.round(median(times["clientFromEthsync"]!) / median(times["headerFirst"]!) * 10) / 10 } : {}),
      runs: Object.fromEntries(Object.entries(times).map(([name, ms]) => [name, ms.map(round)])),
      loadAverage: Math.round(loadavg()[0]! * 10) / 10
    }
  }))
