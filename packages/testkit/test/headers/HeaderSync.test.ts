import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { HeaderChain, HeaderSimPeer } from "../../src/index.ts"
import { HeaderHarness } from "../../src/harness/index.ts"

/** Small steps, so that short chains still need a skeleton, several fills and several body requests. */
const settings = { maxHeaderFetch: 16, maxSkeletonSize: 8, maxBodyFetch: 8, window: 128 }

describe("header-first sync", () => {
  it.effect("from one honest peer: the store ends with the peer's chain and head", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.honest("peer", chain))
      const run = yield* h.runSync("peer", chain[chain.length - 1]!.hash)
      expect(Exit.isSuccess(run.exit)).toBe(true)
      expect(run.dropped).toEqual([])
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("from several honest peers: every peer serves, the store ends with the chain", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      const peers = yield* Effect.forEach(["a", "b", "c"], (id) => h.add(HeaderSimPeer.honest(id, chain)))
      const run = yield* h.runSync("a", chain[chain.length - 1]!.hash)
      expect(Exit.isSuccess(run.exit)).toBe(true)
      expect(yield* h.holdsChain(chain)).toBe(true)
      for (const peer of peers) expect(peer.counters.bodyRequests).toBeGreaterThan(0)
    }))
})
