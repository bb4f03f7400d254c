/**
 * Found by the RLPx hostile-peer test: a flooding peer that holds the request for the front of a
 * full download window. When its junk replies get it dropped, its request goes back to the queue,
 * and the block phase must look again at once (not wait for the request's hard TTL, 9 s) to ask
 * another peer for those blocks.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { SimPeer, TestChain } from "../src/index.ts"
import { Harness } from "../src/harness/index.ts"

describe("the downloader and a flooding peer that holds the front of the window", () => {
  it.effect("asks another peer for the flooder's blocks as soon as it is dropped, not after the hard TTL", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(3000)
      const flood = yield* h.addScripted("flood", chain.head.hash)
      yield* h.add(SimPeer.honest("honest", chain))
      const sync = yield* h.start("honest", chain.head.hash)
      const run = yield* Effect.forkChild(sync.outcome)
      // The flooder's block request (not a one-block cross-check): answered with junk once.
      while (true) {
        const request = yield* flood.next
        if (request._tag === "Blocks" && request.hashes.length > 1) break
      }
      const junk = [chain.blocks[chain.blocks.length - 1]!]
      yield* Effect.ignore(flood.sendBlocks(junk))
      // The honest peer fills the rest of the window and waits behind the flooder's request.
      yield* TestClock.adjust("1 second")
      expect(run.pollUnsafe()).toBeUndefined()
      // More junk: past the limit the flooder is dropped, and its request goes back.
      for (let i = 0; i < h.config.maxUnrequestedReplies; i++) yield* Effect.ignore(flood.sendBlocks(junk))
      yield* TestClock.adjust("1 millis")
      expect(h.drops.map((drop) => drop.peer)).toEqual(["flood"])
      // Well before the hard TTL, the honest peer has been asked for those blocks and the sync is done.
      for (let i = 0; i < 20; i++) yield* TestClock.adjust("100 millis")
      const ended = run.pollUnsafe()
      expect(ended && Exit.isSuccess(ended) && Harness.resultTag(ended.value)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      yield* Fiber.interrupt(run)
    }))
})
