/**
 * The entry point of a seal worker thread: builds caches and runs hashimoto-light batches for
 * the seal verifier, one request at a time, off the main thread's event loop.
 *
 * @since 0.2.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeWorkerRunner from "@effect/platform-node/NodeWorkerRunner"
// The Ethash modules alone: the worker starts without loading the rest of core.
import * as Ethash from "@ethsync/core/ethash"
import { Effect } from "effect"
import * as WorkerRunner from "effect/workers/WorkerRunner"
import type * as SealProtocol from "./SealProtocol.ts"

/** How many epochs' caches a worker keeps wrapped: the current one, its predecessor, the next. */
const keptEpochs = 3

/** The caches this worker has wrapped, by epoch, oldest first. */
const caches = new Map<number, Ethash.Cache.Cache>()

/** The wrapped cache of `epoch` over the shared bytes, made on first use. */
const cacheOf = (epoch: number, shared: SharedArrayBuffer): Ethash.Cache.Cache => {
  const known = caches.get(epoch)
  if (known) return known
  const cache = Ethash.Cache.fromWords(epoch, new Int32Array(shared))
  caches.set(epoch, cache)
  for (const old of caches.keys()) if (caches.size > keptEpochs) caches.delete(old)
  return cache
}

/** Answers one request. */
const answer = (request: SealProtocol.Request): SealProtocol.Reply => {
  if (request._tag === "Build") {
    Ethash.Cache.make(request.epoch, new Int32Array(request.cache))
    return { id: request.id, output: new Int32Array(0) }
  }
  const output = new Int32Array(request.input.length / Ethash.Seal.inputWords * Ethash.Seal.outputWords)
  Ethash.Seal.runBatch(cacheOf(request.epoch, request.cache), request.input, output)
  return { id: request.id, output }
}

/** Answers requests, each with one reply, until the verifier closes the worker. */
const main = Effect.gen(function*() {
  const platform = yield* WorkerRunner.WorkerRunnerPlatform
  const runner = yield* platform.start<SealProtocol.Reply, SealProtocol.Request>()
  yield* runner.run<void, never, never>((port, request) => {
    const reply = answer(request)
    runner.sendUnsafe(port, reply, [reply.output.buffer])
  })
})

NodeRuntime.runMain(main.pipe(Effect.provide(NodeWorkerRunner.layer)))
