/**
 * The eth/61 counterparts of the seed's scenarios, on TestClock: the same simulated peers and
 * attackers, speaking eth/61, so that every sync runs forward by number from the common ancestor.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { Attacks, HashList, SimPeer, TestChain } from "../src/index.ts"
import { Harness } from "../src/harness/index.ts"

const { resultTag } = Harness

/** The seed's cache limit: the unit of every scenario's size. */
const limit = 1024

/** The number of the store's head block. */
const headNumber = (h: Harness.Harness) => Effect.map(Effect.orDie(h.store.head), (head) => head.block.number)

/** An honest eth/61 peer holding all of `chain`. */
const honest = (id: string, chain: TestChain.TestChain) => SimPeer.eth61(SimPeer.honest(id, chain))

/** Syncs from the honest peer `valid` and checks that every block of `chain` is then stored. */
const validSyncSucceeds = (h: Harness.Harness, valid: string, chain: TestChain.TestChain) =>
  Effect.gen(function*() {
    const run = yield* h.runSync(valid, chain.head.hash)
    expect(resultTag(run)).toBe("Success")
    expect(yield* h.holdsAll(chain.blocks)).toBe(true)
  })

describe("eth/61 forward sync: the seed's scenarios", () => {
  it.effect("#1: one honest peer, cache limit - 15 blocks: all imported, its hashes asked by number only", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit - 15)
      const peer = yield* h.add(honest("peer", chain))
      const run = yield* h.runSync("peer", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(yield* headNumber(h)).toBe(limit - 15)
      expect(run.dropped).toEqual([])
      // The ancestor (the genesis), two batches of 512, and the empty answer that ends the stream.
      expect(peer.counters.hashRequests).toBe(4)
    }))

  it.effect("#3: cancel before, during and after a sync leaves the queue empty; the next sync goes on from the last import", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(4 * limit)
      yield* h.add({ ...honest("peer", chain), latency: "20 millis" })
      const empty = { queued: 0, cached: 0, importing: 0 }
      yield* h.downloader.cancel
      expect(yield* h.downloader.stats).toMatchObject(empty)
      const sync = yield* h.start("peer", chain.head.hash)
      while ((yield* headNumber(h)) === 0) yield* TestClock.adjust("10 millis")
      yield* h.downloader.cancel
      const canceled = yield* sync.outcome
      expect(resultTag(canceled)).toBe("HashFetchCanceled")
      expect(canceled.dropped).toEqual([])
      expect(yield* h.downloader.stats).toMatchObject(empty)
      const imported = yield* headNumber(h)
      expect(imported).toBeGreaterThan(0)
      expect(imported).toBeLessThan(chain.length)
      expect(resultTag(yield* h.runSync("peer", chain.head.hash))).toBe("Success")
      yield* h.downloader.cancel
      expect(yield* h.downloader.stats).toMatchObject(empty)
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("#5: 16 peers with ever shorter tails: the middle peer's part (to its head), then everything from the best", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(16 * limit - 15)
      for (let i = 0; i < 16; i++) {
        yield* h.add(SimPeer.eth61({ id: `peer #${i}`, hashes: HashList.drop(chain.hashes, i * limit), blocks: chain.blockMap }))
      }
      const middle = chain.length - 8 * limit
      const first = yield* h.runSync("peer #8", chain.blocks[middle]!.hash)
      expect(resultTag(first)).toBe("Success")
      expect(yield* headNumber(h)).toBe(middle)
      const second = yield* h.runSync("peer #0", chain.head.hash)
      expect(resultTag(second)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(h.drops).toEqual([])
    }))

  it.effect("#6: a fast and a 1 s-slow peer, 2 x cache limit - 15 blocks: blocks from both, done in under 3 x the slow delay", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(2 * limit - 15)
      yield* h.add(honest("fast", chain))
      const slow = yield* h.add(SimPeer.eth61(SimPeer.slow("slow", chain, "1 second")))
      const run = yield* h.runSync("fast", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(slow.counters.blockRequests).toBeGreaterThan(0)
      expect(run.elapsed).toBeLessThan(3 * 1000)
    }))

  it.effect("#7: an attacker's single block has an unknown parent: InvalidChain as it does not link to the genesis; not stored", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(1)
      yield* h.add(honest("valid", chain))
      const attack = SimPeer.eth61(Attacks.unknownParent("attack", chain))
      yield* h.add(attack)
      const forged = attack.hashes.at(0)
      const run = yield* h.runSync("attack", forged, { orDrop: true })
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      expect(yield* Effect.orDie(h.store.has(forged))).toBe(false)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("#8: an attacker's chain lacks its last link (the genesis): every hash is one height off, InvalidChain within 1 s", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      yield* h.add(honest("valid", chain))
      yield* h.add(SimPeer.eth61(Attacks.withoutLastLink("attack", chain)))
      const run = yield* h.runSync("attack", chain.head.hash, { orDrop: true, within: "1 second" })
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      expect(yield* headNumber(h)).toBe(0)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("#9: an attacker's hash chain has a hash with no block behind it: the block above it does not link, InvalidChain", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      yield* h.add(honest("valid", chain))
      yield* h.add(SimPeer.eth61(Attacks.missingBlock("attack", chain)))
      const run = yield* h.runSync("attack", chain.head.hash, { orDrop: true })
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      // Blocks below the hole were imported meanwhile; the rest comes from the valid peer.
      expect(yield* headNumber(h)).toBeLessThan(limit / 2)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("#10: an attacker swaps two cache-sized chunks of hashes: InvalidChain at the first block out of place", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(4 * limit)
      yield* h.add(honest("valid", chain))
      yield* h.add(SimPeer.eth61(Attacks.swappedChunks("attack", chain, limit)))
      const run = yield* h.runSync("attack", chain.head.hash, { orDrop: true })
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("#11: an attacker serves a made-up chain of 1024 x cache limit hashes with no blocks: InvalidChain at its first empty block answer", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      yield* h.add(honest("valid", chain))
      const attack = yield* h.add(SimPeer.eth61(Attacks.madeUpChain("attack", 1024 * limit, chain.blocks[0]!.hash, 11)))
      const run = yield* h.runSync("attack", attack.handle.head, { orDrop: true })
      // A peer that gave hashes by number and has no block for them made them up.
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      expect(run.elapsed).toBeLessThan(100)
      // Every block request it could have open went out before its first (empty) answer ended the sync.
      expect(attack.counters.blockRequests).toBe(h.config.requestsPerPeer)
      // The ancestor's, the first batch's, and the next two (each asked before the block requests of the one before).
      expect(attack.counters.hashRequests).toBeLessThanOrEqual(4)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("#12: a peer that claims more total difficulty than ours but has no hash above our head: StallingPeer at its first answer", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      yield* h.add(honest("valid", chain))
      const ours = (yield* Effect.orDie(h.store.head)).td
      const attack = yield* h.add(Attacks.stalling61("attack", chain, 2n * ours))
      const run = yield* h.runSync("attack", attack.handle.head, { orDrop: true })
      expect(resultTag(run)).toBe("StallingPeer")
      expect(run.dropped).toEqual(["attack"])
      // The ancestor request, then the first forward one, answered empty.
      expect(attack.counters.hashRequests).toBe(2)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("an empty first answer from a peer that claims no more total difficulty than ours ends the sync with nothing to do", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      const peer = yield* h.add(Attacks.stalling61("behind", chain, 0n))
      const run = yield* h.runSync("behind", peer.handle.head, { orDrop: true })
      expect(resultTag(run)).toBe("Success")
      expect(run.dropped).toEqual([])
      expect(yield* headNumber(h)).toBe(0)
    }))

  it.effect("#13: an attacker serves every second hash of a real chain: InvalidChain, a block is not at the height it was given", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(4 * limit)
      yield* h.add(SimPeer.eth61(Attacks.everySecondHash("attack", chain)))
      const run = yield* h.runSync("attack", chain.head.hash, { orDrop: true })
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      yield* h.add(honest("valid", chain))
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("#14: an attacker's blocks all claim the genesis as parent: InvalidChain at block 2, which does not link to block 1", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(4 * limit)
      yield* h.add(honest("valid", chain))
      const attack = yield* h.add(SimPeer.eth61(Attacks.genesisParents("attack", chain)))
      const run = yield* h.runSync("attack", attack.handle.head, { orDrop: true })
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      // Only block 1, the one forged block that is the real one, may have been imported.
      expect(yield* headNumber(h)).toBeLessThanOrEqual(1)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("#15: an attacker's chain runs through a banned hash: InvalidChain when the batch holding it arrives, and the attacker is dropped", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(4 * limit)
      const fork = yield* Attacks.bannedFork("attack", chain, limit)
      const h = yield* Harness.make({ pinned: [fork.banned.hash] })
      yield* h.add(honest("valid", chain))
      yield* h.add(SimPeer.eth61(fork.spec))
      const run = yield* h.runSync("attack", fork.head.hash, { orDrop: true })
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      expect(yield* Effect.orDie(h.store.has(fork.banned.hash))).toBe(false)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("#17: an attacker adds an unrequested block to every reply: the sync still imports everything", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit - 23)
      const attack = yield* h.add(SimPeer.withUnrequested(honest("attack", chain), chain.head))
      const run = yield* h.runSync("attack", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(run.dropped).toEqual([])
      expect(attack.counters.blocksSent).toBeGreaterThan(attack.counters.blocksAsked)
    }))

  it.effect("a hash source that stops answering: Timeout at hashTTL, the blocks of the batches it sent are imported and kept", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(2 * limit)
      yield* h.add(honest("valid", chain))
      // The ancestor request and one batch of 512 are answered, nothing after.
      const source = yield* h.add({ ...honest("source", chain), hashReplies: 2 })
      const run = yield* h.runSync("source", chain.head.hash, { orDrop: true })
      expect(resultTag(run)).toBe("Timeout")
      expect(run.dropped).toEqual(["source"])
      expect(source.counters.hashRequests).toBe(3)
      expect(run.elapsed).toBeGreaterThanOrEqual(5000)
      expect(run.elapsed).toBeLessThan(5100)
      expect(yield* headNumber(h)).toBe(h.config.maxHashesFromNumber)
      yield* validSyncSucceeds(h, "valid", chain)
    }))
})
