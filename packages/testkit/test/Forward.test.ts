import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { SimPeer, TestChain } from "../src/index.ts"
import { Harness } from "../src/harness/index.ts"

const { resultTag } = Harness

/** The seed's cache limit: the unit of every scenario's size. */
const limit = 1024

/** The number of the store's head block. */
const headNumber = (h: Harness.Harness) => Effect.map(Effect.orDie(h.store.head), (head) => head.block.number)

describe("eth/61 forward sync", () => {
  it.effect("one honest eth/61 peer, cache limit - 15 blocks: all imported, hashes asked by number only", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit - 15)
      const peer = yield* h.add(SimPeer.eth61(SimPeer.honest("peer", chain)))
      const run = yield* h.runSync("peer", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(yield* headNumber(h)).toBe(limit - 15)
      expect(run.dropped).toEqual([])
      // The ancestor (the genesis), two batches of 512, and the empty answer that ends the stream.
      expect(peer.counters.hashRequests).toBe(4)
    }))

  it.effect("a second sync finds the first one's head as the common ancestor and fetches only what is new", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(3 * limit)
      const short = yield* TestChain.make(2 * limit)
      yield* h.add(SimPeer.eth61(SimPeer.honest("short", short)))
      expect(resultTag(yield* h.runSync("short", short.head.hash))).toBe("Success")
      const long = yield* h.add(SimPeer.eth61(SimPeer.honest("long", chain)))
      const run = yield* h.runSync("long", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* headNumber(h)).toBe(3 * limit)
      // Only blocks above the first sync's head were asked of anyone.
      expect(long.counters.blocksAsked).toBeLessThanOrEqual(limit)
    }))
})
