/**
 * The seal benchmarks: P1 (every seal of the mainnet file through the Ethash verifier's worker
 * pool, warm cache; with the keccak-512 candidates and @ethereumjs/ethash on a sample, measured
 * in the same run) and P1-cache (epoch 0's cache, built in this thread). P1 also reports seals per
 * CPU-second of the whole process (main thread and workers): unlike the wall-clock figures, it
 * does not fall when other programs take the cores.
 *
 * @since 0.2.0
 */
import { Block, Ethash, type Header, RlpSplitter } from "@ethsync/core"
import { EthashVerifier } from "@ethsync/node"
import { Ethash as EthereumjsEthash } from "@ethereumjs/ethash"
import { Effect, Result } from "effect"
import { createKeccak } from "hash-wasm"
import { createRequire } from "node:module"
import { readFileSync } from "node:fs"
import * as Os from "node:os"
// Core's own dependency, not the root's: reached through core's folder.
import { keccak_512 } from "../packages/core/node_modules/@noble/hashes/sha3.js"
import * as Keccak32 from "./Keccak32.ts"
import { BenchFailed } from "./Workloads.ts"

/** The native `keccak` package's bindings (no type declarations ship with it): the part used here. */
const nativeKeccak = createRequire(import.meta.url)("keccak/bindings") as (algorithm: "keccak512") => {
  update(data: Buffer): { digest(): Buffer }
}

/** Headers @ethereumjs/ethash checks: it takes about a quarter of a second per seal. */
const ethereumjsSample = 12

/** Every header above genesis and every uncle of the file, in file order. */
export const sealedHeaders = (file: string): ReadonlyArray<Header.Header> =>
  [...RlpSplitter.items(new Uint8Array(readFileSync(file)))].flatMap((item, number) => {
    const block = Block.decode(item)
    if (Result.isFailure(block)) throw new Error(`block ${number} does not decode: ${block.failure.message}`)
    return number === 0 ? [] : [block.success.header, ...block.success.uncles]
  })

/** The median of numbers. */
const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** Milliseconds `f` takes. */
const time = (f: () => void): number => {
  const start = performance.now()
  f()
  return performance.now() - start
}

/** Nanoseconds per keccak-512 of 64 bytes, for each candidate (the median of 3 runs of 200,000). */
const keccakCandidates = Effect.promise(async () => {
  const calls = 200_000
  const bytes = Buffer.from(new Uint8Array(64).map((_, i) => i))
  const words = new Int32Array(Uint8Array.from(bytes).buffer)
  const out = new Int32Array(16)
  const hasher = await createKeccak(512)
  const candidates: Record<string, () => void> = {
    noble: () => keccak_512(bytes),
    hashWasm: () => hasher.init().update(bytes).digest("binary"),
    nativeKeccak: () => nativeKeccak("keccak512").update(bytes).digest(),
    js32: () => Keccak32.hash512(words, 0, 16, out, 0),
    wasmPerCall: () => Ethash.Wasm.keccak(bytes, 9, 8)
  }
  const ns: Record<string, number> = {}
  for (const [name, hash] of Object.entries(candidates)) {
    for (let i = 0; i < calls / 10; i++) hash()
    ns[name] = Math.round(median([0, 1, 2].map(() => time(() => { for (let i = 0; i < calls; i++) hash() }))) * 1e6 / calls)
  }
  return ns
})

/** P1-cache: epoch 0's cache, built 3 times here; the median, and the WebAssembly keccak's cost within it. */
export const cacheCase = Effect.sync(() => {
  const runs = [0, 1, 2].map(() => time(() => Ethash.Cache.make(0)))
  const ms = median(runs)
  const keccaks = 4 * Ethash.Epoch.cacheBytes(0) / 64
  return { case: "P1-cache", ms: Math.round(ms), runs: runs.map(Math.round), wasmKeccakNsInCache: Math.round(ms * 1e6 / keccaks) }
})

/** @ethereumjs/ethash's seals per second on the first headers (its cache is built first, untimed). */
const ethereumjs = (headers: ReadonlyArray<Header.Header>) =>
  Effect.gen(function*() {
    const ethash = new EthereumjsEthash()
    ethash.mkcache(Ethash.Epoch.cacheBytes(0), Ethash.Epoch.seedHash(0))
    ethash.fullSize = Ethash.Epoch.datasetBytes(0)
    const sample = headers.filter((header) => header.number < Ethash.Epoch.length).slice(0, ethereumjsSample)
    let wrong = 0
    const ms = time(() => {
      for (const header of sample) {
        const { mix } = ethash.run(Ethash.Seal.sealHash(header), header.nonce.slice())
        if (!mix.every((b, i) => b === header.mixHash[i])) wrong++
      }
    })
    if (wrong > 0) return yield* new BenchFailed({ reason: `@ethereumjs/ethash disagrees on ${wrong} mixes` })
    return sample.length / ms * 1000
  })

/** P1: every seal of the file through the worker pool, the cache warm; 3 timed runs. */
export const sealsCase = (file: string) =>
  Effect.scoped(Effect.gen(function*() {
    const headers = sealedHeaders(file)
    const workers = Os.availableParallelism()
    const verifier = yield* EthashVerifier.make({ workers })
    yield* verifier.verify(headers.slice(0, 64))
    const runs: Array<number> = []
    const cpuRuns: Array<number> = []
    for (let i = 0; i < 3; i++) {
      const start = performance.now()
      const cpuStart = process.cpuUsage()
      const results = yield* verifier.verify(headers)
      runs.push(performance.now() - start)
      const cpu = process.cpuUsage(cpuStart)
      cpuRuns.push((cpu.user + cpu.system) / 1000)
      const failed = results.filter((failure) => failure !== undefined).length
      if (failed > 0) return yield* new BenchFailed({ reason: `${failed} of ${headers.length} seals failed` })
    }
    const sealsPerSec = headers.length / median(runs) * 1000
    const keccak512NsPerHash = yield* keccakCandidates
    const ethereumjsSealsPerSec = yield* ethereumjs(headers)
    return {
      case: "P1",
      seals: headers.length,
      workers,
      sealsPerSec: Math.round(sealsPerSec),
      sealsPerSecPerCore: Math.round(sealsPerSec / workers),
      sealsPerCpuSecond: Math.round(headers.length / median(cpuRuns) * 1000),
      medianMs: Math.round(median(runs)),
      runs: runs.map(Math.round),
      keccak512NsPerHash,
      ethereumjsSealsPerSec: Math.round(ethereumjsSealsPerSec * 100) / 100,
      perCoreRatioToEthereumjs: Math.round(sealsPerSec / workers / ethereumjsSealsPerSec)
    }
  }))
