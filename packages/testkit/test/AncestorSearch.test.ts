/**
 * The eth/61 common-ancestor search, against scripted peers on TestClock: which heights it asks
 * for, what it makes of the answers, and how it fails on wrong ones.
 */
import { describe, expect, it } from "@effect/vitest"
import type { Block } from "@ethsync/core"
import { Effect } from "effect"
import { ChainGenerator, HashList, SimPeer, TestChain } from "../src/index.ts"
import { Harness, type ScriptedPeer } from "../src/harness/index.ts"

const { resultTag } = Harness

/** The seed's cache limit. */
const limit = 1024

/** Hashes asked per request by number (the default). */
const batch = 512

/** The number of the store's head block. */
const headNumber = (h: Harness.Harness) => Effect.map(Effect.orDie(h.store.head), (head) => head.block.number)

/** Takes the scripted peer's next request, dying unless it asks for hashes by number. */
const nextByNumber = (peer: ScriptedPeer.ScriptedPeer) =>
  Effect.flatMap(peer.next, (request) =>
    request._tag === "HashesFromNumber" ? Effect.succeed(request) : Effect.die(new Error(`expected hashes by number, got ${request._tag}`)))

/** Answers every request of `peer` as the simulated peer of `spec` would, until interrupted. */
const serve = (peer: ScriptedPeer.ScriptedPeer, spec: SimPeer.Spec) =>
  Effect.forever(Effect.gen(function*() {
    const request = yield* peer.next
    if (request._tag === "HashesFromNumber") yield* Effect.ignore(peer.sendHashes(SimPeer.numberReply(spec, request.from, request.count)))
    if (request._tag === "Blocks") yield* Effect.ignore(peer.sendBlocks(SimPeer.blockReply(spec, request.hashes)))
  }))

/** A harness whose store already holds `chain` up to block `height`. */
const holding = (chain: TestChain.TestChain, height: number) =>
  Effect.gen(function*() {
    const h = yield* Harness.make()
    yield* Effect.orDie(h.store.insert(chain.blocks.slice(1, height + 1)))
    return h
  })

/** A peer's spec holding `chain` up to `at`, then `branch` on top of it. */
const forkSpec = (id: string, chain: TestChain.TestChain, at: number, branch: ReadonlyArray<Block.Block>): SimPeer.Spec => {
  const blocks = [...chain.blocks.slice(0, at + 1), ...branch]
  return SimPeer.eth61({ id, hashes: HashList.ofChain(blocks), blocks: TestChain.blockMapOf(blocks) })
}

describe("eth/61 common ancestor", () => {
  it.effect("asks for the hashes of our last 512 heights; the highest we hold is the ancestor, and the hashes above it come next", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(2 * limit)
      const h = yield* holding(chain, limit)
      const peer = yield* h.addScripted("p", chain.head.hash, 61)
      const spec = SimPeer.eth61(SimPeer.honest("p", chain))
      const sync = yield* h.start("p", chain.head.hash)
      const first = yield* nextByNumber(peer)
      expect(first).toEqual({ _tag: "HashesFromNumber", from: limit - batch + 1, count: batch })
      yield* peer.sendHashes(SimPeer.numberReply(spec, first.from, first.count))
      expect(yield* nextByNumber(peer)).toEqual({ _tag: "HashesFromNumber", from: limit + 1, count: batch })
      yield* h.downloader.cancel
      expect(resultTag(yield* sync.outcome)).toBe("HashFetchCanceled")
    }))

  it.effect("when the peer's chain forks below those heights, a binary search with one-hash requests finds the fork point", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(2 * limit)
      const h = yield* holding(chain, 2 * limit)
      const at = 700
      const branch = yield* ChainGenerator.fork(chain.blocks, at, 2 * limit, { seed: 61 })
      const spec = forkSpec("p", chain, at, branch)
      const peer = yield* h.addScripted("p", branch[branch.length - 1]!.hash, 61)
      yield* Effect.forkScoped(serve(peer, spec))
      const run = yield* h.runSync("p", peer.handle.head)
      expect(resultTag(run)).toBe("Success")
      const requests = peer.log.filter((r) => r._tag === "HashesFromNumber")
      expect(requests[0]).toEqual({ _tag: "HashesFromNumber", from: 2 * limit - batch + 1, count: batch })
      // log2 of the 1537 heights below the first window, one hash at a time.
      const search = requests.slice(1).filter((r) => r.count === 1)
      expect(search.length).toBeGreaterThanOrEqual(10)
      expect(search.length).toBeLessThanOrEqual(11)
      expect(requests[1 + search.length]).toEqual({ _tag: "HashesFromNumber", from: at + 1, count: batch })
      // The fork is longer: the peer's chain is now ours, from the fork point up.
      expect(yield* headNumber(h)).toBe(at + branch.length)
      expect(yield* h.holdsAll(branch)).toBe(true)
    }))

  it.effect("a first answer longer than asked for is BadPeer", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(limit)
      const h = yield* Harness.make()
      const peer = yield* h.addScripted("p", chain.head.hash, 61)
      const sync = yield* h.start("p", chain.head.hash, { orDrop: true })
      // Our head is the genesis: one height asked for, two hashes sent.
      expect(yield* nextByNumber(peer)).toEqual({ _tag: "HashesFromNumber", from: 0, count: 1 })
      yield* peer.sendHashes([chain.blocks[0]!.hash, chain.blocks[1]!.hash])
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("BadPeer")
      expect(run.dropped).toEqual(["p"])
    }))

  it.effect("a search answer of other than one hash is BadPeer", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(2 * limit)
      const h = yield* holding(chain, 2 * limit)
      const made = HashList.madeUp(batch, chain.blocks[0]!.hash, 3)
      const peer = yield* h.addScripted("p", made.at(0), 61)
      const sync = yield* h.start("p", made.at(0), { orDrop: true })
      yield* nextByNumber(peer)
      yield* peer.sendHashes(HashList.toArray(made).slice(0, batch))
      expect((yield* nextByNumber(peer)).count).toBe(1)
      yield* peer.sendHashes([made.at(0), made.at(1)])
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("BadPeer")
      expect(run.dropped).toEqual(["p"])
    }))

  it.effect("a hash we hold, given for a height where we do not hold it, is BadPeer", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(limit)
      const h = yield* holding(chain, limit)
      const peer = yield* h.addScripted("p", chain.head.hash, 61)
      const sync = yield* h.start("p", chain.head.hash, { orDrop: true })
      const first = yield* nextByNumber(peer)
      const hashes = chain.blocks.slice(first.from, first.from + first.count).map((block) => block.hash)
      // Block 1000's hash where block 1024's belongs.
      hashes[hashes.length - 1] = chain.blocks[1000]!.hash
      yield* peer.sendHashes(hashes)
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("BadPeer")
      expect(run.dropped).toEqual(["p"])
    }))

  it.effect("an empty first answer is EmptyHashSet; no answer is Timeout at hashTTL", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(limit)
      const h = yield* Harness.make()
      const empty = yield* h.addScripted("empty", chain.head.hash, 61)
      const silent = yield* h.addScripted("silent", chain.head.hash, 61)
      const first = yield* h.start("empty", chain.head.hash, { orDrop: true })
      yield* nextByNumber(empty)
      yield* empty.sendHashes([])
      const emptyRun = yield* first.outcome
      expect(resultTag(emptyRun)).toBe("EmptyHashSet")
      expect(emptyRun.dropped).toEqual(["empty"])
      const second = yield* h.runSync("silent", chain.head.hash, { orDrop: true })
      expect(resultTag(second)).toBe("Timeout")
      expect(second.dropped).toEqual(["silent"])
      expect(second.elapsed).toBeGreaterThanOrEqual(5000)
      expect(second.elapsed).toBeLessThan(5100)
      expect(silent.log).toEqual([{ _tag: "HashesFromNumber", from: 0, count: 1 }])
    }))
})
