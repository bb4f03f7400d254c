/**
 * The Ethash seal verifier: hashimoto-light on a pool of worker threads, in batches, so the event
 * loop stays free; the pool is started by the first seal to check, so a command that checks none
 * (`serve`) holds no worker's isolate. Each epoch's cache is built once, in a worker, into a
 * SharedArrayBuffer handed to every worker (each copies it once per epoch into its WebAssembly
 * memory, never per batch); with a datadir it is kept in `<datadir>/ethash/` and reused by later
 * runs (a corrupt or truncated file is rebuilt), and near an epoch's end the next epoch's cache is
 * built ahead of need. Without a datadir the caches live in memory only. A worker that dies is
 * replaced (SealWorkers).
 *
 * @since 0.2.0
 */
import { Ethash, Hash, type Header, InvalidBlock, SealVerifier } from "@ethsync/core"
import { Deferred, Effect, Layer, Scope } from "effect"
import * as Os from "node:os"
import * as CacheFile from "./CacheFile.ts"
import * as SealWorkers from "./SealWorkers.ts"

/** Where caches are kept, and how many workers check seals. */
export interface Options {
  /** The datadir whose `ethash/` folder keeps the caches; without it they live in memory only. */
  readonly datadir?: string | undefined
  /** Worker threads (at least one); the machine's available parallelism by default. */
  readonly workers?: number | undefined
}

/**
 * Headers per batch sent to a worker: a multiple of the 8 that hashimoto runs in lockstep, and
 * some tens of milliseconds of work, so the pool stays balanced and the messages are few.
 */
const batchSize = 32
/** The next epoch's cache is built when a header is this close to its epoch's end. */
const prebuildWindow = 2000
/**
 * The last epoch served (go-ethereum's size tables end there too, at block 61,439,999): a header
 * numbered beyond it fails at once, rather than make the verifier build a cache of hundreds of MiB.
 */
const lastEpoch = 2047
/** Epoch caches kept in memory (16 MiB and up each): the newest ones requested, and any still being built. */
const keptEpochs = 3

/** Builds the verifier, its workers living as long as the scope. */
export const make = (options: Options): Effect.Effect<SealVerifier.Shape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    /**
     * The worker pool, started by the first request (each worker is an isolate of its own, tens of MiB
     * with the modules it loads): a command that checks no seal, as `serve`, starts none. Started whole or
     * not at all: an interrupted start would not be cached, and its workers would live on beside the next.
     */
    const pool = yield* Effect.cached(Effect.uninterruptible(
      Effect.provideService(SealWorkers.make(Math.max(1, options.workers ?? Os.availableParallelism())), Scope.Scope, scope)
    ))
    const datadir = options.datadir

    /** Epoch caches, built or being built. */
    const caches = new Map<number, Deferred.Deferred<SharedArrayBuffer>>()

    /** Builds `epoch`'s cache in a worker, into new shared memory. */
    const build = (epoch: number) =>
      Effect.gen(function*() {
        const cache = new SharedArrayBuffer(Ethash.Epoch.cacheBytes(epoch))
        yield* (yield* pool).request({ _tag: "Build", epoch, cache })
        return cache
      })

    /** `epoch`'s cache from the datadir's file, or built (and then written there) when it has none fit to use. */
    const load = (epoch: number): Effect.Effect<SharedArrayBuffer> =>
      Effect.gen(function*() {
        if (datadir === undefined) return yield* build(epoch)
        const path = CacheFile.pathOf(datadir, epoch)
        const stored = yield* CacheFile.read(path, epoch).pipe(
          Effect.catch((error) => Effect.as(Effect.logWarning(`${error.message}; rebuilding it`), undefined))
        )
        if (stored) return stored
        const built = yield* build(epoch)
        yield* CacheFile.write(path, epoch, built).pipe(
          Effect.catch((error) => Effect.logWarning(`${error.message}; the cache stays in memory only`))
        )
        return built
      })

    /** The cache of `epoch`: loaded or built once, by a fiber of the verifier's own scope. */
    const cacheOf = (epoch: number): Effect.Effect<SharedArrayBuffer> =>
      Effect.suspend(() => {
        const known = caches.get(epoch)
        if (known) return Deferred.await(known)
        const ready = Deferred.makeUnsafe<SharedArrayBuffer>()
        caches.set(epoch, ready)
        // Only finished caches are evicted: one still being built would be built again if asked for.
        const finished = [...caches].filter(([e, cache]) => e !== epoch && Deferred.isDoneUnsafe(cache)).map(([e]) => e)
        finished.sort((a, b) => a - b)
        for (const e of finished.slice(0, Math.max(0, caches.size - keptEpochs))) caches.delete(e)
        return load(epoch).pipe(
          Effect.exit,
          Effect.flatMap((exit) => Deferred.done(ready, exit)),
          Effect.forkIn(scope),
          Effect.andThen(Deferred.await(ready))
        )
      })

    /** Checks one batch of headers of one epoch; the InvalidBlocks go to `results` at their indices. */
    const checkBatch = (
      epoch: number,
      headers: ReadonlyArray<Header.Header>,
      indices: ReadonlyArray<number>,
      results: Array<InvalidBlock.InvalidBlock | undefined>
    ) =>
      Effect.gen(function*() {
        const cache = yield* cacheOf(epoch)
        const input = new Int32Array(indices.length * Ethash.Seal.inputWords)
        indices.forEach((index, i) => Ethash.Seal.writeInput(headers[index]!, input, i * Ethash.Seal.inputWords))
        const { output } = yield* (yield* pool).request({ _tag: "Verify", epoch, cache, input })
        indices.forEach((index, i) => {
          results[index] = Ethash.Seal.judge(headers[index]!, output, i * Ethash.Seal.outputWords)
        })
      })

    /** Groups the headers by epoch, starts the next epoch's cache when one is near its end, checks the batches. */
    const verify: SealVerifier.Shape["verify"] = (headers) =>
      Effect.gen(function*() {
        const results = new Array<InvalidBlock.InvalidBlock | undefined>(headers.length).fill(undefined)
        const byEpoch = new Map<number, Array<number>>()
        headers.forEach((header, index) => {
          const epoch = Ethash.Epoch.ofBlock(header.number)
          if (epoch > lastEpoch) {
            results[index] = new InvalidBlock.InvalidBlock({
              rule: "number",
              number: header.number,
              hash: Hash.toHex(header.hash),
              reason: `block number ${header.number} is past Ethash's last epoch (${lastEpoch}), whose seals can be checked`
            })
            return
          }
          const group = byEpoch.get(epoch)
          if (group) group.push(index)
          else byEpoch.set(epoch, [index])
        })
        const upcoming = new Set<number>()
        for (const header of headers) {
          const next = Ethash.Epoch.ofBlock(header.number) + 1
          if (header.number % Ethash.Epoch.length >= Ethash.Epoch.length - prebuildWindow && next <= lastEpoch) {
            upcoming.add(next)
          }
        }
        for (const epoch of upcoming) yield* Effect.forkIn(cacheOf(epoch), scope)
        const batches: Array<readonly [number, ReadonlyArray<number>]> = []
        for (const [epoch, indices] of byEpoch) {
          for (let at = 0; at < indices.length; at += batchSize) batches.push([epoch, indices.slice(at, at + batchSize)])
        }
        if (batches.length === 0) return results
        const { slots } = yield* pool
        yield* Effect.forEach(batches, ([epoch, indices]) => checkBatch(epoch, headers, indices, results), {
          concurrency: slots,
          discard: true
        })
        return results
      })

    return { name: "ethash", verify }
  })

/** The Ethash seal verifier as a layer: its workers stop when the layer's scope closes. */
export const layer = (options: Options): Layer.Layer<SealVerifier.SealVerifier> =>
  Layer.effect(SealVerifier.SealVerifier, make(options))
