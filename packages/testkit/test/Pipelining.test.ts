/**
 * Block requests in flight per peer (requestsPerPeer), against a scripted eth/60 peer on TestClock:
 * with two, a peer is asked for its next batch before it answers the one before, so it never waits
 * for the syncing node between two replies; with one (the seed's), it is asked again only after
 * answering.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash } from "@ethsync/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { HashList, TestChain } from "../src/index.ts"
import { Harness, type ScriptedPeer } from "../src/harness/index.ts"

const { resultTag } = Harness

/** Small requests, so that a short chain takes several; small hash batches pass the stalling check. */
const config = { minHashFetch: 4, maxBlockFetch: 8 }

/** Blocks of the test chain a block request asks for, in its order. */
const answer = (chain: TestChain.TestChain, request: ScriptedPeer.Request) =>
  request._tag === "Blocks" ? request.hashes.map((hash) => chain.blockMap.get(Hash.key(hash))!) : []

/** Whether a request is for downloads (not the one-block cross-check of a hash batch). */
const isDownload = (request: ScriptedPeer.Request) => request._tag === "Blocks" && request.hashes.length > 1

/**
 * Starts a sync of `chain` from the scripted peer `p`, answers its hash request with the whole hash
 * chain down to the genesis, and returns the sync.
 */
const startWithHashes = (h: Harness.Harness, p: ScriptedPeer.ScriptedPeer, chain: TestChain.TestChain) =>
  Effect.gen(function*() {
    const sync = yield* h.start(p.id, chain.head.hash)
    const first = yield* p.next
    expect(first._tag).toBe("Hashes")
    yield* p.sendHashes(HashList.toArray(chain.hashes).slice(1))
    return sync
  })

/** Takes `p`'s requests, none answered, until `count` downloads are among them; returns them all in order. */
const takeUntilDownloads = (p: ScriptedPeer.ScriptedPeer, count: number) =>
  Effect.gen(function*() {
    const taken: Array<ScriptedPeer.Request> = []
    while (taken.filter(isDownload).length < count) taken.push(yield* p.next)
    return taken
  })

/**
 * Answers block requests of `p` with the blocks of `chain`: `reply` one taken earlier (in the order
 * asked: the wire has no request ids), `rest` every further one until every block was sent.
 */
const responder = (p: ScriptedPeer.ScriptedPeer, chain: TestChain.TestChain) => {
  /** Keys of the blocks sent. */
  const sent = new Set<string>()
  const reply = (request: ScriptedPeer.Request) =>
    Effect.suspend(() => {
      const blocks = answer(chain, request)
      for (const block of blocks) sent.add(block.key)
      return p.sendBlocks(blocks)
    })
  const rest = Effect.gen(function*() {
    while (sent.size < chain.length) yield* reply(yield* p.next)
  })
  return { reply, rest }
}

describe("two block requests in flight per peer", () => {
  it.effect("a peer gets its second request before it answers the first, and its third as soon as it answers the first", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { ...config, requestsPerPeer: 2 } })
      const chain = yield* TestChain.make(24)
      const p = yield* h.addScripted("p", chain.head.hash)
      const sync = yield* startWithHashes(h, p, chain)
      // Nothing answered yet, and two downloads are out.
      const out = yield* takeUntilDownloads(p, 2)
      const [first, second] = out.filter(isDownload)
      expect(first!._tag === "Blocks" && first!.hashes.length).toBe(8)
      expect(second!._tag === "Blocks" && second!.hashes.length).toBe(8)
      // Answered in the order asked: a cross-check, if one came first, then the first download.
      const { reply, rest } = responder(p, chain)
      const upToFirst = out.slice(0, out.indexOf(first!) + 1)
      for (const request of upToFirst) yield* reply(request)
      // The second is still unanswered, and the third is out.
      const third = yield* takeUntilDownloads(p, 1)
      expect(third.filter(isDownload).length).toBe(1)
      for (const request of [...out.slice(upToFirst.length), ...third]) yield* reply(request)
      yield* rest
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(run.dropped).toEqual([])
    }))

  it.effect("with one request per peer (the seed's), a peer is asked again only after it answers", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { ...config, requestsPerPeer: 1 } })
      const chain = yield* TestChain.make(24)
      const p = yield* h.addScripted("p", chain.head.hash)
      const sync = yield* startWithHashes(h, p, chain)
      const out = yield* takeUntilDownloads(p, 1)
      yield* TestClock.adjust("100 millis")
      // Nothing more was asked of it while its download is unanswered.
      expect(p.log.length).toBe(out.length + 1)
      const { reply, rest } = responder(p, chain)
      for (const request of out) yield* reply(request)
      yield* rest
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))
})
