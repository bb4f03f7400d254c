import { describe, expect, it } from "@effect/vitest"
import { type ChainStore, Hash } from "@ethsync/core"
import { Effect } from "effect"
import { Attacks, HashList, SimPeer, TestChain } from "../src/index.ts"
import { Harness } from "../src/harness/index.ts"

const { resultTag } = Harness

/** `count` made-up hashes hanging below nothing: enough to be cross-checked. */
const madeUp = (count: number, tag: number) => HashList.toArray(HashList.madeUp(count, Attacks.unknownHash, tag)).slice(0, count)

// What a hostile or unlucky network does to the downloader beyond the seed's scenarios: none of it
// may hang a sync, blame the wrong peer, or let one peer hold the others back.
describe("robustness", () => {
  it.effect("a store that dies during import ends the sync with StoreError instead of hanging", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({
        wrapStore: (store): ChainStore.ChainStore["Service"] => ({ ...store, insert: () => Effect.die(new Error("disk on fire")) })
      })
      const chain = yield* TestChain.make(300)
      yield* h.add(SimPeer.honest("p", chain))
      const run = yield* h.runSync("p", chain.head.hash, { orDrop: true, within: "1 minute" })
      expect(resultTag(run)).toBe("StoreError")
      expect(run.dropped).toEqual([])
    }))

  it.effect("a fast peer that has no blocks does not starve the peers that serve them", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(4096)
      const timed = (withEmpty: boolean) =>
        Effect.gen(function*() {
          const h = yield* Harness.make()
          yield* h.add(SimPeer.slow("a", chain, "100 millis"))
          yield* h.add(SimPeer.slow("b", chain, "100 millis"))
          if (withEmpty) yield* h.add({ ...SimPeer.slow("empty", chain, "10 millis"), blocks: new Map() })
          const run = yield* h.runSync("a", chain.head.hash)
          expect(resultTag(run)).toBe("Success")
          expect(yield* h.holdsAll(chain.blocks)).toBe(true)
          return run.elapsed
        })
      const alone = yield* timed(false)
      const withEmpty = yield* timed(true)
      // The empty peer may cost a few of its own short round trips, not the serving peers' work.
      expect(withEmpty).toBeLessThanOrEqual(alone + 200)
    }))

  it.effect("after the hash source switches, the peer that stalls is dropped, not the one the sync began with", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(3000)
      const p = yield* h.addScripted("p", chain.head.hash)
      const q = yield* h.addScripted("q", chain.head.hash)
      const sync = yield* h.start("p", chain.head.hash, { orDrop: true })
      // p sends one honest batch and answers its cross-check, then falls silent: after hashTTL q takes over.
      expect((yield* p.next)._tag).toBe("Hashes")
      yield* p.sendHashes(HashList.toArray(chain.hashes).slice(1, 1 + h.config.maxHashFetch))
      const check = yield* p.next
      if (check._tag !== "Blocks") return expect.fail("expected the cross-check")
      yield* p.sendBlocks(check.hashes.map((hash) => chain.blockMap.get(Hash.key(hash))!))
      expect((yield* q.next)._tag).toBe("Hashes")
      yield* q.sendHashes(madeUp(1, 31))
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("StallingPeer")
      expect(run.dropped).toEqual(["q"])
    }))

  it.effect("a late empty reply to an earlier sync's request does not fail the next sync's cross-check", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(2)
      const p = yield* h.addScripted("p", chain.head.hash)
      // Sync 1 reaches its block phase, asks p for blocks, and is canceled before p answers.
      const first = yield* h.start("p", chain.head.hash)
      yield* p.next
      yield* p.sendHashes(HashList.toArray(chain.hashes).slice(1))
      expect((yield* p.next)._tag).toBe("Blocks")
      yield* h.downloader.cancel
      expect(resultTag(yield* first.outcome)).toBe("BlockFetchCanceled")
      // Sync 2 opens a cross-check with p; then p's empty answer to sync 1 arrives, then the real one.
      const hashes = madeUp(h.config.minHashFetch + 1, 32)
      const second = yield* h.start("p", hashes[0]!, { orDrop: true })
      yield* p.next
      yield* p.sendHashes(hashes.slice(1))
      const check = yield* p.next
      expect(check._tag).toBe("Blocks")
      yield* p.sendBlocks([])
      const beforeDeadline = yield* Effect.orDie(h.downloader.synchronising)
      expect(beforeDeadline).toBe(true)
      // The check itself goes unanswered, so it fails at its deadline, blaming p.
      const run = yield* second.outcome
      expect(resultTag(run)).toBe("CrossCheckFailed")
      expect(run.elapsed).toBeGreaterThanOrEqual(3000)
    }))

  it.effect("a hash reply longer than was asked for is a bad peer", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { maxHashFetch: 16 } })
      const chain = yield* TestChain.make(2)
      const p = yield* h.addScripted("p", chain.head.hash)
      const sync = yield* h.start("p", chain.head.hash, { orDrop: true })
      yield* p.next
      yield* p.sendHashes(madeUp(17, 33))
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("BadPeer")
      expect(run.dropped).toEqual(["p"])
    }))
})
