import { describe, expect, it } from "@effect/vitest"
import { SyncEvent } from "@ethsync/core"
import { Clock, Effect, Stream } from "effect"
import { TestClock } from "effect/testing"
import { ChainGenerator, HeaderChain, HeaderSimPeer } from "../../src/index.ts"
import { Harness, HeaderHarness } from "../../src/harness/index.ts"

const tag = Harness.resultTag

/** Small steps, so that short chains still need a skeleton, several fills and several body requests. */
const settings = { maxHeaderFetch: 16, maxSkeletonSize: 8, maxBodyFetch: 8, window: 128 }

describe("header-first sync", () => {
  it.effect("from one honest peer: the store ends with the peer's chain and head", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.honest("peer", chain))
      const run = yield* h.runSync("peer", chain[chain.length - 1]!.hash)
      expect(tag(run)).toBe("Success")
      expect(run.dropped).toEqual([])
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("from a store of the genesis alone: no ancestor search, the head header and then the skeleton", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      const peer = yield* h.add(HeaderSimPeer.honest("peer", chain))
      expect(tag(yield* h.runSync("peer", chain[300]!.hash))).toBe("Success")
      const [head, next] = peer.counters.asked
      expect(head).toMatchObject({ origin: chain[300]!.hash, amount: 1 })
      expect(next).toMatchObject({ origin: settings.maxHeaderFetch, skip: settings.maxHeaderFetch - 1 })
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("bodies for a validated fill are asked for before the next fill: a peer answers in order, and they are lower", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      /** The fills (f) and body requests (b) the peer got, in order. */
      const order: Array<string> = []
      yield* h.add({
        ...HeaderSimPeer.honest("peer", chain),
        headers: (request, honest) => (request.skip === 0 && request.amount > 1 && order.push("f"), honest),
        bodies: (_, honest) => (order.push("b"), honest)
      })
      expect(tag(yield* h.runSync("peer", chain[300]!.hash))).toBe("Success")
      // Two fills go out at once (fillsPerPeer); the first answered, its bodies go before the third fill.
      expect(order.slice(0, 4)).toEqual(["f", "f", "b", "f"])
    }))

  it.effect("two fills out per peer (fillsPerPeer): one peer with a slow link fills the skeleton in well under the time of one at a time", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      /** Virtual millis of a sync from one peer whose every answer takes 20 ms, with `fillsPerPeer` fills out at once. */
      const took = (fillsPerPeer: number) =>
        Effect.gen(function*() {
          // Bodies in few requests, so that the fills are the path.
          const h = yield* HeaderHarness.make({ settings: { ...settings, window: 1024, maxBodyFetch: 128, fillsPerPeer } })
          yield* h.add({ ...HeaderSimPeer.honest("peer", chain), latency: "20 millis" })
          const start = yield* Clock.currentTimeMillis
          expect(tag(yield* h.runSync("peer", chain[300]!.hash))).toBe("Success")
          expect(yield* h.holdsChain(chain)).toBe(true)
          return (yield* Clock.currentTimeMillis) - start
        })
      const one = yield* took(1)
      const two = yield* took(2)
      // 19 fills of 16 headers, answered one after another: 20 ms each with one out, about 10 with two.
      expect(one).toBeGreaterThanOrEqual(19 * 20)
      expect(two).toBeLessThan(one * 0.75)
    }))

  it.effect("a sync peer answering in order, 4 s an answer, with four fills out: each request's deadline counts those ahead of it", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(100)
      const h = yield* HeaderHarness.make({ settings: { ...settings, fillsPerPeer: 4 } })
      yield* h.add({ ...HeaderSimPeer.honest("peer", chain), latency: "4 seconds", inOrder: true })
      // The third fill out is answered 12 s after it was asked, past one request's 9 s.
      const run = yield* h.runSync("peer", chain[100]!.hash)
      expect(tag(run)).toBe("Success")
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("from several honest peers: every peer serves, the store ends with the chain", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      const peers = yield* Effect.forEach(["a", "b", "c"], (id) => h.add(HeaderSimPeer.honest(id, chain)))
      const run = yield* h.runSync("a", chain[chain.length - 1]!.hash)
      expect(tag(run)).toBe("Success")
      expect(yield* h.holdsChain(chain)).toBe(true)
      for (const peer of peers) expect(peer.counters.bodyRequests).toBeGreaterThan(0)
    }))

  it.effect("a helper behind the others and a sync peer that caps its body answers: neither is dropped, the sync completes", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add({ ...HeaderSimPeer.honest("capped", chain), bodies: (_, honest) => honest.slice(0, 2) })
      const behind = yield* h.add(HeaderSimPeer.honest("behind", chain.slice(0, 151)))
      const run = yield* h.runSync("capped", chain[300]!.hash)
      expect(tag(run)).toBe("Success")
      expect(run.dropped).toEqual([])
      expect(behind.counters.headerRequests).toBeGreaterThan(0)
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("blocks pile up while the importer works: it gets whole chunks of maxBlockProcess, the rest waits for the next batch", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      // A window above the chain's length, so that only the feeding decides the batches.
      const h = yield* HeaderHarness.make({ settings: { ...settings, window: 1024 }, config: { maxBlockProcess: 32 }, insertDelay: "50 millis" })
      yield* h.add(HeaderSimPeer.honest("peer", chain))
      expect(tag(yield* h.runSync("peer", chain[300]!.hash))).toBe("Success")
      expect(yield* h.holdsChain(chain)).toBe(true)
      // Only the first insert (what was ready when the importer started) and the last may be smaller:
      // a remainder in between would be a commit of its own.
      const between = h.inserts.slice(1, -1)
      expect(between.length).toBeGreaterThan(3)
      expect(between.every((size) => size === 32)).toBe(true)
      expect(h.inserts.reduce((sum, size) => sum + size, 0)).toBe(300)
    }))

  it.effect("with an import batch set (the node commands' 1,024): every commit but the first and last holds a whole batch", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({
        settings: { ...settings, window: 1024 },
        config: { maxBlockProcess: 32, importBatch: 64 },
        insertDelay: "50 millis"
      })
      yield* h.add(HeaderSimPeer.honest("peer", chain))
      expect(tag(yield* h.runSync("peer", chain[300]!.hash))).toBe("Success")
      expect(yield* h.holdsChain(chain)).toBe(true)
      const between = h.inserts.slice(1, -1)
      expect(between.length).toBeGreaterThan(1)
      expect(between.every((size) => size === 64)).toBe(true)
      expect(h.inserts.reduce((sum, size) => sum + size, 0)).toBe(300)
    }))

  it.effect("a sync peer that serves fewer headers per answer than a fill asks: what it gave is kept, the rest asked for, no drop", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      /** The fills the peer got: where each started and how many headers it asked for. */
      const fills: Array<[number, number]> = []
      yield* h.add({
        ...HeaderSimPeer.honest("capped", chain),
        headers: (request, honest) => {
          if (request.skip !== 0 || typeof request.origin !== "number") return honest
          fills.push([request.origin, request.amount])
          return honest.slice(0, 5)
        }
      })
      const run = yield* h.runSync("capped", chain[300]!.hash)
      expect(tag(run)).toBe("Success")
      expect(run.dropped).toEqual([])
      expect(yield* h.holdsChain(chain)).toBe(true)
      // The first segment (1..16) in four answers of 5, 5, 5 and 1: each asks from where the last ended.
      expect(fills.filter(([from]) => from <= 16)).toEqual([[1, 16], [6, 11], [11, 6], [16, 1]])
    }))

  it.effect("a slow importer holds the download back: the blocks held never pass twice the window and a segment", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(600)
      const window = 64
      const h = yield* HeaderHarness.make({ settings: { ...settings, window }, config: { maxBlockProcess: 32 }, insertDelay: "50 millis" })
      yield* h.add(HeaderSimPeer.honest("peer", chain))
      const started = yield* h.start("peer", chain[600]!.hash, true)
      let held = 0
      while (yield* h.engine.synchronising) {
        const stats = yield* h.engine.stats
        held = Math.max(held, stats.queued + stats.cached + stats.importing)
        yield* TestClock.adjust("5 millis")
      }
      expect(tag(yield* started.outcome)).toBe("Success")
      expect(yield* h.holdsChain(chain)).toBe(true)
      // Headers waiting for bodies, blocks waiting for the importer and its batch: the window (from
      // the last block handed over) plus one segment, and the batch handed over, at most a window.
      expect(held).toBeGreaterThan(settings.maxHeaderFetch)
      expect(held).toBeLessThanOrEqual(2 * window + settings.maxHeaderFetch)
    }))

  it.effect("on top of an earlier sync: the ancestor is found among our recent heights, only the new blocks are fetched; request ids are never reused", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      const short = yield* h.add(HeaderSimPeer.honest("short", chain.slice(0, 201)))
      expect(tag(yield* h.runSync("short", chain[200]!.hash))).toBe("Success")
      const long = yield* Effect.forEach(["a", "b"], (id) => h.add(HeaderSimPeer.honest(id, chain)))
      expect(tag(yield* h.runSync("a", chain[300]!.hash))).toBe("Success")
      expect(yield* h.holdsChain(chain)).toBe(true)
      // Besides the ancestor request (our recent heights, up to 200), every run of headers asked for is above our head.
      const byHeight = long.flatMap((p) => p.counters.asked).flatMap((r) => typeof r.origin === "number" && r.skip === 0 ? [r.origin] : [])
      const above = long.flatMap((p) => p.counters.asked).filter((r) => typeof r.origin === "number" && r.skip === 0 && r.origin + r.amount - 1 > 200)
      expect(byHeight.length).toBeGreaterThan(above.length)
      expect(Math.min(...above.map((r) => r.origin as number))).toBe(201)
      const ids = [short, ...long].flatMap((p) => p.counters.ids)
      expect(new Set(ids).size).toBe(ids.length)
    }))

  it.effect("from a fork: the ancestor is found by binary search and the heavier chain replaces ours", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const side = yield* ChainGenerator.fork(chain, 100, 150, { seed: 99, transactions: true, uncles: true })
      const forked = [...chain.slice(0, 101), ...side]
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.honest("fork", forked))
      expect(tag(yield* h.runSync("fork", forked[forked.length - 1]!.hash))).toBe("Success")
      expect(yield* h.holdsChain(forked)).toBe(true)
      const main = yield* h.add(HeaderSimPeer.honest("main", chain))
      expect(tag(yield* h.runSync("main", chain[300]!.hash))).toBe("Success")
      expect(yield* h.holdsChain(chain)).toBe(true)
      const fills = main.counters.asked.filter((r) => r.skip === 0 && r.amount > 1)
      expect(Math.min(...fills.map((r) => r.origin as number))).toBe(101)
    }))

  it.effect("events as the hash engine's: Started, Progress up to the head, Done; a second sync meanwhile is Busy; after terminate, Terminated", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(100)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.honest("peer", chain))
      const events = yield* h.engine.subscribe
      const started = yield* h.start("peer", chain[100]!.hash)
      expect((yield* Effect.flip(h.engine.synchronise("peer", chain[100]!.hash)))._tag).toBe("Busy")
      expect(tag(yield* started.outcome)).toBe("Success")
      const seen = Array.from(yield* Stream.runCollect(Stream.take(Stream.takeUntil(events, (e) => e._tag === "Done"), 1000)))
      expect(seen[0]).toEqual(SyncEvent.SyncEvent.Started({ peer: "peer" }))
      expect(seen.at(-1)).toEqual(SyncEvent.SyncEvent.Done({ peer: "peer", imported: 100 }))
      const progress = seen.filter((e) => e._tag === "Progress")
      expect(progress.at(-1)).toMatchObject({ imported: 100, head: 100 })
      yield* h.engine.terminate
      expect((yield* Effect.flip(h.engine.synchronise("peer", chain[100]!.hash)))._tag).toBe("Terminated")
    }))

  it.effect("cancel: the sync ends as canceled, nothing is left, and a later sync completes", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.slow("peer", chain, "50 millis"))
      const started = yield* h.start("peer", chain[300]!.hash)
      yield* TestClock.adjust("500 millis")
      expect(yield* h.engine.synchronising).toBe(true)
      yield* h.engine.cancel
      const run = yield* started.outcome
      expect(tag(run)).toBe("BlockFetchCanceled")
      expect(yield* h.engine.stats).toMatchObject({ queued: 0, cached: 0, importing: 0 })
      yield* h.engine.cancel
      expect(tag(yield* h.runSync("peer", chain[300]!.hash))).toBe("Success")
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("a helper leaving mid-sync: its requests go to the others and the sync completes", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.slow("a", chain, "20 millis"))
      const b = yield* h.add(HeaderSimPeer.slow("b", chain, "20 millis"))
      const started = yield* h.start("a", chain[300]!.hash)
      yield* TestClock.adjust("200 millis")
      expect(b.counters.ids.length).toBeGreaterThan(0)
      yield* h.engine.unregisterPeer("b")
      const run = yield* started.outcome
      expect(tag(run)).toBe("Success")
      expect(run.dropped).toEqual([])
      expect(yield* h.holdsChain(chain)).toBe(true)
    }))

  it.effect("the sync peer leaving before its skeleton is complete ends the sync (UnknownPeer) without a drop", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(300)
      const h = yield* HeaderHarness.make({ settings })
      yield* h.add(HeaderSimPeer.slow("a", chain, "20 millis"))
      yield* h.add(HeaderSimPeer.honest("b", chain))
      const started = yield* h.start("a", chain[300]!.hash, true)
      yield* TestClock.adjust("100 millis")
      yield* h.engine.unregisterPeer("a")
      const run = yield* started.outcome
      expect(tag(run)).toBe("UnknownPeer")
      expect(run.dropped).toEqual([])
    }))

  it.effect("answers with no open request: an unknown peer is refused; a known one is counted and dropped past the limit", () =>
    Effect.gen(function*() {
      const chain = yield* HeaderChain.make(10)
      const h = yield* HeaderHarness.make({ settings, config: { maxUnrequestedReplies: 2 } })
      yield* h.add(HeaderSimPeer.honest("peer", chain))
      expect((yield* Effect.flip(h.engine.deliverHeaders("nobody", 1n, [])))._tag).toBe("UnknownPeer")
      yield* h.engine.deliverHeaders("peer", 7n, [])
      yield* h.engine.deliverBodies("peer", 8n, [])
      expect(h.drops).toEqual([])
      yield* h.engine.deliverHeaders("peer", 9n, [])
      expect(h.drops.map((d) => d.peer)).toEqual(["peer"])
      expect((yield* Effect.flip(h.engine.deliverHeaders("peer", 10n, [])))._tag).toBe("UnknownPeer")
    }))
})
