/**
 * How an eth/61 sync flows, on TestClock: blocks are imported while hashes still arrive, the hash
 * fetch never queues more than its cap and waits while full, a batch that does not link to the one
 * before is the hash source's fault, and answers arriving late or across syncs are not mistaken
 * for the open request's.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Block, Hash } from "@ethsync/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { Attacks, ChainGenerator, SimPeer, TestChain } from "../src/index.ts"
import { Harness, ImportGate, type ScriptedPeer } from "../src/harness/index.ts"

const { resultTag } = Harness

/** The seed's cache limit. */
const limit = 1024

/** The number of the store's head block. */
const headNumber = (h: Harness.Harness) => Effect.map(Effect.orDie(h.store.head), (head) => head.block.number)

/** An honest eth/61 peer holding all of `chain`. */
const honest = (id: string, chain: TestChain.TestChain) => SimPeer.eth61(SimPeer.honest(id, chain))

/** Hashes the downloader holds for the running sync: queued ones and those of blocks waiting for import. */
const held = (h: Harness.Harness) => Effect.map(h.downloader.stats, (stats) => stats.queued + stats.cached)

/** Takes the scripted peer's next request, dying unless it asks for hashes by number. */
const nextByNumber = (peer: ScriptedPeer.ScriptedPeer) =>
  Effect.flatMap(peer.next, (request) =>
    request._tag === "HashesFromNumber" ? Effect.succeed(request) : Effect.die(new Error(`expected hashes by number, got ${request._tag}`)))

/** The hashes of `blocks`. */
const hashesOf = (blocks: ReadonlyArray<Block.Block>) => blocks.map((block) => block.hash)

describe("eth/61 forward sync: flow and bounds", () => {
  it.effect("blocks are imported while the hash stream still runs: the user sees progress long before the last hash", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(4 * limit)
      // Hash answers take 200 ms, block answers 1 ms: 10 hash requests take 2 s in all.
      const peer = yield* h.add({ ...honest("peer", chain), latency: "200 millis", blockLatency: "1 millis" })
      const sync = yield* h.start("peer", chain.head.hash)
      while ((yield* headNumber(h)) === 0) yield* TestClock.adjust("10 millis")
      expect(peer.counters.hashRequests).toBeLessThanOrEqual(3)
      expect(yield* h.downloader.synchronising).toBe(true)
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      // The ancestor, 8 batches of 512, and the empty answer that ends the stream.
      expect(peer.counters.hashRequests).toBe(10)
    }))

  it.effect("with the importer held, the hash fetch stops at the cap and waits; it goes on as blocks are imported", () =>
    Effect.gen(function*() {
      const gate = yield* ImportGate.make
      const cap = 2 * limit
      const h = yield* Harness.make({ wrapStore: gate.wrap, config: { maxQueuedHashes: cap } })
      const chain = yield* TestChain.make(8 * limit)
      const peer = yield* h.add(honest("peer", chain))
      const sync = yield* h.start("peer", chain.head.hash)
      let most = 0
      for (let i = 0; i < 100; i++) {
        yield* TestClock.adjust("10 millis")
        most = Math.max(most, yield* held(h))
      }
      // Full but for the chunk the held importer took out of the queue.
      expect(most).toBeGreaterThan(cap - h.config.maxHashesFromNumber)
      expect(most).toBeLessThanOrEqual(cap)
      // The ancestor request and the 4 batches that fill the cap, then nothing while it is full.
      expect(peer.counters.hashRequests).toBe(1 + cap / h.config.maxHashesFromNumber)
      expect(yield* headNumber(h)).toBe(0)
      while (yield* h.downloader.synchronising) {
        yield* gate.open(1)
        for (let i = 0; i < 10; i++) {
          yield* TestClock.adjust("10 millis")
          expect(yield* held(h)).toBeLessThanOrEqual(cap)
          expect((yield* h.downloader.stats).cached).toBeLessThanOrEqual(h.config.blockCacheLimit)
        }
      }
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(peer.counters.hashRequests).toBe(1 + chain.length / h.config.maxHashesFromNumber + 1)
    }))

  it.effect("a peer advertising 10 M made-up hashes never has more than the cap queued, and is dropped; the honest sync then completes", () =>
    Effect.gen(function*() {
      const cap = 4 * limit
      const h = yield* Harness.make({ config: { maxQueuedHashes: cap } })
      const chain = yield* TestChain.make(2 * limit)
      yield* h.add(honest("valid", chain))
      // Its empty block answers come after a second: the hash fetch has that long to queue all it may.
      const attack = yield* h.add({
        ...SimPeer.eth61(Attacks.madeUpChain("attack", 10_000_000, chain.blocks[0]!.hash, 61)),
        blockLatency: "1 second"
      })
      const sync = yield* h.start("attack", attack.handle.head, { orDrop: true })
      let most = 0
      while (yield* h.downloader.synchronising) {
        const stats = yield* h.downloader.stats
        expect(stats.queued).toBeLessThanOrEqual(cap)
        most = Math.max(most, stats.queued)
        yield* TestClock.adjust("10 millis")
      }
      const run = yield* sync.outcome
      expect(most).toBe(cap)
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["attack"])
      expect(attack.counters.hashRequests).toBe(1 + cap / h.config.maxHashesFromNumber)
      expect(resultTag(yield* h.runSync("valid", chain.head.hash))).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("a batch that does not link to the one before it (its first block's parent is not the last hash) is InvalidChain from its source", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { maxHashesFromNumber: 4 } })
      const chain = yield* TestChain.make(16)
      const branch = yield* ChainGenerator.fork(chain.blocks, 2, 14, { seed: 9 })
      const blocks = new Map([...chain.blocks, ...branch].map((block) => [block.key, block]))
      const peer = yield* h.addScripted("p", chain.head.hash, 61)
      /** The next hash request by number, answering the block requests before it from both chains. */
      const nextHashRequest = Effect.gen(function*() {
        while (true) {
          const request = yield* peer.next
          if (request._tag === "HashesFromNumber") return request
          if (request._tag === "Blocks") yield* peer.sendBlocks(request.hashes.flatMap((hash) => blocks.get(Hash.key(hash)) ?? []))
        }
      })
      const sync = yield* h.start("p", chain.head.hash, { orDrop: true })
      yield* nextHashRequest
      yield* peer.sendHashes([chain.blocks[0]!.hash])
      expect(yield* nextHashRequest).toEqual({ _tag: "HashesFromNumber", from: 1, count: 4 })
      yield* peer.sendHashes(hashesOf(chain.blocks.slice(1, 5)))
      expect(yield* nextHashRequest).toEqual({ _tag: "HashesFromNumber", from: 5, count: 4 })
      // Heights 5..8 of a fork that left the chain at 2: block 5' names 4', not 4, as its parent.
      yield* peer.sendHashes(hashesOf(branch.slice(2, 6)))
      // The next hash request goes out before the fork's block requests: those are answered all the same.
      yield* Effect.forkChild(Effect.forever(nextHashRequest))
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("InvalidChain")
      expect(run.dropped).toEqual(["p"])
      // The first batch linked: its blocks are in; nothing of the fork is.
      expect(yield* headNumber(h)).toBe(4)
      expect(yield* Effect.orDie(h.store.has(branch[2]!.hash))).toBe(false)
    }))

  it.effect("eth/60 peers serve blocks beside the eth/61 origin, and are never asked for hashes", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(4 * limit)
      const origin = yield* h.add(honest("origin", chain))
      const old = yield* h.add(SimPeer.honest("eth60", chain))
      const run = yield* h.runSync("origin", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(old.counters.hashRequests).toBe(0)
      expect(old.counters.blocksSent).toBeGreaterThan(0)
      expect(origin.counters.blocksSent).toBeGreaterThan(0)
    }))

  it.effect("a block peer leaving mid-sync gives its reservation back and the sync completes from the origin", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(4 * limit)
      yield* h.add(honest("origin", chain))
      // Its answers take long: it holds a reservation when it leaves.
      const leaver = yield* h.add({ ...honest("leaver", chain), blockLatency: "2 seconds" })
      const sync = yield* h.start("origin", chain.head.hash)
      while (leaver.counters.blockRequests === 0) yield* TestClock.adjust("1 millis")
      yield* h.downloader.unregisterPeer("leaver")
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(run.elapsed).toBeLessThan(2000)
    }))

  it.effect("a forward batch longer than asked for, or repeating a hash already queued, is BadPeer", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { maxHashesFromNumber: 4 } })
      const chain = yield* TestChain.make(16)
      const batches: ReadonlyArray<ReadonlyArray<Block.Block>> = [
        chain.blocks.slice(1, 6),
        [chain.blocks[1]!, chain.blocks[5]!, chain.blocks[6]!, chain.blocks[7]!]
      ]
      for (const [i, second] of batches.entries()) {
        const peer = yield* h.addScripted(`p${i}`, chain.head.hash, 61)
        const sync = yield* h.start(`p${i}`, chain.head.hash, { orDrop: true })
        yield* nextByNumber(peer)
        yield* peer.sendHashes([chain.blocks[0]!.hash])
        yield* nextByNumber(peer)
        if (i === 0) {
          yield* peer.sendHashes(hashesOf(second))
        } else {
          // Block requests go unanswered: the first batch stays queued when the second repeats its first hash.
          yield* peer.sendHashes(hashesOf(chain.blocks.slice(1, 5)))
          while ((yield* peer.next)._tag !== "HashesFromNumber") continue
          yield* peer.sendHashes(hashesOf(second))
        }
        const run = yield* sync.outcome
        expect(resultTag(run)).toBe("BadPeer")
        expect(run.dropped).toEqual([`p${i}`])
      }
    }))

  it.effect("a late answer to an earlier sync's hash request is not taken for the next sync's", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit)
      const peer = yield* h.addScripted("p", chain.head.hash, 61)
      const first = yield* h.start("p", chain.head.hash)
      yield* nextByNumber(peer)
      expect(resultTag(yield* first.outcome)).toBe("Timeout")
      const second = yield* h.start("p", chain.head.hash)
      expect(yield* nextByNumber(peer)).toEqual({ _tag: "HashesFromNumber", from: 0, count: 1 })
      // The first sync's answer comes now, and a made-up one: taken as the ancestor it would fail the sync.
      yield* peer.sendHashes([Attacks.unknownHash, Attacks.unknownHash])
      yield* peer.sendHashes([chain.blocks[0]!.hash])
      expect(yield* nextByNumber(peer)).toEqual({ _tag: "HashesFromNumber", from: 1, count: 512 })
      yield* h.downloader.cancel
      expect(resultTag(yield* second.outcome)).toBe("HashFetchCanceled")
    }))

  it.effect("hashes nobody asked for are counted against their sender, which is dropped past the limit; the sync goes on", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { maxUnrequestedReplies: 2 } })
      const chain = yield* TestChain.make(limit)
      yield* h.add({ ...honest("peer", chain), latency: "100 millis" })
      const flooder = yield* h.addScripted("flooder", chain.head.hash, 61)
      const sync = yield* h.start("peer", chain.head.hash)
      for (let i = 0; i < 3; i++) yield* Effect.ignore(flooder.sendHashes([chain.blocks[1]!.hash]))
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(run.dropped).toEqual(["flooder"])
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))
})
