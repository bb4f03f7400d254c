/**
 * `npx pnpm@12.4.2 bench [--case W3] [--quick] [--blocks N]`: runs the workloads of
 * shared/docs/benchmarks.md, each 3 times, and prints one JSON line per case with the median. M1
 * and M1-attack (one run each, 1,000,000 blocks unless `--blocks` says otherwise) run only when
 * named. Not part of the tests.
 *
 * @since 0.1.0
 */
import { NodeRuntime } from "@effect/platform-node"
import { DownloaderConfig, SealVerifier } from "@ethsync/core"
import { EthashVerifier } from "@ethsync/node"
import { Console, Duration, Effect, References } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { loadavg, tmpdir } from "node:os"
import { join } from "node:path"
import * as Interop from "./Interop.ts"
import * as Memory from "./Memory.ts"
import * as NetworkSync from "./NetworkSync.ts"
import * as Seals from "./Seals.ts"
import * as Workloads from "./Workloads.ts"

/** Runs per case; the median is reported. */
const runs = 3

/** Every case: its name and how to measure it once, in milliseconds. */
interface Case {
  /** W1..W5, W5-slow, I1, I1-seals, S1, S2, R1, R2, R2-ethsync, R3, P1, P1-cache, M1, M1-attack. */
  readonly name: string
  /** The workload, for the sync cases. */
  readonly workload?: Workloads.SyncWorkload
  /** Whether it runs on the test clock (virtual milliseconds). */
  readonly virtual?: boolean
  /** Whether it runs only when named by `--case` (it takes minutes). */
  readonly named?: boolean
}

const args = process.argv.slice(2)
const quick = args.includes("--quick")
const only = args.includes("--case") ? args[args.indexOf("--case") + 1] : undefined
const scale = (n: number) => quick ? Math.max(1000, Math.round(n / 20)) : n
const file = process.env["ETHSYNC_MAINNET_RLP"]
/** Blocks of M1's chain: `--blocks N`, else a million (50,000 with `--quick`). */
const memoryBlocks = args.includes("--blocks") ? Number(args[args.indexOf("--blocks") + 1]) : scale(1_000_000)
if (!Number.isInteger(memoryBlocks) || memoryBlocks < 10) {
  console.error(`--blocks takes a whole number of at least 10, not ${args[args.indexOf("--blocks") + 1]}`)
  process.exit(2)
}

const cases: ReadonlyArray<Case> = [
  { name: "W1", workload: { blocks: scale(10_000), peers: 1, delay: Duration.zero } },
  { name: "W2", workload: { blocks: scale(100_000), peers: 1, delay: Duration.zero } },
  { name: "W3", workload: { blocks: scale(100_000), peers: 8, delay: Duration.zero } },
  { name: "W4", workload: { blocks: scale(100_000), peers: 8, delay: Duration.millis(5) } },
  { name: "W5", virtual: true, workload: { blocks: scale(100_000), peers: 8, delay: Duration.millis(50) } },
  {
    name: "W5-slow",
    virtual: true,
    workload: { blocks: scale(100_000), peers: 8, delay: Duration.millis(50), slowPeers: 1, slowFactor: 10 }
  },
  { name: "I1" },
  { name: "I1-seals" },
  { name: "S1" },
  { name: "S2" },
  { name: "R1" },
  { name: "R2" },
  { name: "R2-ethsync" },
  { name: "R3" },
  { name: "P1" },
  { name: "P1-cache" },
  { name: "M1", named: true },
  { name: "M1-attack", named: true }
]

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
const round = (x: number) => Math.round(x * 10) / 10

/**
 * The import of the mainnet file: I1 without seal checks, I1-seals with Ethash on a pool of
 * workers whose epoch-0 cache is built (into a temporary folder) by an untimed run first, as a
 * node that has run before keeps it in its datadir.
 */
const measureImport = (name: "I1" | "I1-seals") =>
  Effect.scoped(Effect.gen(function*() {
    if (!file) return yield* Console.log(JSON.stringify({ case: name, skipped: "ETHSYNC_MAINNET_RLP is not set" }))
    const verifier = name === "I1" ? SealVerifier.none : yield* EthashVerifier.make({
      datadir: yield* Effect.acquireRelease(
        Effect.sync(() => mkdtempSync(join(tmpdir(), "ethsync-bench-caches-"))),
        (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
      )
    })
    if (name === "I1-seals") yield* Workloads.runImport(file, verifier)
    const results: Array<{ ms: number; blocks: number }> = []
    for (let i = 0; i < runs; i++) results.push(yield* Workloads.runImport(file, verifier))
    const ms = median(results.map((r) => r.ms))
    const blocks = results[0]!.blocks
    return yield* Console.log(JSON.stringify({
      case: name, blocks, medianMs: round(ms), blocksPerSec: Math.round(blocks / ms * 1000), runs: results.map((r) => round(r.ms))
    }))
  }))

/** Measures one case and prints its line. */
const measure = (c: Case) =>
  Effect.gen(function*() {
    if (c.name === "P1-cache") return yield* Console.log(JSON.stringify(yield* Seals.cacheCase))
    if (c.name === "P1") {
      if (!file) return yield* Console.log(JSON.stringify({ case: "P1", skipped: "ETHSYNC_MAINNET_RLP is not set" }))
      return yield* Console.log(JSON.stringify(yield* Seals.sealsCase(file)))
    }
    if (c.name === "S1" || c.name === "S2") {
      if (!file) return yield* Console.log(JSON.stringify({ case: c.name, skipped: "ETHSYNC_MAINNET_RLP is not set" }))
      const protocol = c.name === "S1" ? "eth/61" : "eth/66"
      // One untimed run first, so the JIT has compiled the serving paths.
      const { blocks } = yield* Workloads.runServe(file, protocol)
      const served: Array<number> = []
      const imported: Array<number> = []
      for (let i = 0; i < runs; i++) {
        served.push((yield* Workloads.runServe(file, protocol)).ms)
        imported.push((yield* Workloads.runImport(file, SealVerifier.none)).ms)
      }
      const serveMs = median(served)
      const importMs = median(imported)
      return yield* Console.log(JSON.stringify({
        case: c.name, protocol, blocks, serveMs: round(serveMs), importMs: round(importMs), ratio: Math.round(serveMs / importMs * 1000) / 1000,
        runs: served.map(round)
      }))
    }
    if (c.name === "R2" || c.name === "R2-ethsync") {
      return yield* Console.log(JSON.stringify(
        file ? yield* Interop.r2Case(file, runs, c.name === "R2") : { case: c.name, skipped: "ETHSYNC_MAINNET_RLP is not set" }
      ))
    }
    if (c.name === "R1" || c.name === "R3") {
      if (!file) return yield* Console.log(JSON.stringify({ case: c.name, skipped: "ETHSYNC_MAINNET_RLP is not set" }))
      return yield* Effect.scoped(Effect.gen(function*() {
        const servers = yield* NetworkSync.startServers(file, c.name === "R1" ? 1 : 3)
        // One untimed run first, so the JIT has compiled the syncing node (and the servers their serving).
        yield* NetworkSync.run(servers)
        const synced: Array<number> = []
        const imported: Array<number> = []
        for (let i = 0; i < runs; i++) {
          synced.push((yield* NetworkSync.run(servers)).ms)
          imported.push((yield* Workloads.runImport(file, SealVerifier.none)).ms)
        }
        const syncMs = median(synced)
        const importMs = median(imported)
        return yield* Console.log(JSON.stringify({
          case: c.name, blocks: servers.head, servers: servers.enodes.length, syncMs: round(syncMs), importMs: round(importMs),
          ratio: Math.round(syncMs / importMs * 1000) / 1000, runs: synced.map(round), importRuns: imported.map(round),
          loadAverage: round(loadavg()[0]!)
        }))
      }))
    }
    if (c.name === "M1" || c.name === "M1-attack") {
      const attackHashes = c.name === "M1-attack" ? 10_000_000 : undefined
      return yield* Console.log(JSON.stringify(yield* Memory.run(c.name, { blocks: memoryBlocks, peers: 4, attackHashes })))
    }
    if (c.name === "I1" || c.name === "I1-seals") return yield* measureImport(c.name)
    const workload = c.workload!
    // One untimed run at a tenth of the size first, so the JIT has compiled the hot paths.
    const warmUp = { ...workload, blocks: Math.max(1000, Math.round(workload.blocks / 10)) }
    yield* (c.virtual ? Workloads.runVirtual(warmUp) : Workloads.runLive(warmUp))
    const times: Array<number> = []
    for (let i = 0; i < runs; i++) {
      times.push(yield* (c.virtual ? Workloads.runVirtual(workload) : Workloads.runLive(workload)))
    }
    const ms = median(times)
    const line: Record<string, unknown> = {
      case: c.name,
      blocks: workload.blocks,
      peers: workload.peers,
      medianMs: round(ms),
      blocksPerSec: Math.round(workload.blocks / ms * 1000),
      runs: times.map(round)
    }
    if (c.virtual) {
      const seed = DownloaderConfig.seed
      const floor = Workloads.floor(workload, seed.maxHashFetch, seed.maxBlockFetch)
      line["virtualMs"] = ms
      line["floorMs"] = floor
      if (c.name === "W5-slow") {
        const bound = floor + Duration.toMillis(workload.delay) * (workload.slowFactor ?? 1)
        line["boundMs"] = bound
        line["withinBound"] = ms <= bound
      } else {
        line["efficiency"] = Math.round(floor / ms * 1000) / 1000
      }
    }
    yield* Console.log(JSON.stringify(line))
  })

const selected = cases.filter((c) => only === undefined ? !c.named : c.name === only)
if (selected.length === 0) {
  console.error(`no case named ${only}; cases: ${cases.map((c) => c.name).join(", ")}`)
  process.exit(2)
}
// Logs stay out of stdout's JSON lines: only warnings and errors are shown.
NodeRuntime.runMain(Effect.forEach(selected, measure, { discard: true }).pipe(
  Effect.provideService(References.MinimumLogLevel, "Warn")
))
