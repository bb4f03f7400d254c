/**
 * Import batches: while blocks are still to come, the importer is handed maxBlockProcess blocks at
 * a time rather than each reply as it arrives (every import may be a commit to disk).
 */
import { describe, expect, it } from "@effect/vitest"
import { type SyncEvent } from "@ethsync/core"
import { Effect, Stream } from "effect"
import { TestClock } from "effect/testing"
import { SimPeer, TestChain } from "../src/index.ts"
import { Harness } from "../src/harness/index.ts"

describe("import batches", () => {
  it.effect("one peer answering 128 blocks at a time: the chain is imported 512 blocks at a time, then the rest", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { maxBlockProcess: 512, blockCacheLimit: 1024 } })
      const chain = yield* TestChain.make(2000)
      yield* h.add(SimPeer.slow("peer", chain, "50 millis"))
      const events: Array<SyncEvent.SyncEvent> = []
      yield* Effect.forkChild(Stream.runForEach(yield* h.downloader.subscribe, (event) => Effect.sync(() => void events.push(event))), {
        startImmediately: true
      })
      const run = yield* h.runSync("peer", chain.head.hash)
      expect(Harness.resultTag(run)).toBe("Success")
      yield* TestClock.adjust("1 millis")
      // Each Progress is one insert into the store.
      const heads = events.flatMap((event) => event._tag === "Progress" ? [event.head] : [])
      expect(heads).toEqual([512, 1024, 1536, 2000])
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))
})
