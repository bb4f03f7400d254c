/**
 * The Ethash seal verifier on its worker threads, started by the first seal to check: real seals
 * pass and changed ones fail with the rule named; the epoch cache is kept in the datadir, reused,
 * rebuilt when truncated or corrupt, and the next epoch's is built ahead near an epoch's end; a
 * cache still being built is never evicted (so never built twice); cache file writes never share
 * a temporary file nor leave one, and remove those that killed writers left.
 * All mainnet headers above genesis and their uncles pass when ETHSYNC_MAINNET_RLP is set.
 */
import { Block, type Header, RlpSplitter } from "@ethsync/core"
import { afterAll, describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type * as WorkerThreads from "node:worker_threads"
import { block1, changed, uncleOf3 } from "../../core/test/support/sealedHeaders.ts"
import * as CacheFile from "../src/seal/CacheFile.ts"
import * as EthashVerifier from "../src/seal/EthashVerifier.ts"

const file = process.env["ETHSYNC_MAINNET_RLP"]
if (!file) console.log("EthashVerifier.test.ts: the mainnet test is skipped: ETHSYNC_MAINNET_RLP is not set")

const root = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethsync-ethash-"))
afterAll(() => Fs.rmSync(root, { recursive: true, force: true }))
/** The datadir whose epoch-0 cache the first test builds and the later ones reuse. */
const datadir = Path.join(root, "datadir")
const cachePath = CacheFile.pathOf(datadir, 0)

/** The verdicts (rule or "ok") of a verifier made with `options` on `headers` (one worker unless said). */
const verdicts = (options: EthashVerifier.Options, headers: ReadonlyArray<Header.Header>) =>
  Effect.scoped(Effect.gen(function*() {
    const verifier = yield* EthashVerifier.make({ workers: 1, ...options })
    const results = yield* verifier.verify(headers)
    return results.map((failure) => failure?.rule ?? "ok")
  }))

/** A copy of `bytes` with the bits of `mask` flipped at `at` (a copy even of a Buffer, whose slice is a view). */
const flipped = (bytes: Uint8Array, at: number, mask: number): Uint8Array => {
  const copy = Uint8Array.from(bytes)
  copy[at] = copy[at]! ^ mask
  return copy
}

/** Waits (at most 60 s of real time) until `path` exists; whether it does. */
const appears = (path: string) =>
  Effect.gen(function*() {
    for (let waited = 0; waited < 60_000 && !Fs.existsSync(path); waited += 100) yield* Effect.sleep("100 millis")
    return Fs.existsSync(path)
  })

/** Calls `f` with each seal request the worker threads started while `effect` runs are sent. */
const watchingRequests = <A, E>(f: (request: { readonly _tag: string; readonly epoch: number }) => void, effect: Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const onWorker = (worker: WorkerThreads.Worker) => {
        const post = worker.postMessage.bind(worker)
        worker.postMessage = (message: unknown, transfers?: ReadonlyArray<WorkerThreads.Transferable>) => {
          const request = Array.isArray(message) ? message.find((part) => typeof part === "object" && part !== null && "_tag" in part) : undefined
          if (request) f(request)
          post(message, transfers)
        }
      }
      process.on("worker", onWorker)
      return onWorker
    }),
    () => effect,
    (onWorker) => Effect.sync(() => process.off("worker", onWorker))
  )

describe("CacheFile", () => {
  it.live("two writes of one file at once both succeed, and the file is one of them whole", () =>
    Effect.gen(function*() {
      const dir = Path.join(root, "writes")
      const path = CacheFile.pathOf(dir, 0)
      const caches = [1, 2].map((fill) => {
        const cache = new SharedArrayBuffer(1 << 22)
        new Uint8Array(cache).fill(fill)
        return cache
      })
      yield* Effect.forEach(caches, (cache) => CacheFile.write(path, 0, cache), { concurrency: 2, discard: true })
      const written = Fs.readFileSync(path).subarray(52)
      expect(caches.some((cache) => written.equals(new Uint8Array(cache)))).toBe(true)
      expect(Fs.readdirSync(Path.dirname(path))).toEqual(["cache-0"])
    }))

  it.live("a write removes the temporary files that writers killed mid-write left, not those of running writers", () =>
    Effect.gen(function*() {
      const dir = Path.join(root, "leftovers")
      const path = CacheFile.pathOf(dir, 0)
      Fs.mkdirSync(Path.dirname(path), { recursive: true })
      // Above Linux's largest pid (2^22): no process has it. The parent of this process runs.
      const killed = ["cache-0.partial-4194305-0", "cache-1.partial-4194305-3"]
      const live = `cache-0.partial-${process.ppid}-0`
      for (const name of [...killed, live]) Fs.writeFileSync(Path.join(Path.dirname(path), name), "partial")
      yield* CacheFile.write(path, 0, new SharedArrayBuffer(1024))
      expect(Fs.readdirSync(Path.dirname(path)).sort()).toEqual(["cache-0", live])
    }))

  it.live("a failed write leaves no temporary file behind", () =>
    Effect.gen(function*() {
      // A directory where the file should go: the rename fails.
      const blocked = CacheFile.pathOf(Path.join(root, "blocked"), 0)
      Fs.mkdirSync(Path.join(blocked, "inside"), { recursive: true })
      const failed = yield* Effect.result(CacheFile.write(blocked, 0, new SharedArrayBuffer(1024)))
      expect(Result.isFailure(failed) && failed.failure.reason).toMatch(/rename/)
      expect(Fs.readdirSync(Path.dirname(blocked))).toEqual(["cache-0"])
    }))
})

describe("EthashVerifier", () => {
  it.live("builds an epoch's cache once when more epochs than it keeps are asked for while it is built", () =>
    Effect.gen(function*() {
      const builds: Array<number> = []
      const onEpoch = (epoch: number) => changed(block1, { number: epoch * 30_000 + 1 })
      yield* watchingRequests((request) => {
        if (request._tag === "Build") builds.push(request.epoch)
      }, Effect.scoped(Effect.gen(function*() {
        const verifier = yield* EthashVerifier.make({ workers: 2 })
        yield* Effect.forEach([0, 1, 2, 3, 0], (epoch) => verifier.verify([onEpoch(epoch)]), { concurrency: "unbounded", discard: true })
      })))
      expect(builds.sort()).toEqual([0, 1, 2, 3])
    }), 120_000)

  it.live("passes real seals and names the rule a changed nonce or mixHash breaks; keeps the cache in the datadir", () =>
    Effect.gen(function*() {
      const nonce = flipped(block1.nonce, 7, 1)
      const mixHash = flipped(block1.mixHash, 0, 0x80) as Header.Header["mixHash"]
      const results = yield* verdicts({ datadir }, [block1, changed(block1, { nonce }), uncleOf3, changed(uncleOf3, { mixHash })])
      expect(results).toEqual(["ok", "sealMixHash", "ok", "sealMixHash"])
      expect(Fs.statSync(cachePath).size).toBe(16_776_896 + 52)
    }))

  it.live("reuses the cache file of an earlier run", () =>
    Effect.gen(function*() {
      yield* verdicts({ datadir }, [])
      const before = Fs.statSync(cachePath)
      expect(yield* verdicts({ datadir }, [block1])).toEqual(["ok"])
      const after = Fs.statSync(cachePath)
      expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs])
    }))

  it.live("rebuilds a truncated and a bit-flipped cache file, and checks seals right with the rebuilt cache", () =>
    Effect.gen(function*() {
      yield* verdicts({ datadir }, [block1])
      const good = Fs.readFileSync(cachePath)
      const damaged = [good.subarray(0, good.length - 1000), flipped(good, 5_000_000, 0x10)]
      // Both damaged datadirs at once: each verifier rebuilds in its own worker.
      yield* Effect.forEach(damaged.entries(), ([i, bytes]) =>
        Effect.gen(function*() {
          const other = Path.join(root, `damaged-${i}`)
          const path = CacheFile.pathOf(other, 0)
          Fs.mkdirSync(Path.dirname(path), { recursive: true })
          Fs.writeFileSync(path, bytes)
          const read = yield* Effect.result(CacheFile.read(path, 0))
          expect(Result.isFailure(read) && read.failure.reason).toMatch(i === 0 ? /truncated/ : /checksum/)
          expect(yield* verdicts({ datadir: other }, [block1, uncleOf3])).toEqual(["ok", "ok"])
          expect(Fs.readFileSync(path).equals(good)).toBe(true)
        }), { concurrency: 2, discard: true })
    }))

  it.live("builds the next epoch's cache ahead when a header is near its epoch's end", () =>
    Effect.gen(function*() {
      const verifier = yield* EthashVerifier.make({ datadir, workers: 1 })
      const late = changed(block1, { number: 29_500 })
      expect((yield* verifier.verify([late]))[0]?.rule).toBe("sealMixHash")
      expect(yield* appears(CacheFile.pathOf(datadir, 1))).toBe(true)
    }), 120_000)

  it.live("starts no worker thread until it has a seal to check, then all of them", () =>
    Effect.gen(function*() {
      let started = 0
      const onWorker = () => started++
      process.on("worker", onWorker)
      const counts = yield* Effect.scoped(Effect.gen(function*() {
        const verifier = yield* EthashVerifier.make({ datadir, workers: 2 })
        yield* verifier.verify([])
        // Time for a pool started at once to have started its threads (they start in fibers of their own).
        yield* Effect.sleep("1 second")
        const idle = started
        expect(yield* verifier.verify([block1])).toEqual([undefined])
        return [idle, started]
      })).pipe(Effect.ensuring(Effect.sync(() => process.off("worker", onWorker))))
      expect(counts).toEqual([0, 2])
    }))

  it.live("ends its worker threads when its scope closes", () =>
    Effect.gen(function*() {
      const started: Array<WorkerThreads.Worker> = []
      const exited = new Set<WorkerThreads.Worker>()
      const onWorker = (worker: WorkerThreads.Worker) => {
        started.push(worker)
        worker.on("exit", () => exited.add(worker))
      }
      process.on("worker", onWorker)
      expect(yield* verdicts({ datadir, workers: 2 }, [block1])).toEqual(["ok"])
      process.off("worker", onWorker)
      for (let waited = 0; waited < 10_000 && exited.size < started.length; waited += 50) yield* Effect.sleep("50 millis")
      expect([started.length, exited.size]).toEqual([2, 2])
    }))

  it.live("fails a header numbered past Ethash's last epoch at once, building no cache for it", () =>
    Effect.gen(function*() {
      const far = Path.join(root, "far")
      const results = yield* Effect.scoped(Effect.gen(function*() {
        const verifier = yield* EthashVerifier.make({ datadir: far, workers: 1 })
        return yield* verifier.verify([changed(block1, { number: 2048 * 30_000 })])
      }))
      expect(results[0]?.rule).toBe("number")
      expect(results[0]?.reason).toContain("past Ethash's last epoch")
      expect(Fs.existsSync(far)).toBe(false)
    }))

  it.live.skipIf(!file)("passes all 8,191 mainnet headers above genesis and their 1,410 uncles", () =>
    Effect.gen(function*() {
      const bytes = new Uint8Array(Fs.readFileSync(file!))
      const headers = [...RlpSplitter.items(bytes)].flatMap((item, number) => {
        const block = Block.decode(item)
        if (Result.isFailure(block)) throw new Error(`block ${number} does not decode`)
        return number === 0 ? [] : [block.success.header, ...block.success.uncles]
      })
      expect(headers.length).toBe(8191 + 1410)
      const results = yield* verdicts({ datadir, workers: undefined }, headers)
      expect(results.filter((r) => r !== "ok")).toEqual([])
    }))
})
