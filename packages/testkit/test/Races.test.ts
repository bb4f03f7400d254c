import { describe, expect, it } from "@effect/vitest"
import { type Block, Hash } from "@ethsync/core"
import { Duration, Effect, Fiber, Result } from "effect"
import { TestClock } from "effect/testing"
import { Attacks, HashList, SimPeer, TestChain } from "../src/index.ts"
import { Harness, ImportGate } from "../src/harness/index.ts"

const { resultTag } = Harness

/** The seed's cache limit. */
const limit = 1024

/** The number of the store's head block. */
const headNumber = (h: Harness.Harness) => Effect.map(Effect.orDie(h.store.head), (head) => head.block.number)

/** Steps the test clock 10 ms at a time until `done` holds (dies after 60 s of virtual time). */
const stepUntil = (done: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; !done(); i++) {
      if (i === 6000) return yield* Effect.die(new Error("condition not reached within 60 s"))
      yield* TestClock.adjust("10 millis")
    }
  })

describe("races", () => {
  it.effect("race: deliveries arriving as the sync is canceled are refused with NoSyncActive, none hangs, nothing stays", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      const p = yield* h.addScripted("p", chain.head.hash)
      const sync = yield* h.start("p", chain.head.hash)
      expect((yield* p.next)._tag).toBe("Hashes")
      yield* p.sendHashes(HashList.toArray(chain.hashes).slice(1))
      const request = yield* p.next
      if (request._tag !== "Blocks") return yield* Effect.die(new Error("expected a block request"))
      const blocks = request.hashes.map((hash) => chain.blockMap.get(Hash.key(hash))!)
      // More deliveries than the sync's mailbox holds, sent before the sync reads any: the last ones wait for room.
      const deliveries = yield* Effect.forkChild(
        Effect.forEach(Array.from({ length: 100 }), () => Effect.result(p.sendBlocks(blocks))),
        { startImmediately: true }
      )
      expect(deliveries.pollUnsafe()).toBeUndefined()
      yield* h.downloader.cancel
      const results = yield* Fiber.join(deliveries)
      const refused = results.filter(Result.isFailure)
      expect(refused.length).toBeGreaterThan(0)
      expect(refused.every((r) => r.failure._tag === "NoSyncActive")).toBe(true)
      expect(resultTag(yield* sync.outcome)).toBe("BlockFetchCanceled")
      yield* h.add(SimPeer.honest("valid", chain))
      expect(resultTag(yield* h.runSync("valid", chain.head.hash))).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("race: cancel during import interrupts the held insert; a new sync imports the rest", () =>
    Effect.gen(function*() {
      const gate = yield* ImportGate.make
      const h = yield* Harness.make({ wrapStore: gate.wrap })
      const chain = yield* TestChain.make(2 * limit)
      yield* h.add(SimPeer.honest("peer", chain))
      const sync = yield* h.start("peer", chain.head.hash)
      yield* stepUntil(() => gate.waiting() === 1)
      yield* gate.open(2)
      yield* TestClock.adjust("10 millis")
      yield* stepUntil(() => gate.waiting() === 1)
      const stored = yield* headNumber(h)
      expect(stored).toBeGreaterThan(0)
      expect(stored).toBeLessThan(chain.length)
      yield* h.downloader.cancel
      expect(resultTag(yield* sync.outcome)).toBe("BlockFetchCanceled")
      expect(gate.waiting()).toBe(0)
      // Were the held insert still alive, these permits would let it store its chunk.
      yield* gate.open(chain.length)
      yield* TestClock.adjust("1 second")
      expect(yield* headNumber(h)).toBe(stored)
      expect(resultTag(yield* h.runSync("peer", chain.head.hash))).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("race: a second synchronise while one runs gets Busy at once and costs nobody the connection", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      yield* h.add(SimPeer.slow("peer", chain, "100 millis"))
      const first = yield* h.start("peer", chain.head.hash)
      const second = yield* h.runSync("peer", chain.head.hash, { orDrop: true })
      expect(resultTag(second)).toBe("Busy")
      expect(second.elapsed).toBe(0)
      expect(second.dropped).toEqual([])
      expect(yield* h.downloader.synchronising).toBe(true)
      expect(resultTag(yield* first.outcome)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("race: a peer unregistered while it holds a reservation: its hashes go back, another peer fetches them, the sync completes", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      const holder = yield* h.addScripted("holder", chain.head.hash)
      yield* h.add(SimPeer.honest("source", chain))
      const sync = yield* h.start("source", chain.head.hash)
      yield* TestClock.adjust("2 seconds")
      const held = holder.log.filter((r) => r._tag === "Blocks").flatMap((r) => r.hashes)
      expect(held.length).toBeGreaterThan(0)
      // The holder's blocks are missing, so nothing past them can be imported yet.
      expect(yield* headNumber(h)).toBe(0)
      expect((yield* h.downloader.stats).cached).toBe(chain.length - held.length)
      for (const hash of held) expect(yield* h.downloader.has(hash)).toBe(true)
      yield* h.downloader.unregisterPeer("holder")
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      // Well before the holder's request would have expired.
      expect(run.elapsed).toBeLessThan(Duration.toMillis(h.config.blockHardTTL))
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("race: a block whose bytes do not hash to what was requested never enters the chain; the sync completes from honest peers", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      const { spec, tampered } = Attacks.tamperedBlock("tamperer", chain, 300)
      let served = 0
      const counting = {
        get: (key: string): Block.Block | undefined => {
          const block = spec.blocks.get(key)
          if (block === tampered) served++
          return block
        }
      }
      yield* h.add({ ...spec, blocks: counting })
      yield* h.add(SimPeer.honest("honest", chain))
      const run = yield* h.runSync("honest", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(served).toBeGreaterThan(0)
      expect(yield* Effect.orDie(h.store.has(tampered.hash))).toBe(false)
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(run.dropped).toEqual([])
    }))
})
