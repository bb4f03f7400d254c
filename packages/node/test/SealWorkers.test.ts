/**
 * The seal worker pool: a request whose caller stops waiting keeps its worker's slot until the
 * worker replies, so later requests go to a worker with room instead of queueing behind it; a
 * worker that dies is replaced, and the requests it held are sent again.
 */
import { describe, expect, it } from "@effect/vitest"
import { Ethash } from "@ethsync/core"
import { Cause, Effect, Exit, Fiber } from "effect"
import * as SealWorkers from "../src/seal/SealWorkers.ts"

/** Epoch 0's cache size: the smallest, yet a build takes a worker a good fraction of a second. */
const cacheBytes = Ethash.Epoch.cacheBytes(0)

describe("SealWorkers", () => {
  it.live("an interrupted request holds its slot until its worker replies; the next requests go to the other worker", () =>
    Effect.scoped(Effect.gen(function*() {
      const workers = yield* SealWorkers.make(2)
      // Both slots of the first worker: two builds, whose callers then stop waiting.
      const builds = [0, 1].map(() => new SharedArrayBuffer(cacheBytes))
      const abandoned = yield* Effect.forEach(builds, (cache) => Effect.forkChild(workers.request({ _tag: "Build", epoch: 0, cache })))
      yield* Effect.sleep("200 millis")
      yield* Effect.forEach(abandoned, Fiber.interrupt, { discard: true })
      // Three small checks: the third must wait for a slot of the second worker, not queue behind the builds.
      const cache = new SharedArrayBuffer(cacheBytes)
      yield* Effect.forEach([0, 1, 2], () =>
        workers.request({ _tag: "Verify", epoch: 0, cache, input: new Int32Array(Ethash.Seal.inputWords) }), { concurrency: "unbounded", discard: true })
      // The second build has not run yet: the checks did not wait for it.
      expect(new Int32Array(builds[1]!).some((word) => word !== 0)).toBe(false)
    })), 60_000)

  it.live("a worker killed by a request is replaced: the request queued behind it is answered by the replacement, the killing one dies after one more try", () =>
    Effect.scoped(Effect.gen(function*() {
      const workers = yield* SealWorkers.make(1)
      // A cache of the wrong size makes the worker throw, which ends its thread.
      const killing = yield* Effect.forkChild(Effect.exit(workers.request({
        _tag: "Verify", epoch: 0, cache: new SharedArrayBuffer(8), input: new Int32Array(Ethash.Seal.inputWords)
      })))
      const cache = new SharedArrayBuffer(cacheBytes)
      const queued = yield* Effect.forkChild(workers.request({ _tag: "Build", epoch: 0, cache }))
      const killed = yield* Fiber.join(killing)
      expect(Exit.isFailure(killed) && Cause.hasDies(killed.cause)).toBe(true)
      yield* Fiber.join(queued)
      expect(new Int32Array(cache).some((word) => word !== 0)).toBe(true)
      // The pool still answers, on its third worker.
      const { output } = yield* workers.request({ _tag: "Verify", epoch: 0, cache, input: new Int32Array(Ethash.Seal.inputWords) })
      expect(output.length).toBe(Ethash.Seal.outputWords)
    })), 60_000)

  it.live("a pool whose workers keep dying gives up: once no worker is left, requests die instead of waiting", () =>
    Effect.scoped(Effect.gen(function*() {
      const workers = yield* SealWorkers.make(1)
      const killing = workers.request({ _tag: "Verify", epoch: 0, cache: new SharedArrayBuffer(8), input: new Int32Array(Ethash.Seal.inputWords) })
      // Each kills two workers (its try and its retry); the pool of one spawns five in all.
      for (let i = 0; i < 3; i++) expect(Exit.isFailure(yield* Effect.exit(killing))).toBe(true)
      const good = yield* Effect.exit(workers.request({ _tag: "Build", epoch: 0, cache: new SharedArrayBuffer(cacheBytes) })).pipe(
        Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.die("the request waited for a worker that will never come") })
      )
      // The worker's own error, not the timeout's.
      expect(Exit.isFailure(good) && Cause.squash(good.cause)).toMatchObject({ _tag: "WorkerError" })
    })), 60_000)
})
