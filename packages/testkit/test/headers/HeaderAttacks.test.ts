import { describe, expect, it } from "@effect/vitest"
import { type Block, Hash, InvalidBlock, type SealVerifier } from "@ethsync/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { HeaderAttacks, HeaderChain, HeaderSimPeer } from "../../src/index.ts"
import { Harness, HeaderHarness } from "../../src/harness/index.ts"

/** Small steps, so that short chains still need a skeleton, several fills and several body requests. */
const settings = { maxHeaderFetch: 16, maxSkeletonSize: 8, maxBodyFetch: 8, window: 128 }

const tag = Harness.resultTag

/** The head hash of a chain. */
const headOf = (chain: ReadonlyArray<Block.Block>) => chain[chain.length - 1]!.hash

/** Syncs from the honest peer `valid` and checks the store then holds `chain`. */
const validSyncSucceeds = (h: HeaderHarness.HeaderHarness, valid: string, chain: ReadonlyArray<Block.Block>) =>
  Effect.gen(function*() {
    const run = yield* h.runSync(valid, headOf(chain))
    expect(tag(run)).toBe("Success")
    expect(yield* h.holdsChain(chain)).toBe(true)
  })

describe("header-first attacks", () => {
  it.effect("a made-up chain that breaks the header rules: InvalidHeader, the liar dropped, nothing of it stored", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(200)
      const h = yield* HeaderHarness.make({ settings })
      const liar = HeaderAttacks.madeUpChain("liar", chain)
      yield* h.add(liar)
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      const run = yield* h.runSync("liar", headOf(liar.chain))
      expect(tag(run)).toBe("InvalidHeader")
      expect(run.dropped).toEqual(["liar"])
      expect((yield* Effect.orDie(h.store.head)).block.number).toBe(0)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("a filler serving the sync peer's rule-breaking chain is dropped with it", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(100)
      const h = yield* HeaderHarness.make({ settings })
      // Registered first, the accomplice is asked for the first fill.
      yield* h.add(HeaderAttacks.madeUpChain("accomplice", chain))
      const liar = yield* h.add(HeaderAttacks.madeUpChain("liar", chain))
      const run = yield* h.runSync("liar", liar.peer.head)
      expect(tag(run)).toBe("InvalidHeader")
      expect([...run.dropped].sort()).toEqual(["accomplice", "liar"])
    }))

  it.effect("a made-up head proven to sit on a header that breaks the rules is banned: a peer advertising it is refused", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(40)
      const h = yield* HeaderHarness.make({ settings })
      const liar = yield* h.add(HeaderAttacks.madeUpChain("liar", chain, 40))
      const run = yield* h.runSync("liar", liar.peer.head)
      expect(tag(run)).toBe("InvalidHeader")
      expect(run.dropped).toEqual(["liar"])
      expect(yield* h.store.has(liar.peer.head).pipe(Effect.orDie)).toBe(false)
      expect((yield* Effect.flip(h.engine.registerPeer(liar.peer)))._tag).toBe("BannedHead")
    }))

  it.effect("a sync peer that never answers: Timeout, dropped", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(100)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderAttacks.stalling("staller", chain))
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      const run = yield* h.runSync("staller", headOf(chain))
      expect(tag(run)).toBe("Timeout")
      expect(run.dropped).toEqual(["staller"])
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("a helper that never answers: its work expires and goes to others; the sync completes", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      const staller = yield* h.add(HeaderAttacks.stalling("staller", chain))
      const run = yield* h.runSync("valid", headOf(chain))
      expect(tag(run)).toBe("Success")
      expect(staller.counters.headerRequests + staller.counters.bodyRequests).toBeGreaterThan(0)
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("a sync peer without bodies, alone: PeersUnavailable, dropped", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(100)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderAttacks.missingBodies("empty", chain))
      const run = yield* h.runSync("empty", headOf(chain))
      expect(tag(run)).toBe("PeersUnavailable")
      expect(run.dropped).toEqual(["empty"])
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("a sync peer without bodies, with an honest helper: the helper's bodies complete the sync", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(200)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderAttacks.missingBodies("empty", chain))
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      const run = yield* h.runSync("empty", headOf(chain))
      expect(tag(run)).toBe("Success")
      expect(run.dropped).toEqual([])
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("a helper sending bodies of no block asked for: dropped (UnmatchedBody); the sync completes", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(200)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      yield* h.add(HeaderAttacks.wrongBodies("wrong", chain))
      const run = yield* h.runSync("valid", headOf(chain))
      expect(tag(run)).toBe("Success")
      expect(run.dropped).toEqual(["wrong"])
      expect(h.drops[0]!.reason).toContain("matches no header")
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("a sync peer whose skeleton is not its chain: BadSkeleton, only it dropped, the honest fillers kept", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(200)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderAttacks.lyingSkeleton("liar", chain))
      yield* h.add(HeaderSimPeer.honest("a", chain))
      yield* h.add(HeaderSimPeer.honest("b", chain))
      const run = yield* h.runSync("liar", headOf(chain))
      expect(tag(run)).toBe("BadSkeleton")
      expect(run.dropped).toEqual(["liar"])
      yield* validSyncSucceeds(h, "a", chain)
    }))

  it.effect("a filler whose fills are not the skeleton's: dropped (FillMismatch) once the sync peer proves the gap; the sync completes", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      yield* h.add(HeaderAttacks.lyingFiller("liar", chain))
      const run = yield* h.runSync("valid", headOf(chain))
      expect(tag(run)).toBe("Success")
      expect(run.dropped).toEqual(["liar"])
      expect(h.drops[0]!.reason).toContain("not the skeleton's")
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("a slow helper is kept off the critical window: the sync takes less than 2 x its delay", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(1000)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.honest("fast", chain))
      yield* h.add(HeaderSimPeer.slow("slow", chain, "1 second"))
      const run = yield* h.runSync("fast", headOf(chain))
      expect(tag(run)).toBe("Success")
      expect(run.elapsed).toBeLessThan(2000)
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("answers after their request expired, or after the sync ended, are late, not unrequested: nobody is dropped", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(200)
      const h = yield* HeaderHarness.make({ settings, config: { maxUnrequestedReplies: 0 } })
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      const late = yield* h.add(HeaderSimPeer.slow("late", chain, "12 seconds"))
      const run = yield* h.runSync("valid", headOf(chain))
      expect(tag(run)).toBe("Success")
      expect(late.counters.ids.length).toBeGreaterThan(0)
      yield* TestClock.adjust("15 seconds")
      expect(late.counters.refused).toBe(0)
      expect(h.drops).toEqual([])
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("a helper flooding answers nobody asked for is dropped (UnrequestedReplies); one within the limit is kept", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings, config: { maxUnrequestedReplies: 4 } })
      yield* h.add(HeaderSimPeer.honest("valid", chain))
      yield* h.add({ ...HeaderSimPeer.honest("flooder", chain), unrequested: 5 })
      yield* h.add({ ...HeaderSimPeer.honest("once", chain), unrequested: 1, latency: "500 millis" })
      const run = yield* h.runSync("valid", headOf(chain))
      expect(tag(run)).toBe("Success")
      expect(run.dropped).toEqual(["flooder"])
      expect(h.drops[0]!.reason).toContain("nobody asked for")
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))
})

describe("header-first seals", () => {
  it.effect("with a seal verifier in context, a bad seal is InvalidHeader before its body is asked for", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(200)
      const bad = chain.findIndex((block, i) => i > 40 && block.transactions.length > 0)
      const verifier: SealVerifier.Shape = {
        name: "test",
        verify: (headers) =>
          Effect.succeed(headers.map((header) =>
            header.number === bad
              ? new InvalidBlock.InvalidBlock({ rule: "sealMixHash", number: bad, hash: Hash.toHex(header.hash), reason: "made-up seal" })
              : undefined
          ))
      }
      const h = yield* HeaderHarness.make({ settings, verifier })
      /** Every hash a body was asked for. */
      const asked: Array<Hash.Hash> = []
      const peer = yield* h.add({ ...HeaderSimPeer.honest("peer", chain), bodies: (hashes, honest) => (asked.push(...hashes), honest) })
      const run = yield* h.runSync("peer", headOf(chain))
      expect(tag(run)).toBe("InvalidHeader")
      expect(run.dropped).toEqual(["peer"])
      expect(peer.counters.bodyRequests).toBeGreaterThan(0)
      expect(asked.some((hash) => Hash.equals(hash, chain[bad]!.hash))).toBe(false)
      const head = (yield* Effect.orDie(h.store.head)).block.number
      expect(head).toBeLessThan(bad)
    }))
})
