import { describe, expect, it } from "@effect/vitest"
import { type Block, ChainStore, Hash, type SyncError, type SyncEvent } from "@ethsync/core"
import { Cause, Clock, Duration, Effect, Exit, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import { HashList, SimPeer, TestChain } from "../src/index.ts"
import { Harness, ImportGate, type ScriptedPeer } from "../src/harness/index.ts"

const { resultTag } = Harness

/** The sync's error, if it failed with one. */
const errorOf = (run: Harness.Outcome): SyncError.SyncError | undefined =>
  Exit.isFailure(run.exit) ? Option.getOrUndefined(Cause.findErrorOption(run.exit.cause)) : undefined

/** The number of the store's head block. */
const headNumber = (h: Harness.Harness) => Effect.map(Effect.orDie(h.store.head), (head) => head.block.number)

/** Steps the test clock 1 ms at a time until `done` holds (dies after 60 s of virtual time). */
const stepUntil = (done: () => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; !done(); i++) {
      if (i === 60_000) return yield* Effect.die(new Error("condition not reached within 60 s"))
      yield* TestClock.adjust("1 millis")
    }
  })

/** Takes the scripted peer's next request, dying unless it has the tag `tag`. */
const expectNext = (peer: ScriptedPeer.ScriptedPeer, tag: ScriptedPeer.Request["_tag"]) =>
  Effect.flatMap(peer.next, (request) =>
    request._tag === tag ? Effect.void : Effect.die(new Error(`expected a ${tag} request, got ${request._tag}`)))

/** Every event of the downloader from now on, collected by a fiber of the test. */
const watch = (h: Harness.Harness) =>
  Effect.gen(function*() {
    const events: Array<SyncEvent.SyncEvent> = []
    const stream = yield* h.downloader.subscribe
    yield* Effect.forkChild(Stream.runForEach(stream, (event) => Effect.sync(() => void events.push(event))), {
      startImmediately: true
    })
    return events
  })

/** Lets the event collector take what was published. */
const settle = TestClock.adjust("1 millis")

describe("terminate", () => {
  it.effect("terminate during the block phase cancels the sync, stops the importer for good, and later syncs fail with Terminated", () =>
    Effect.gen(function*() {
      const gate = yield* ImportGate.make
      const h = yield* Harness.make({ wrapStore: gate.wrap, config: { maxBlockProcess: 64 } })
      const chain = yield* TestChain.make(1024)
      yield* h.add(SimPeer.honest("peer", chain))
      const sync = yield* h.start("peer", chain.head.hash, { orDrop: true })
      yield* stepUntil(() => gate.waiting() === 1)
      yield* gate.open(1)
      yield* TestClock.adjust("10 millis")
      yield* stepUntil(() => gate.waiting() === 1)
      const stored = yield* headNumber(h)
      expect(stored).toBeGreaterThan(0)
      expect(stored).toBeLessThan(chain.length)

      yield* h.downloader.terminate
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("BlockFetchCanceled")
      expect(run.dropped).toEqual([])
      expect(gate.waiting()).toBe(0)
      // Were an insert still waiting, or the importer still running, these permits would let it store blocks.
      yield* gate.open(chain.length)
      yield* TestClock.adjust("1 second")
      expect(yield* headNumber(h)).toBe(stored)

      const again = yield* h.runSync("peer", chain.head.hash, { orDrop: true })
      expect(resultTag(again)).toBe("Terminated")
      expect(again.elapsed).toBe(0)
      expect(again.dropped).toEqual([])
      expect(yield* Effect.flip(h.downloader.synchronise("peer", chain.head.hash))).toMatchObject({ _tag: "Terminated" })
      yield* TestClock.adjust("1 second")
      expect(yield* headNumber(h)).toBe(stored)
      expect(yield* h.downloader.synchronising).toBe(false)
      expect(h.drops).toEqual([])
    }))

  it.effect("terminate during the hash phase ends the sync with HashFetchCanceled; terminate twice is safe; deliveries are refused", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(8)
      const p = yield* h.addScripted("p", chain.head.hash)
      const sync = yield* h.start("p", chain.head.hash)
      yield* expectNext(p, "Hashes")
      yield* h.downloader.terminate
      yield* h.downloader.terminate
      expect(resultTag(yield* sync.outcome)).toBe("HashFetchCanceled")
      const refused = yield* Effect.flip(p.sendHashes(HashList.toArray(chain.hashes).slice(1)))
      expect(refused._tag).toBe("NoSyncActive")
      expect(resultTag(yield* h.runSync("p", chain.head.hash))).toBe("Terminated")
      expect(yield* headNumber(h)).toBe(0)
    }))

  it.effect("terminate with no sync running: the next synchronise fails with Terminated and asks no peer anything", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(8)
      const peer = yield* h.add(SimPeer.honest("peer", chain))
      yield* h.downloader.terminate
      const run = yield* h.runSync("peer", chain.head.hash, { orDrop: true })
      expect(resultTag(run)).toBe("Terminated")
      expect(run.dropped).toEqual([])
      expect(peer.counters.hashRequests).toBe(0)
      expect(yield* headNumber(h)).toBe(0)
    }))
})

describe("stats", () => {
  it.effect("with the importer held, stats match what was delivered; the ETA is zero until a block of the batch lands, then (time / imported) x left", () =>
    Effect.gen(function*() {
      const gate = yield* ImportGate.make
      const chunk = 32
      const h = yield* Harness.make({ wrapStore: gate.wrap, config: { blockCacheLimit: 256, maxBlockProcess: chunk } })
      const limit = h.config.blockCacheLimit
      const chain = yield* TestChain.make(1024)
      const peer = yield* h.add(SimPeer.honest("peer", chain))
      expect(yield* h.downloader.stats).toEqual({ queued: 0, cached: 0, importing: 0, eta: Duration.zero })
      const sync = yield* h.start("peer", chain.head.hash)

      /** Checks the figures against the peer's counters and the chain once nothing is in flight. */
      const consistent = Effect.gen(function*() {
        const stats = yield* h.downloader.stats
        const imported = yield* headNumber(h)
        expect(peer.counters.blocksSent).toBe(peer.counters.blocksAsked)
        expect(stats.queued).toBe(chain.length - peer.counters.blocksSent)
        expect(stats.cached + stats.importing).toBe(peer.counters.blocksSent - imported)
        expect(stats.queued + stats.cached + stats.importing + imported).toBe(chain.length)
        return { ...stats, imported }
      })

      // The first batch is taken and held before any of it is inserted.
      yield* stepUntil(() => gate.waiting() === 1)
      const batchStart = yield* Clock.currentTimeMillis
      yield* TestClock.adjust("1 second")
      const held = yield* consistent
      expect(held.imported).toBe(0)
      expect(held.importing).toBeGreaterThan(chunk)
      expect(held.cached).toBe(limit)
      expect(Duration.isZero(held.eta)).toBe(true)

      // One chunk of the batch goes in: the ETA is the time per block of this batch times the blocks left.
      yield* gate.open(1)
      yield* TestClock.adjust("100 millis")
      expect(gate.waiting()).toBe(1)
      const now = yield* Clock.currentTimeMillis
      const oneChunk = yield* consistent
      expect(oneChunk.imported).toBe(chunk)
      expect(oneChunk.importing).toBe(held.importing - chunk)
      const left = oneChunk.queued + oneChunk.cached + oneChunk.importing
      const eta = Duration.toMillis(oneChunk.eta)
      expect(eta).toBeGreaterThan(0)
      expect(eta).toBeGreaterThanOrEqual(((now - batchStart) / chunk) * left)
      expect(eta).toBeLessThanOrEqual(((now - batchStart + 1) / chunk) * left)

      // The rest of the batch goes in and the next batch is taken: zero again until one of its blocks lands.
      yield* gate.open(held.importing / chunk - 1)
      yield* TestClock.adjust("100 millis")
      // The sync hands the importer its next batch by message: a few scheduler turns, not a deadline.
      yield* stepUntil(() => gate.waiting() === 1)
      yield* TestClock.adjust("10 millis") // the requests the freed cache space let out are answered
      const nextBatch = yield* consistent
      expect(nextBatch.imported).toBe(held.importing)
      expect(nextBatch.importing).toBeGreaterThan(chunk)
      expect(Duration.isZero(nextBatch.eta)).toBe(true)
      yield* TestClock.adjust("1 second")
      yield* gate.open(1)
      yield* TestClock.adjust("100 millis")
      expect(Duration.toMillis((yield* consistent).eta)).toBeGreaterThan(0)

      yield* gate.open(chain.length)
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(yield* h.downloader.stats).toEqual({ queued: 0, cached: 0, importing: 0, eta: Duration.zero })
    }))
  it.effect("queued counts hashes whose blocks have not arrived, requested ones included; cached counts blocks waiting behind a gap", () =>
    Effect.gen(function*() {
      const gate = yield* ImportGate.make
      const h = yield* Harness.make({ wrapStore: gate.wrap })
      const chain = yield* TestChain.make(8)
      const p = yield* h.addScripted("p", chain.head.hash)
      const sync = yield* h.start("p", chain.head.hash)
      yield* expectNext(p, "Hashes")
      yield* p.sendHashes(HashList.toArray(chain.hashes).slice(1))
      const request = yield* p.next
      if (request._tag !== "Blocks") return yield* Effect.die(new Error("expected a block request"))
      expect(request.hashes.length).toBe(chain.length)
      expect(yield* h.downloader.stats).toEqual({ queued: chain.length, cached: 0, importing: 0, eta: Duration.zero })
      // The upper half arrives: it waits in the cache behind the missing lower half, which is asked for again.
      yield* p.sendBlocks(chain.blocks.slice(5))
      yield* TestClock.adjust("10 millis")
      expect(yield* h.downloader.stats).toEqual({ queued: 4, cached: 4, importing: 0, eta: Duration.zero })
      const again = yield* p.next
      if (again._tag !== "Blocks") return yield* Effect.die(new Error("expected a block request"))
      expect(again.hashes.length).toBe(4)
      // The lower half arrives: all eight go to the importer, held at the gate.
      yield* p.sendBlocks(chain.blocks.slice(1, 5))
      yield* stepUntil(() => gate.waiting() === 1)
      expect(yield* h.downloader.stats).toEqual({ queued: 0, cached: 0, importing: chain.length, eta: Duration.zero })
      yield* gate.open(1)
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))
})

describe("events", () => {
  it.effect("a successful sync: Started, then Progress with rising counts up to the number of blocks, then Done with that count", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(1000)
      yield* h.add(SimPeer.honest("peer", chain))
      const events = yield* watch(h)
      const run = yield* h.runSync("peer", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      yield* settle
      expect(events[0]).toMatchObject({ _tag: "Started", peer: "peer" })
      expect(events[events.length - 1]).toMatchObject({ _tag: "Done", peer: "peer", imported: chain.length })
      const progress = events.slice(1, -1)
      expect(progress.length).toBeGreaterThanOrEqual(2)
      let imported = 0
      for (const event of progress) {
        if (event._tag !== "Progress") return yield* Effect.die(new Error(`expected Progress, got ${event._tag}`))
        expect(event.imported).toBeGreaterThan(imported)
        // Synced from the genesis: the head number is the count imported.
        expect(event.head).toBe(event.imported)
        imported = event.imported
      }
      expect(imported).toBe(chain.length)
    }))

  it.effect("failing and canceled syncs: Started then Failed with the error (cancels by phase); refused syncs post nothing", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ pinned: [Hash.makeUnsafe(new Uint8Array(32).fill(2))] })
      const chain = yield* TestChain.make(8)
      const below = HashList.toArray(chain.hashes).slice(1)
      const p = yield* h.addScripted("p", chain.head.hash)
      const events = yield* watch(h)

      const empty = yield* h.start("p", chain.head.hash)
      yield* expectNext(p, "Hashes")
      yield* p.sendHashes([])
      const emptyRun = yield* empty.outcome
      expect(resultTag(emptyRun)).toBe("EmptyHashSet")

      const inHashes = yield* h.start("p", chain.head.hash)
      yield* expectNext(p, "Hashes")
      yield* h.downloader.cancel
      expect(resultTag(yield* inHashes.outcome)).toBe("HashFetchCanceled")

      const inBlocks = yield* h.start("p", chain.head.hash)
      yield* expectNext(p, "Hashes")
      yield* p.sendHashes(below)
      yield* expectNext(p, "Blocks")
      yield* h.downloader.cancel
      expect(resultTag(yield* inBlocks.outcome)).toBe("BlockFetchCanceled")

      // Refused before a sync starts: Busy (another runs) and BannedHead post no event, as in the seed.
      const running = yield* h.start("p", chain.head.hash)
      yield* expectNext(p, "Hashes")
      expect(resultTag(yield* h.runSync("p", chain.head.hash))).toBe("Busy")
      yield* h.downloader.cancel
      expect(resultTag(yield* running.outcome)).toBe("HashFetchCanceled")
      expect(resultTag(yield* h.runSync("p", Hash.makeUnsafe(new Uint8Array(32).fill(2))))).toBe("BannedHead")

      yield* settle
      expect(events.map((e) => e._tag === "Failed" ? `Failed(${e.error._tag})` : e._tag)).toEqual([
        "Started",
        "Failed(EmptyHashSet)",
        "Started",
        "Failed(HashFetchCanceled)",
        "Started",
        "Failed(BlockFetchCanceled)",
        "Started",
        "Failed(HashFetchCanceled)"
      ])
      expect(events.every((e) => e._tag !== "Started" && e._tag !== "Failed" || e.peer === "p")).toBe(true)
      // The event carries the very error the sync failed with.
      const failed = events[1]!
      expect(failed._tag === "Failed" && failed.error).toBe(errorOf(emptyRun))
    }))
})

describe("store errors", () => {
  /**
   * Syncs `chain` from two honest peers into a store whose insert fails with a StoreError when
   * `fails` says so, checks how that sync ended, then lets the store recover and syncs again.
   */
  const storeFailure = (length: number, fails: (blocks: ReadonlyArray<Block.Block>, insert: number) => boolean) =>
    Effect.gen(function*() {
      const broken = new ChainStore.StoreError({ operation: "insert", reason: "disk full" })
      let failing = true
      let inserts = 0
      const h = yield* Harness.make({
        wrapStore: (store) => ({
          ...store,
          insert: (blocks) =>
            Effect.suspend(() => (failing && fails(blocks, ++inserts)) ? Effect.fail(broken) : store.insert(blocks))
        })
      })
      const chain = yield* TestChain.make(length)
      yield* h.add(SimPeer.honest("peer", chain))
      yield* h.add(SimPeer.honest("other", chain))
      const events = yield* watch(h)
      // The harness dies if anything of the sync stays queued, cached or importing, or if it runs past `within`.
      const run = yield* h.runSync("peer", chain.head.hash, { orDrop: true, within: "1 minute" })
      expect(resultTag(run)).toBe("StoreError")
      expect(errorOf(run)).toBe(broken)
      expect(run.elapsed).toBeLessThan(Duration.toMillis(h.config.blockSoftTTL))
      expect(run.dropped).toEqual([])
      expect(h.drops).toEqual([])
      const stored = yield* headNumber(h)
      expect(stored).toBeGreaterThan(0)
      expect(stored).toBeLessThan(chain.length)
      expect(yield* h.downloader.stats).toEqual({ queued: 0, cached: 0, importing: 0, eta: Duration.zero })
      yield* settle
      expect(events.map((e) => e._tag)).toEqual(["Started", ...events.slice(1, -1).map(() => "Progress"), "Failed"])
      const last = events[events.length - 1]!
      expect(last._tag === "Failed" && last.error).toBe(broken)

      // Both peers are still registered (unregistering a dropped one fails), and the downloader syncs again once the store recovers.
      failing = false
      expect(resultTag(yield* h.runSync("peer", chain.head.hash, { orDrop: true }))).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      yield* Effect.orDie(h.downloader.unregisterPeer("peer"))
      yield* Effect.orDie(h.downloader.unregisterPeer("other"))
    })

  it.effect("an insert failing with ChainStore.StoreError mid-sync ends the sync with it, drops no peer, leaks nothing; a later sync recovers", () =>
    storeFailure(1024, (_, insert) => insert >= 2))

  it.effect("a ChainStore.StoreError from the store during the hash phase ends the sync with it and drops no peer", () =>
    Effect.gen(function*() {
      const broken = new ChainStore.StoreError({ operation: "firstKnown", reason: "disk full" })
      const h = yield* Harness.make({ wrapStore: (store) => ({ ...store, firstKnown: () => Effect.fail(broken) }) })
      const chain = yield* TestChain.make(8)
      yield* h.add(SimPeer.honest("peer", chain))
      const events = yield* watch(h)
      const run = yield* h.runSync("peer", chain.head.hash, { orDrop: true })
      expect(resultTag(run)).toBe("StoreError")
      expect(errorOf(run)).toBe(broken)
      expect(run.dropped).toEqual([])
      expect(yield* headNumber(h)).toBe(0)
      yield* settle
      expect(events.map((e) => e._tag)).toEqual(["Started", "Failed"])
    }))

  it.effect("a ChainStore.StoreError on the last insert, with nothing else left to wake the sync, still ends it at once", () =>
    Effect.gen(function*() {
      const length = 1024
      yield* storeFailure(length, (blocks) => blocks.some((block) => block.number === length))
    }))
})
