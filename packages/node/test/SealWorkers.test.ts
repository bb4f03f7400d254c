/**
 * The seal worker pool: a request whose caller stops waiting keeps its worker's slot until the
 * worker replies, so later requests go to a worker with room instead of queueing behind it.
 */
import { describe, expect, it } from "@effect/vitest"
import { Ethash } from "@ethsync/core"
import { Effect, Fiber } from "effect"
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
})
