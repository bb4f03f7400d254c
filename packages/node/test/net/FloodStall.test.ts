/**
 * A downloader defect found by the RLPx hostile-peer test (net/HostilePeers.test.ts), reported to
 * the lead and not fixed here: the downloader's internals are outside this branch's area.
 *
 * A flooding peer holds the request for the front of the download window, and the window is full
 * behind it. When its junk replies get it dropped (Sync.unrequested → dropPeer), its request goes
 * back to the queue, but nothing wakes the block phase: the drop happens inside `Sync.next`, which
 * goes on waiting (the later PeerLeft signal finds the peer already removed and is ignored too).
 * The front blocks are asked of another peer only when the dropped request's hard TTL (9 s) fires.
 *
 * Today the sync ends about 7.4 s after the drop (when the request made at the start of the
 * block phase expires), not within the 2 s this test allows. Marked `fails` so that the suite
 * stays green while the defect is open; once the downloader is fixed this test fails, and
 * `.fails` must be removed. A likely fix: `Sync.next` returns `changed` after an unrequested
 * reply that dropped its peer (or `dropPeer` signals a change).
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import { SimPeer, TestChain } from "@ethsync/testkit"
import { Harness } from "@ethsync/testkit/harness"

describe("the downloader and a flooding peer that holds the front of the window", () => {
  it.effect.fails("asks another peer for the flooder's blocks as soon as it is dropped, not after the hard TTL", () =>
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
      expect(run.pollUnsafe()).toBeDefined()
      yield* Fiber.interrupt(run)
    }))
})
