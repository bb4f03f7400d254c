import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SimPeer, TestChain } from "../src/index.ts"
import { Harness } from "../src/harness/index.ts"

const { resultTag } = Harness

// Dispatch beyond the seed: requests sized from measured throughput, and slow peers kept off the
// front of the cache window, so one slow peer cannot hold every fast one back.
describe("dispatch", () => {
  it.effect("fast peers are asked for full requests from the first round, reaching the floor of the workload", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(8 * 1024)
      const peers = []
      for (let i = 0; i < 4; i++) peers.push(yield* h.add(SimPeer.slow(`fast${i}`, chain, "50 millis")))
      const run = yield* h.runSync("fast0", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      // 4 hash requests of 2048, then 16 rounds of 4 x 128 blocks, 50 ms each.
      const floor = 4 * 50 + Math.ceil(chain.length / (4 * 128)) * 50
      expect(run.elapsed).toBeLessThanOrEqual(floor + 10)
      expect(peers.reduce((n, p) => n + p.counters.blockRequests, 0)).toBeLessThanOrEqual(Math.ceil(chain.length / 128) + 4)
    }))

  it.effect("a peer 10x slower than the rest gets one request, then none while the fast ones work", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(16 * 1024)
      for (let i = 0; i < 4; i++) yield* h.add(SimPeer.slow(`fast${i}`, chain, "50 millis"))
      const slow = yield* h.add(SimPeer.slow("slow", chain, "500 millis"))
      const run = yield* h.runSync("fast0", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(slow.counters.blockRequests).toBe(1)
      // The floor of the four fast peers, plus the one slow round trip that measured the slow peer.
      const floor = 8 * 50 + Math.ceil(chain.length / (4 * 128)) * 50
      expect(run.elapsed).toBeLessThanOrEqual(floor + 500)
      expect(run.dropped).toEqual([])
    }))

  it.effect("a slow peer is still asked when it is the only one that has the blocks", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(2 * 1024)
      const slow = yield* h.add(SimPeer.slow("slow", chain, "500 millis"))
      // A fast peer with the hash chain but no blocks: measured fast, useless for blocks.
      yield* h.add({ ...SimPeer.slow("empty", chain, "50 millis"), blocks: new Map() })
      const run = yield* h.runSync("slow", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(slow.counters.blockRequests).toBeGreaterThan(1)
    }))
})
