/**
 * The header-first engine on real data: mainnet blocks 0..8191 (real difficulty, gas limits,
 * uncles) served by simulated header-first peers, synced with go-ethereum's sizes.
 */
import { describe, expect, it } from "@effect/vitest"
import { Genesis, Hash } from "@ethsync/core"
import { Effect } from "effect"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import { HeaderSimPeer } from "../../src/index.ts"
import { Harness, HeaderHarness } from "../../src/harness/index.ts"

Mainnet.warnIfSkipped("headers/HeaderMainnet.test.ts")

describe.skipIf(Mainnet.skipReason !== undefined)("header-first sync of mainnet", () => {
  it.effect("from two peers: the store ends with mainnet's chain and head at 8191", () =>
    Effect.gen(function*() {
      const { blocks } = Mainnet.load()
      expect(Hash.equals(blocks[0]!.hash, Genesis.mainnetHash)).toBe(true)
      const h = yield* HeaderHarness.make({ genesis: Genesis.mainnet })
      yield* h.add(HeaderSimPeer.honest("a", blocks))
      const b = yield* h.add(HeaderSimPeer.honest("b", blocks))
      const run = yield* h.runSync("a", blocks[blocks.length - 1]!.hash)
      expect(Harness.resultTag(run)).toBe("Success")
      expect(b.counters.headerRequests).toBeGreaterThan(0)
      expect(yield* h.holdsChain(blocks)).toBe(true)
    }))
})
