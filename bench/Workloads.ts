/**
 * The benchmark workloads of shared/docs/benchmarks.md: W1-W4 on the real clock, W5 (and its
 * slow-peer variant) on the test clock, I1 as a geth-format file import, S1 as serving that chain
 * to an eth/61 client without a transport, and a sync of it over RLPx on loopback with both ends
 * in this process (R2's comparison; R1 and R3 run their servers as processes: NetworkSync.ts).
 * Each run verifies its result and fails loudly when a block is missing.
 *
 * @since 0.1.0
 */
import { NodeServices } from "@effect/platform-node"
import { ChainStore, Genesis, Hash, SealVerifier } from "@ethsync/core"
import { ChainImport, EthMessage, EthNode, EthVersion, HeaderFirstMessage, HeaderFirstServing, LmdbChainStore, type Offered, Rlpx, SealPrefetch, Serving } from "@ethsync/node"
import { SimPeer, TestChain } from "@ethsync/testkit"
import { Harness } from "@ethsync/testkit/harness"
import { Data, Duration, Effect, Exit, Result, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A run that did not produce the whole chain: the benchmark is void. */
export class BenchFailed extends Data.TaggedError("BenchFailed")<{ readonly reason: string }> {
  override get message() {
    return `benchmark failed: ${this.reason}`
  }
}

/** A sync workload: N blocks from P peers that each answer after `delay`. */
export interface SyncWorkload {
  /** Blocks on top of the genesis. */
  readonly blocks: number
  /** Peers holding the whole chain; the sync starts against the first. */
  readonly peers: number
  /** Delay before each answer. */
  readonly delay: Duration.Duration
  /** Peers whose delay is this many times longer (the slow-peer variant); none unless given. */
  readonly slowPeers?: number
  /** How much slower the slow peers are. */
  readonly slowFactor?: number
}

/** Checks that the store holds exactly the chain's blocks, numbers 0..N, canonical. */
const verify = (harness: Harness.Harness, chain: TestChain.TestChain) =>
  Effect.gen(function*() {
    const head = yield* harness.store.head
    if (head.block.number !== chain.length) {
      return yield* new BenchFailed({ reason: `head is block ${head.block.number}, expected ${chain.length}` })
    }
    for (const block of chain.blocks) {
      const stored = yield* harness.store.getByNumber(block.number)
      if (stored._tag === "None" || !Hash.equals(stored.value.hash, block.hash)) {
        return yield* new BenchFailed({ reason: `block ${block.number} is missing or wrong` })
      }
    }
  }).pipe(Effect.orDie)

/** Builds a harness with the workload's peers on the shared chain. */
const setUp = (workload: SyncWorkload) =>
  Effect.gen(function*() {
    const chain = yield* TestChain.make(workload.blocks)
    const harness = yield* Harness.make()
    const slowFrom = workload.peers - (workload.slowPeers ?? 0)
    for (let i = 0; i < workload.peers; i++) {
      const latency = i >= slowFrom ? Duration.times(workload.delay, workload.slowFactor ?? 1) : workload.delay
      yield* harness.add(SimPeer.slow(`peer${i}`, chain, latency))
    }
    return { chain, harness }
  })

/** Real milliseconds to sync the workload on the real clock. */
export const runLive = (workload: SyncWorkload): Effect.Effect<number, BenchFailed> =>
  Effect.scoped(Effect.gen(function*() {
    const { chain, harness } = yield* setUp(workload)
    const start = performance.now()
    yield* Effect.mapError(harness.downloader.synchronise("peer0", chain.head.hash), (e) =>
      new BenchFailed({ reason: e.message }))
    const elapsed = performance.now() - start
    yield* verify(harness, chain)
    return elapsed
  }))

/** Virtual milliseconds to sync the workload on the test clock. */
export const runVirtual = (workload: SyncWorkload): Effect.Effect<number, BenchFailed> =>
  Effect.scoped(Effect.gen(function*() {
    const { chain, harness } = yield* setUp(workload)
    const outcome = yield* harness.runSync("peer0", chain.head.hash)
    if (Exit.isFailure(outcome.exit)) return yield* new BenchFailed({ reason: Harness.resultTag(outcome) })
    yield* verify(harness, chain)
    return outcome.elapsed
  })).pipe(Effect.provide(TestClock.layer()))

/**
 * The W5 floor of a hashes-then-blocks design: every hash request in turn, then every block round
 * with all peers asking for the most blocks they may.
 */
export const floor = (workload: SyncWorkload, maxHashFetch: number, maxBlockFetch: number): number => {
  const rtt = Duration.toMillis(workload.delay)
  const fast = workload.peers - (workload.slowPeers ?? 0)
  return Math.ceil(workload.blocks / maxHashFetch) * rtt + Math.ceil(workload.blocks / (fast * maxBlockFetch)) * rtt
}

/**
 * Real milliseconds to import a geth-format file into an empty datadir, checking seals with
 * `verifier` as `ethsync import` does (each batch's checks started when it is read), and how many
 * blocks it brought.
 */
export const runImport = (file: string, verifier: SealVerifier.Shape): Effect.Effect<{ readonly ms: number; readonly blocks: number }, BenchFailed> =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "ethsync-bench-"))),
    (dir) =>
      Effect.scoped(Effect.gen(function*() {
        const prefetch = yield* SealPrefetch.make(verifier)
        const store = yield* LmdbChainStore.make({ path: dir, initialGenesis: Genesis.mainnet, verifier: prefetch.verifier })
        const start = performance.now()
        const summary = yield* ChainImport.importFiles([file], { batchSize: 1024, prefetch }).pipe(
          Effect.provideService(ChainStore.ChainStore, store)
        )
        const ms = performance.now() - start
        const head = yield* store.head
        if (head.block.number !== summary.read - 1) {
          return yield* new BenchFailed({ reason: `head is block ${head.block.number} after reading ${summary.read} blocks` })
        }
        return { ms, blocks: summary.imported }
      })).pipe(Effect.mapError((e) => e._tag === "BenchFailed" ? e : new BenchFailed({ reason: e.message }))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  ).pipe(Effect.provide(NodeServices.layer))

/** The answer to `request`, decoded as a client of eth/61 decodes it. */
const ask = (request: Serving.Request) =>
  Effect.flatMap(Serving.answer(request), ({ code, payload }) => {
    const decoded = EthMessage.decode(61, code, payload)
    return Result.isSuccess(decoded)
      ? Effect.succeed(decoded.success)
      : Effect.fail(new BenchFailed({ reason: `an answer does not decode: ${decoded.failure.message}` }))
  })

/** The answer to a header-first request, decoded as a client of eth/66 decodes it. */
const askHeaderFirst = (request: HeaderFirstServing.Request) =>
  Effect.flatMap(HeaderFirstServing.answer(request), ({ code, payload }) => {
    const decoded = HeaderFirstMessage.decode(66, code, payload)
    return Result.isSuccess(decoded)
      ? Effect.succeed(decoded.success)
      : Effect.fail(new BenchFailed({ reason: `an answer does not decode: ${decoded.failure.message}` }))
  })

/**
 * Asks, as an eth/66 client, for every canonical header from number 0, 1024 at a time, then for
 * their bodies until each has come; returns how many bodies came.
 */
const serveAllHeaderFirst = Effect.gen(function*() {
  /** Bodies the client received. */
  let blocks = 0
  /** The id of the next request. */
  let requestId = 0n
  for (let number = 0;;) {
    const origin = { origin: number, amount: HeaderFirstServing.maxHeaders, skip: 0, reverse: false }
    const headers = yield* askHeaderFirst(HeaderFirstMessage.GetBlockHeaders({ requestId: requestId++, ...origin }))
    if (headers._tag !== "BlockHeaders" || headers.headers.length === 0) return blocks
    for (let wanted = headers.headers.map((h) => h.hash); wanted.length > 0;) {
      const answer = yield* askHeaderFirst(HeaderFirstMessage.GetBlockBodies({ requestId: requestId++, hashes: wanted }))
      const count = answer._tag === "BlockBodies" ? answer.bodies.length : 0
      if (count === 0) return yield* new BenchFailed({ reason: `no body came for block ${Hash.toHex(wanted[0]!)}` })
      blocks += count
      wanted = wanted.slice(count)
    }
    number += headers.headers.length
  }
})

/** How a client asks for a whole chain: as eth/61 (S1) or as header-first eth/66 (S2). */
export type ServeProtocol = "eth/61" | "eth/66"

/**
 * Real milliseconds to serve the chain of a geth-format file, imported first (untimed) into an
 * empty datadir, as a client of `protocol` asks for it: eth/61, hashes from number 0, 2048 at a
 * time, then their blocks 128 at a time; eth/66, headers 1024 at a time, then their bodies. Each
 * answer is encoded by the server and decoded by the client, with no transport between them: the
 * serving side's and the codec's share of a sync.
 */
export const runServe = (file: string, protocol: ServeProtocol): Effect.Effect<{ readonly ms: number; readonly blocks: number }, BenchFailed> =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "ethsync-bench-"))),
    (dir) =>
      Effect.scoped(Effect.gen(function*() {
        const store = yield* LmdbChainStore.make({ path: dir, initialGenesis: Genesis.mainnet, verifier: SealVerifier.none })
        yield* Effect.provideService(ChainImport.importFiles([file], { batchSize: 1024 }), ChainStore.ChainStore, store)
        const start = performance.now()
        const blocks = yield* Effect.provideService(protocol === "eth/61" ? serveAll : serveAllHeaderFirst, ChainStore.ChainStore, store)
        const ms = performance.now() - start
        const head = yield* store.head
        if (blocks !== head.block.number + 1) {
          return yield* new BenchFailed({ reason: `served ${blocks} blocks of a chain of ${head.block.number + 1}` })
        }
        return { ms, blocks }
      })).pipe(Effect.mapError((e) => e._tag === "BenchFailed" ? e : new BenchFailed({ reason: e.message }))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  ).pipe(Effect.provide(NodeServices.layer))

/** Asks for every canonical hash from number 0, then for their blocks; returns how many blocks came. */
const serveAll = Effect.gen(function*() {
  /** Blocks the client received. */
  let blocks = 0
  for (let number = 0;;) {
    const hashes = yield* ask(EthMessage.GetBlockHashesFromNumber({ number, amount: Serving.maxHashes }))
    if (hashes._tag !== "BlockHashes" || hashes.hashes.length === 0) return blocks
    for (let at = 0; at < hashes.hashes.length; at += Serving.maxBlocks) {
      const answer = yield* ask(EthMessage.GetBlocks({ hashes: hashes.hashes.slice(at, at + Serving.maxBlocks) }))
      if (answer._tag === "Blocks") blocks += answer.blocks.length
    }
    number += hashes.hashes.length
  }
})

/** A temporary folder named `prefix`… for the duration of the scope. */
export const tempDir = (prefix = "ethsync-bench-") =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/**
 * Real milliseconds for a node to sync the chain of a geth-format file into an empty datadir over
 * RLPx on 127.0.0.1 from `servers` nodes serving one LMDB datadir holding it (imported first,
 * untimed): from the syncing node's start (dials and handshakes included) until its head is the
 * file's last block; seals are not checked (as in I1 and S1). Both ends run in this process, so it is also the cost of both ends' RLPx,
 * codec and serving. The servers offer `versions` (eth/61 and 60 unless told: a hash-chain sync).
 */
export const runNetworkSync = (
  file: string,
  servers: number,
  versions: ReadonlyArray<Offered.Offered> = EthVersion.supported
): Effect.Effect<{ readonly ms: number; readonly blocks: number }, BenchFailed> =>
  Effect.scoped(Effect.gen(function*() {
    const served = yield* LmdbChainStore.make({
      path: join(yield* tempDir(), "served"),
      initialGenesis: Genesis.mainnet,
      verifier: SealVerifier.none
    })
    yield* Effect.provideService(ChainImport.importFiles([file], { batchSize: 1024 }), ChainStore.ChainStore, served)
    const target = (yield* served.head).block.number
    const nodes = yield* Effect.forEach(
      Array.from({ length: servers }),
      () => EthNode.make({ store: served, key: Rlpx.NodeKey.generate(), networkId: Genesis.mainnetNetworkId, port: 0, autoSync: false, versions })
    )
    const peers = yield* Effect.forEach(nodes, (node) => {
      const enode = Rlpx.Enode.parse(node.enode)
      return enode instanceof Rlpx.Enode.EnodeUrlError ? Effect.fail(new BenchFailed({ reason: enode.message })) : Effect.succeed(enode)
    })
    const store = yield* LmdbChainStore.make({ path: join(yield* tempDir(), "synced"), genesis: Genesis.mainnet, verifier: SealVerifier.none })
    const start = performance.now()
    const client = yield* EthNode.make({
      store,
      key: Rlpx.NodeKey.generate(),
      networkId: Genesis.mainnetNetworkId,
      port: 0,
      peers,
      syncOnFirstPeer: servers === 1
    })
    if (servers > 1) {
      yield* Effect.repeat(client.network.peers, { until: (peers) => peers.length >= servers, schedule: Schedule.spaced("1 millis") })
      yield* client.syncNow
    }
    yield* Effect.repeat(store.head, { until: (head) => head.block.number >= target, schedule: Schedule.spaced("2 millis") }).pipe(
      Effect.timeoutOrElse({ duration: "5 minutes", orElse: () => Effect.fail(new BenchFailed({ reason: "the sync did not finish within 5 minutes" })) })
    )
    const ms = performance.now() - start
    return { ms, blocks: target }
  })).pipe(
    Effect.mapError((e) => e._tag === "BenchFailed" ? e : new BenchFailed({ reason: e.message })),
    Effect.provide(NodeServices.layer)
  )
