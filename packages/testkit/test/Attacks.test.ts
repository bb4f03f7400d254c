import { describe, expect, it } from "@effect/vitest"
import { SyncMetrics } from "@ethsync/core"
import { Effect, Metric } from "effect"
import { Attacks, SimPeer, TestChain } from "../src/index.ts"
import { Harness } from "../src/harness/index.ts"

const { resultTag } = Harness

// Attacks the seed's scenarios do not cover; each must end the sync with an error (never hang)
// and leave the valid peer able to finish the job.
describe("attacks beyond the seed", () => {
  it.effect("a hash chain with a gap just above the common ancestor ends with InvalidChain instead of hanging", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const count = (counter: typeof SyncMetrics.blocksImported) => Effect.map(Metric.value(counter), (s) => s.count)
      const before = { imported: yield* count(SyncMetrics.blocksImported), dropped: yield* count(SyncMetrics.peersDropped) }
      const short = yield* TestChain.make(1)
      const chain = yield* TestChain.make(3)
      yield* h.add(SimPeer.honest("short", short))
      expect(resultTag(yield* h.runSync("short", short.head.hash))).toBe("Success")
      // Every second hash of 3..0 is [3, 1]: block 2, right above the ancestor 1, is never queued.
      yield* h.add(Attacks.everySecondHash("attack", chain))
      const run = yield* h.runSync("attack", chain.head.hash, { orDrop: true, within: "1 minute" })
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      yield* h.add(SimPeer.honest("valid", chain))
      expect(resultTag(yield* h.runSync("valid", chain.head.hash))).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      // The metrics saw it too: 1 + 2 blocks imported, one peer dropped.
      expect((yield* count(SyncMetrics.blocksImported)) - before.imported).toBe(3)
      expect((yield* count(SyncMetrics.peersDropped)) - before.dropped).toBe(1)
    }))
})
