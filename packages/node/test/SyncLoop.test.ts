/**
 * The sync loop on the real clock with a memory chain: it meets the peers in the order of the
 * total difficulty they advertise, and fails with NoPeerLeft once every peer is dropped.
 */
import { describe, expect, it } from "@effect/vitest"
import { MemoryChainStore } from "@ethsync/core"
import { ChainGenerator, TestChain } from "@ethsync/testkit"
import { Effect, References } from "effect"
import * as Stage from "../src/demo/Stage.ts"
import * as SyncLoop from "../src/SyncLoop.ts"

describe("SyncLoop", () => {
  it.live("drops each attacker in the order of its claim, then fails with NoPeerLeft when no peer is left", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(2000)
      const store = MemoryChainStore.make(ChainGenerator.testGenesis)
      const { network, downloader } = yield* Stage.inMemory(store, chain, { honest: 0, attackers: 3 })
      const seen: Array<string> = []
      const error = yield* Effect.flip(SyncLoop.run({
        downloader,
        store,
        network,
        goal: { number: chain.length, hash: chain.head.hash },
        onAttempt: (attempt) => Effect.sync(() => void seen.push(attempt.peer))
      }))
      const order = ["attacker-made-up-chain", "attacker-unknown-parent", "attacker-missing-block"]
      expect(seen).toEqual(order)
      expect((yield* network.drops).map((drop) => drop.peer)).toEqual(order)
      expect(yield* network.peers).toEqual([])
      // The missing-block attacker's chain is real below its missing block: that much was imported.
      const head = (yield* Effect.orDie(store.head)).block.number
      expect(head).toBeGreaterThan(0)
      expect(error).toMatchObject({ _tag: "NoPeerLeft", head, goal: chain.length })
      expect(error.message).toBe(`no peer left to sync from: the chain's head is block ${head}, short of block ${chain.length}`)
    }).pipe(Effect.provideService(References.MinimumLogLevel, "Warn")))
})
