/**
 * What a real network does to a downloader that a simulated peer rarely does: replies that arrive
 * between syncs, sockets that fail or stall, floods, cross-checks answered by the wrong request,
 * blame after a hash-source switch, a caller that gives up, a subscriber that stops reading.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Block, ChainStore, CheckRandom, Hash, Network, PeerHandle, type SyncError, SyncEvent } from "@ethsync/core"
import { Cause, Duration, Effect, Exit, Fiber, Option, Stream } from "effect"
import { TestClock } from "effect/testing"
import { vi } from "vitest"
import { HashList, SimNetwork, SimPeer, TestChain } from "../src/index.ts"
import { Harness, ImportGate, type ScriptedPeer } from "../src/harness/index.ts"

const { resultTag } = Harness

/** Small hash batches, so a short chain takes several and each gets a cross-check. */
const config = { minHashFetch: 4, maxHashFetch: 8 }

/** The sync's error, if it failed with one. */
const errorOf = (run: Harness.Outcome): SyncError.SyncError | undefined =>
  Exit.isFailure(run.exit) ? Option.getOrUndefined(Cause.findErrorOption(run.exit.cause)) : undefined

/** The blocks of `chain` for `hashes`, in order. */
const blocksOf = (chain: TestChain.TestChain, hashes: ReadonlyArray<Hash.Hash>): Array<Block.Block> =>
  hashes.map((hash) => chain.blockMap.get(Hash.key(hash))!)

/** Up to `max` hashes of `chain` below `from`, newest first. */
const hashesBelow = (chain: TestChain.TestChain, from: Hash.Hash, max: number): Array<Hash.Hash> => {
  const all = HashList.toArray(chain.hashes)
  const at = all.findIndex((hash) => Hash.equals(hash, from))
  return at < 0 ? [] : all.slice(at + 1, at + 1 + max)
}

/** A block request that asks for exactly one block during the hash phase: a cross-check. */
const isCheck = (request: ScriptedPeer.Request) => request._tag === "Blocks" && request.hashes.length === 1

/**
 * Answers every request of `peer` from `chain`, as an honest peer would, except those `skip`
 * says to leave unanswered; refused deliveries are ignored. Runs until interrupted.
 */
const serve = (peer: ScriptedPeer.ScriptedPeer, chain: TestChain.TestChain, skip: (request: ScriptedPeer.Request) => boolean = () => false) =>
  Effect.forever(Effect.gen(function*() {
    const request = yield* peer.next
    if (skip(request)) return
    if (request._tag === "Hashes") yield* Effect.ignore(peer.sendHashes(hashesBelow(chain, request.from, config.maxHashFetch)))
    else if (request._tag === "Blocks") yield* Effect.ignore(peer.sendBlocks(blocksOf(chain, request.hashes)))
  }))

describe("replies between syncs", () => {
  it.effect("a block reply that arrives while no sync runs still answers its request: the next sync's cross-check is matched to its own request", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config })
      const chain = yield* TestChain.make(40)
      const p = yield* h.addScripted("p", chain.head.hash)
      const first = yield* h.start("p", chain.head.hash)
      const hashes = yield* p.next
      if (hashes._tag !== "Hashes") return yield* Effect.die(new Error("expected a hash request"))
      yield* p.sendHashes(hashesBelow(chain, hashes.from, config.maxHashFetch))
      const check = yield* p.next
      expect(isCheck(check)).toBe(true)
      // The sync ends with the check unanswered; the answer comes after it, and is refused.
      yield* h.downloader.cancel
      expect(resultTag(yield* first.outcome)).toBe("HashFetchCanceled")
      if (check._tag !== "Blocks") return
      const late = yield* Effect.flip(p.sendBlocks(blocksOf(chain, check.hashes)))
      expect(late._tag).toBe("NoSyncActive")
      // Whatever else sync 1 asked goes unanswered.
      for (let taken = 2; taken < p.log.length; taken++) yield* p.next
      // The second sync: p answers every request honestly, its cross-checks included.
      const server = yield* Effect.forkChild(serve(p, chain))
      const second = yield* h.runSync("p", chain.head.hash, { orDrop: true })
      yield* Fiber.interrupt(server)
      expect(resultTag(second)).toBe("Success")
      expect(second.dropped).toEqual([])
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))
})

describe("transport failures", () => {
  it.effect("a peer whose block requests fail to send is dropped with the transport's reason; the sync completes from the others", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(2000)
      yield* h.add(SimPeer.honest("honest", chain))
      const broken = SimPeer.make(SimPeer.honest("broken", chain), h.network.wire)
      yield* Effect.orDie(h.downloader.registerPeer({
        ...broken.handle,
        requestBlocks: () => Effect.fail(new PeerHandle.PeerTransportError({ peer: "broken", reason: "socket closed" }))
      }))
      const run = yield* h.runSync("honest", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(run.dropped).toEqual(["broken"])
      expect(h.drops[0]!.reason).toBe("sending to peer broken failed: socket closed")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("a hash source whose requests fail to send is dropped; another peer takes over the hashes", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(500)
      const origin = SimPeer.make(SimPeer.honest("origin", chain), h.network.wire)
      yield* Effect.orDie(h.downloader.registerPeer({
        ...origin.handle,
        requestHashes: () => Effect.fail(new PeerHandle.PeerTransportError({ peer: "origin", reason: "connection reset" }))
      }))
      yield* h.add(SimPeer.honest("backup", chain))
      const run = yield* h.runSync("origin", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(run.dropped).toEqual(["origin"])
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("a defect in a phase ends the sync with SyncDefect and a Failed event, drops nobody, and the next sync runs", () =>
    Effect.gen(function*() {
      /** Whether the store's ancestor lookup should die (once). */
      let broken = true
      const h = yield* Harness.make({
        wrapStore: (store): ChainStore.ChainStore["Service"] => ({
          ...store,
          firstKnown: (hashes) => broken ? Effect.die(new Error("bug in firstKnown")) : store.firstKnown(hashes)
        })
      })
      const chain = yield* TestChain.make(100)
      yield* h.add(SimPeer.honest("peer", chain))
      const events = yield* h.downloader.subscribe
      const failed = yield* h.runSync("peer", chain.head.hash, { orDrop: true })
      expect(resultTag(failed)).toBe("SyncDefect")
      expect(errorOf(failed)?.message).toContain("bug in firstKnown")
      expect(failed.dropped).toEqual([])
      const seen = yield* Stream.runCollect(Stream.take(events, 2))
      expect(seen.map((e) => e._tag)).toEqual(["Started", "Failed"])
      broken = false
      expect(resultTag(yield* h.runSync("peer", chain.head.hash))).toBe("Success")
    }))
})

describe("peers leaving", () => {
  it.effect("the last peer leaving once every block has arrived does not lose the download: the import finishes", () =>
    Effect.gen(function*() {
      const gate = yield* ImportGate.make
      const h = yield* Harness.make({ wrapStore: gate.wrap })
      const chain = yield* TestChain.make(1000)
      yield* h.add(SimPeer.honest("peer", chain))
      const sync = yield* h.start("peer", chain.head.hash)
      while (gate.waiting() === 0) yield* TestClock.adjust("10 millis")
      yield* TestClock.adjust("1 second") // every block downloaded, the importer held
      yield* Effect.orDie(h.downloader.unregisterPeer("peer"))
      yield* gate.open(chain.length)
      expect(resultTag(yield* sync.outcome)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("a peer that leaves in the middle of a failing send is not dropped when it comes back under the same id", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(3000)
      yield* h.add(SimPeer.slow("honest", chain, Duration.millis(100)))
      const failing = SimPeer.make(SimPeer.honest("x", chain), h.network.wire)
      /** Whether x was asked for blocks: its send then hangs, and fails 300 ms later. */
      let asked = false
      yield* Effect.orDie(h.downloader.registerPeer({
        ...failing.handle,
        requestBlocks: () =>
          Effect.suspend(() => {
            asked = true
            return Effect.andThen(Effect.sleep("300 millis"), Effect.fail(new PeerHandle.PeerTransportError({ peer: "x", reason: "late failure" })))
          })
      }))
      const sync = yield* h.start("honest", chain.head.hash)
      while (!asked) yield* TestClock.adjust("10 millis")
      yield* Effect.orDie(h.downloader.unregisterPeer("x"))
      yield* h.add(SimPeer.slow("x", chain, Duration.millis(100)))
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(h.drops).toEqual([])
    }))
})

describe("floods and stalls", () => {
  it.effect("a peer that keeps sending blocks nobody asked for is dropped past the limit; the sync goes on", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(3000)
      yield* h.add(SimPeer.slow("honest", chain, Duration.millis(50)))
      const flood = yield* h.addScripted("flood", chain.head.hash)
      const sync = yield* h.start("honest", chain.head.hash)
      yield* TestClock.adjust("200 millis") // into the block phase
      const junk = [chain.blocks[1]!]
      const sent = yield* Effect.forEach(
        Array.from({ length: h.config.maxUnrequestedReplies + h.config.replyBacklog + 5 }),
        () => Effect.result(flood.sendBlocks(junk))
      )
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(run.dropped).toEqual(["flood"])
      expect(h.drops[0]!.reason).toMatch(/^peer flood sent \d+ replies nobody asked for$/)
      // Once dropped, its deliveries are refused as from an unknown peer.
      expect(sent.some((r) => r._tag === "Failure" && r.failure._tag === "UnknownPeer")).toBe(true)
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("one peer's backlog does not delay another's replies: a reply sent during a flood is taken in at once", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { maxUnrequestedReplies: 1_000_000 } })
      const chain = yield* TestChain.make(100)
      const p = yield* h.addScripted("p", chain.head.hash)
      const flood = yield* h.addScripted("flood", chain.head.hash)
      const sync = yield* h.start("p", chain.head.hash)
      const request = yield* p.next
      if (request._tag !== "Hashes") return yield* Effect.die(new Error("expected a hash request"))
      // A hundred junk replies at once, before the sync gets to look at any: the flooder's backlog fills
      // and the rest of its deliver calls wait.
      const floods = yield* Effect.forEach(
        Array.from({ length: 100 }),
        () => Effect.forkChild(Effect.ignore(flood.sendBlocks([chain.blocks[1]!])), { startImmediately: true })
      )
      expect(floods.filter((f) => f.pollUnsafe() === undefined).length).toBe(100 - h.config.replyBacklog)
      // p's reply is taken in at once: it does not wait behind the flood.
      const reply = yield* Effect.forkChild(p.sendHashes(hashesBelow(chain, request.from, 2048)), { startImmediately: true })
      expect(reply.pollUnsafe()).toBeDefined()
      yield* h.downloader.cancel
      expect(resultTag(yield* sync.outcome)).toBe("BlockFetchCanceled")
      yield* Fiber.joinAll(floods)
    }))

  it.effect("a peer whose sends hang does not hold the sync: the others finish it", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(2000)
      yield* h.add(SimPeer.honest("honest", chain))
      const stuck = SimPeer.make(SimPeer.honest("stuck", chain), h.network.wire)
      yield* Effect.orDie(h.downloader.registerPeer({ ...stuck.handle, requestBlocks: () => Effect.sleep("1 hour") }))
      const run = yield* h.runSync("honest", chain.head.hash, { within: Duration.minutes(1) })
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))
})

describe("cross-checks", () => {
  it.effect("a check still open when the hash phase ends is enforced: unanswered, it fails the sync blaming the checked peer", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config })
      const chain = yield* TestChain.make(20)
      const p = yield* h.addScripted("p", chain.head.hash)
      /** Whether p has left a check unanswered. */
      let skipped = false
      const server = yield* Effect.forkChild(serve(p, chain, (request) => {
        if (skipped || !isCheck(request)) return false
        skipped = true
        return true
      }))
      const run = yield* h.runSync("p", chain.head.hash, { orDrop: true })
      yield* Fiber.interrupt(server)
      expect(skipped).toBe(true)
      expect(resultTag(run)).toBe("CrossCheckFailed")
      expect(errorOf(run)).toMatchObject({ peer: "p" })
      expect(run.dropped).toEqual(["p"])
    }))

  it.effect("a check is answered only by its own request: the same block, fetched from another peer as an ordinary request, does not pass it", () =>
    Effect.gen(function*() {
      // One block per request: the checked block comes from q as a one-block reply, as a check answer would.
      const h = yield* Harness.make({ config: { ...config, maxBlockFetch: 1 } })
      const chain = yield* TestChain.make(20)
      const p = yield* h.addScripted("p", chain.head.hash)
      // q serves blocks: the checked block is among those it delivers in the block phase.
      yield* h.add(SimPeer.honest("q", chain))
      const server = yield* Effect.forkChild(serve(p, chain, (request) => request._tag === "Blocks"))
      const run = yield* h.runSync("p", chain.head.hash)
      yield* Fiber.interrupt(server)
      expect(resultTag(run)).toBe("CrossCheckFailed")
      expect(errorOf(run)).toMatchObject({ peer: "p" })
    }))

  it.effect("the checked hash is drawn from the CheckRandom service: the same seed picks the same hashes, another seed others", () =>
    Effect.gen(function*() {
      const picks = (seed: string) =>
        Effect.gen(function*() {
          const h = yield* Harness.make({ config, seed })
          const chain = yield* TestChain.make(30)
          const p = yield* h.addScripted("p", chain.head.hash)
          const server = yield* Effect.forkChild(serve(p, chain))
          expect(resultTag(yield* h.runSync("p", chain.head.hash))).toBe("Success")
          yield* Fiber.interrupt(server)
          return p.log.filter(isCheck).map((r) => r._tag === "Blocks" ? Hash.toHex(r.hashes[0]!) : "")
        })
      const once = yield* picks("a")
      expect(once.length).toBeGreaterThan(1)
      expect(yield* picks("a")).toEqual(once)
      expect(yield* picks("b")).not.toEqual(once)
    }))

  it("the default source is the platform's cryptographic one, not Math.random", () => {
    const spy = vi.spyOn(Math, "random")
    const draws = Array.from({ length: 100 }, () => CheckRandom.below(CheckRandom.secure, 1000))
    expect(spy).not.toHaveBeenCalled()
    spy.mockRestore()
    expect(draws.every((n) => Number.isInteger(n) && n >= 0 && n < 1000)).toBe(true)
    expect(new Set(draws).size).toBeGreaterThan(50)
  })
})

describe("blame", () => {
  it.effect("after a hash-source switch, a gap in the new source's hashes blames the new source, not the origin", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config })
      const chain = yield* TestChain.make(20)
      const hashes = HashList.toArray(chain.hashes)
      const origin = yield* h.addScripted("origin", chain.head.hash)
      // The new source skips block 5: its hash list has a gap.
      const gapped = HashList.fromArray(hashes.filter((_, i) => i !== hashes.length - 6))
      yield* h.add({ id: "liar", hashes: gapped, blocks: chain.blockMap, maxHashes: config.maxHashFetch })
      const sync = yield* h.start("origin", chain.head.hash, { orDrop: true })
      // The origin answers its first batch and its check, then goes silent: the liar takes over.
      const first = yield* origin.next
      if (first._tag !== "Hashes") return yield* Effect.die(new Error("expected a hash request"))
      yield* origin.sendHashes(hashesBelow(chain, first.from, config.maxHashFetch))
      const check = yield* origin.next
      if (check._tag !== "Blocks") return yield* Effect.die(new Error("expected a cross-check"))
      yield* origin.sendBlocks(blocksOf(chain, check.hashes))
      const run = yield* sync.outcome
      // The gap shows as blocks that cannot follow, or as a cross-check that lands on it: the liar's fault either way.
      expect(["InvalidChain", "CrossCheckFailed"]).toContain(resultTag(run))
      expect(errorOf(run)).toMatchObject({ peer: "liar" })
      expect(run.dropped).toEqual(["liar"])
    }))
})

describe("lifecycle", () => {
  it.effect("interrupting the caller of synchronise stops the importer before the sync's state is emptied, and posts Failed", () =>
    Effect.gen(function*() {
      const gate = yield* ImportGate.make
      const h = yield* Harness.make({ wrapStore: gate.wrap })
      const chain = yield* TestChain.make(2048)
      yield* h.add(SimPeer.honest("peer", chain))
      const events = yield* h.downloader.subscribe
      const caller = yield* Effect.forkChild(h.downloader.synchronise("peer", chain.head.hash), { startImmediately: true })
      while (gate.waiting() === 0) yield* TestClock.adjust("10 millis")
      yield* Fiber.interrupt(caller)
      expect(gate.waiting()).toBe(0)
      expect(yield* h.downloader.synchronising).toBe(false)
      expect(yield* h.downloader.stats).toEqual({ queued: 0, cached: 0, importing: 0, eta: Duration.zero })
      // Were the held insert still alive, these permits would let it store its chunk.
      yield* gate.open(100)
      yield* TestClock.adjust("1 second")
      expect((yield* Effect.orDie(h.store.head)).block.number).toBe(0)
      const seen = yield* Stream.runCollect(Stream.take(events, 2))
      expect(seen.map((e) => e._tag === "Failed" ? `Failed(${e.error._tag})` : e._tag)).toEqual(["Started", "Failed(BlockFetchCanceled)"])
    }))

  it.effect("a subscriber that stops reading holds a bounded backlog, newest kept: Done is never lost", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: { maxBlockProcess: 1 } })
      const chain = yield* TestChain.make(3000)
      yield* h.add(SimPeer.honest("peer", chain))
      const events = yield* h.downloader.subscribe
      expect(resultTag(yield* h.runSync("peer", chain.head.hash))).toBe("Success")
      const backlog = yield* Stream.runCollect(Stream.takeUntil(events, SyncEvent.SyncEvent.$is("Done")))
      expect(backlog.length).toBeLessThanOrEqual(1024)
      expect(backlog.length).toBeGreaterThan(1000)
      expect(backlog[backlog.length - 1]).toMatchObject({ _tag: "Done", imported: chain.length })
    }))

  it.effect("the network of the demo keeps no history of the hashes it delivered", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(100)
      const untracked = yield* SimNetwork.make(yield* Network.makeRegistry, h.downloader, h.config.maxHashFetch)
      yield* Effect.orDie(untracked.add(SimPeer.honest("peer", chain)))
      expect(resultTag(yield* h.runSync("peer", chain.head.hash))).toBe("Success")
      expect(untracked.takeSent()).toEqual([])
    }))
})
