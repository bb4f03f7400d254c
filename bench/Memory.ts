/**
 * M1 and M1-attack (issue 11, "Bounded memory, measured"): `ethsync sync` in a process of its own
 * syncs a generated chain (ChainCache) into an empty datadir from `ethsync serve` processes over
 * one cached datadir, so that their copies of the chain are not counted; the bench samples the
 * syncing process every {@link sampleMillis}: its resident set from `/proc/<pid>/status` (all of
 * it, and its anonymous part) and its V8 heap and blocks imported from its `--metrics` endpoint,
 * and reports the peaks at a tenth, a half and all of the chain, and the blocks per second from
 * the process's start to its last block. M1-attack adds an attacker process (bench/Attacker.ts)
 * that claims a heavier chain of made-up hashes, first in the sync's `--peer` list, and reports
 * whether the sync dropped it.
 *
 * @since 0.2.0
 */
import { Deferred, Effect, Schedule, type Scope } from "effect"
import { readFileSync } from "node:fs"
import * as Net from "node:net"
import { join } from "node:path"
import * as ChainCache from "./ChainCache.ts"
import * as CliProcess from "./CliProcess.ts"
import * as MemorySample from "./MemorySample.ts"
import * as ServeProcess from "./ServeProcess.ts"
import { BenchFailed, tempDir } from "./Workloads.ts"

/** What to measure. */
export interface Options {
  /** Blocks of the generated chain. */
  readonly blocks: number
  /** Honest `serve` processes. */
  readonly peers: number
  /** Made-up hashes the attacker offers; no attacker unless given. */
  readonly attackHashes?: number | undefined
}

/** How often the syncing process is sampled. */
const sampleMillis = 250

/** The longest a whole sync may take. */
const syncLimit = "60 minutes"

/** A port of 127.0.0.1 free a moment ago, for the syncing process's `--metrics`. */
const freePort = Effect.callback<number, BenchFailed>((resume) => {
  const server = Net.createServer()
  server.once("error", (error) => resume(Effect.fail(new BenchFailed({ reason: `no free port: ${error.message}` }))))
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** The attacker process: its enode URL and node id, once it listens. */
const startAttacker = (chain: ChainCache.Chain, hashes: number): Effect.Effect<{ readonly enode: string; readonly id: string }, BenchFailed, Scope.Scope> =>
  Effect.gen(function*() {
    // Twice the honest chain's TD: the heaviest peer, so the sync loop chooses it whenever it is connected.
    const child = yield* CliProcess.start([chain.genesis, String(chain.td * 2n), String(hashes)], "bench/Attacker.ts")
    const enode = yield* CliProcess.enode(child)
    return { enode, id: enode.slice("enode://".length, enode.indexOf("@")) }
  }).pipe(Effect.mapError((e) => new BenchFailed({ reason: e.message })))

/** One sample of the process, or undefined when it cannot be read yet (its metrics server not up). */
const sample = (pid: number, metricsUrl: string): Effect.Effect<MemorySample.Sample | undefined> =>
  Effect.promise(async () => {
    try {
      const resident = MemorySample.parseStatus(readFileSync(`/proc/${pid}/status`, "utf8"))
      const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(5_000) })).text()
      const heapUsed = MemorySample.parseMetric(text, "ethsync_process_heap_used_bytes")
      const blocks = MemorySample.parseMetric(text, "ethsync_blocks_imported") ?? 0
      return resident === undefined || heapUsed === undefined ? undefined : { blocks, resident, heapUsed }
    } catch {
      return undefined
    }
  })

/** Runs the case once and returns its JSON line's fields. */
export const run = (name: string, options: Options): Effect.Effect<Record<string, unknown>, BenchFailed> =>
  Effect.scoped(Effect.gen(function*() {
    const chain = yield* ChainCache.ensure(options.blocks)
    const dir = yield* tempDir("ethsync-bench-m1-")
    const servers = yield* Effect.forEach(Array.from({ length: options.peers }), () => ServeProcess.start(chain.datadir, dir), {
      concurrency: "unbounded"
    }).pipe(
      Effect.mapError((e) => new BenchFailed({ reason: e.message }))
    )
    const attacker = options.attackHashes === undefined ? undefined : yield* startAttacker(chain, options.attackHashes)
    const enodes = [...(attacker === undefined ? [] : [attacker.enode]), ...servers.map((server) => server.enode)]
    const port = yield* freePort
    const started = performance.now()
    const sync = yield* CliProcess.start([
      "sync", "--log-level", "warn", "--verify-seals", "none", "--datadir", join(dir, "synced"), "--genesis", chain.genesisFile,
      "--metrics", `127.0.0.1:${port}`, ...enodes.flatMap((enode) => ["--peer", enode])
    ]).pipe(Effect.mapError((e) => new BenchFailed({ reason: e.message })))
    const recorder = new MemorySample.Recorder(MemorySample.milestonesOf(options.blocks))
    const metricsUrl = `http://127.0.0.1:${port}/metrics`
    yield* Effect.gen(function*() {
      if (Deferred.isDoneUnsafe(sync.exited)) {
        return yield* new BenchFailed({ reason: `the syncing process ended: ${sync.stderrTail().trim()}` })
      }
      const taken = yield* sample(sync.pid, metricsUrl)
      if (taken !== undefined) recorder.record(taken)
    }).pipe(
      Effect.repeat({ until: () => recorder.done, schedule: Schedule.spaced(sampleMillis) }),
      Effect.timeoutOrElse({ duration: syncLimit, orElse: () => Effect.fail(new BenchFailed({ reason: `the sync did not finish within ${syncLimit}` })) })
    )
    const seconds = (performance.now() - started) / 1000
    // Its summary (the peers it dropped among it) is printed as it stops.
    yield* sync.stop
    const line: Record<string, unknown> = {
      case: name,
      blocks: options.blocks,
      peers: options.peers,
      peakRssMiB: MemorySample.mib(recorder.peakRss),
      rssMiB: MemorySample.byMilestone(recorder, "peakRss"),
      peakAnonMiB: MemorySample.mib(recorder.peakAnon),
      anonMiB: MemorySample.byMilestone(recorder, "peakAnon"),
      peakHeapMiB: MemorySample.mib(recorder.peakHeap),
      heapMiB: MemorySample.byMilestone(recorder, "peakHeap"),
      blocksPerSec: Math.round(options.blocks / seconds),
      seconds: Math.round(seconds * 10) / 10
    }
    if (attacker !== undefined) {
      const reason = MemorySample.dropReason(sync.lines, attacker.id)
      line["attackerDropped"] = reason !== undefined
      if (reason !== undefined) line["attackerDropReason"] = reason
    }
    return line
  }))
