import { describe, expect, it } from "@effect/vitest"
import { type Block, type Hash } from "@ethsync/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import { Attacks, HashList, SimPeer, TestChain } from "../src/index.ts"
import { Harness, ImportGate, type ScriptedPeer } from "../src/harness/index.ts"

const { resultTag } = Harness

/** The seed's cache limit: the unit of every scenario's size. */
const limit = 1024

/** Syncs from the honest peer `valid` and checks that every block of `chain` is then stored. */
const validSyncSucceeds = (h: Harness.Harness, valid: string, chain: TestChain.TestChain) =>
  Effect.gen(function*() {
    const run = yield* h.runSync(valid, chain.head.hash)
    expect(resultTag(run)).toBe("Success")
    expect(yield* h.holdsAll(chain.blocks)).toBe(true)
  })

/**
 * On a chain of `length` blocks held by the honest peer "valid": a sync from the attacker `spec`
 * makes (towards the head it claims) ends with `tag`, and one from "valid" then stores the whole
 * chain. The attacker's run and peer, for the checks of its scenario.
 */
const attackEndsWith = (
  length: number,
  spec: (chain: TestChain.TestChain) => SimPeer.Spec,
  tag: string,
  options?: Harness.SyncOptions
) =>
  Effect.gen(function*() {
    const h = yield* Harness.make()
    const chain = yield* TestChain.make(length)
    yield* h.add(SimPeer.honest("valid", chain))
    const attack = yield* h.add(spec(chain))
    const run = yield* h.runSync("attack", attack.handle.head, options)
    expect(resultTag(run)).toBe(tag)
    yield* validSyncSucceeds(h, "valid", chain)
    return { run, attack }
  })

/** The number of the store's head block. */
const headNumber = (h: Harness.Harness) => Effect.map(Effect.orDie(h.store.head), (head) => head.block.number)

describe("seed scenarios", () => {
  it.effect("seed #1: one honest peer, cache limit - 15 blocks, imports them all", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit - 15)
      yield* h.add(SimPeer.honest("peer", chain))
      const run = yield* h.runSync("peer", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(yield* headNumber(h)).toBe(limit - 15)
      expect(run.dropped).toEqual([])
    }))

  it.effect("seed #2: deliveries with no sync running are rejected with NoSyncActive", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(1)
      const hashes = yield* Effect.flip(h.downloader.deliverHashes("bad peer", []))
      const blocks = yield* Effect.flip(h.downloader.deliverBlocks("bad peer", chain.blocks))
      expect(hashes._tag).toBe("NoSyncActive")
      expect(blocks._tag).toBe("NoSyncActive")
    }))

  it.effect("seed #3: cancel before and after a sync leaves the queue empty", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit - 15)
      yield* h.add(SimPeer.honest("peer", chain))
      const empty = { queued: 0, cached: 0, importing: 0 }
      yield* h.downloader.cancel
      expect(yield* h.downloader.stats).toMatchObject(empty)
      expect(yield* h.downloader.synchronising).toBe(false)
      const run = yield* h.runSync("peer", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      yield* h.downloader.cancel
      yield* h.downloader.cancel
      expect(yield* h.downloader.stats).toMatchObject(empty)
      expect(yield* h.downloader.has(chain.head.hash)).toBe(false)
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    }))

  it.effect("seed #4: 8 x cache limit blocks with the importer held back: the cache never exceeds its limit and all arrive", () =>
    Effect.gen(function*() {
      const gate = yield* ImportGate.make
      const h = yield* Harness.make({ wrapStore: gate.wrap })
      const chain = yield* TestChain.make(8 * limit)
      yield* h.add(SimPeer.honest("peer", chain))
      const sync = yield* h.start("peer", chain.head.hash)
      let rounds = 0
      let fullRounds = 0
      while (true) {
        // Let the downloader fetch all it may while one insert is held, checking the cache at every step.
        for (let i = 0; i < 100; i++) {
          yield* TestClock.adjust("10 millis")
          expect((yield* h.downloader.stats).cached).toBeLessThanOrEqual(limit)
        }
        const stats = yield* h.downloader.stats
        const left = chain.length - (yield* headNumber(h)) - stats.importing
        expect(stats.cached).toBe(Math.min(limit, left))
        if (stats.cached === limit) fullRounds++
        if ((yield* headNumber(h)) === chain.length) break
        expect(gate.waiting()).toBe(1)
        yield* gate.open(1)
        rounds++
      }
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      // Each held chunk of maxBlockProcess blocks was a step; the cache was full for most of them.
      expect(rounds).toBeGreaterThanOrEqual(chain.length / h.config.maxBlockProcess)
      expect(fullRounds).toBeGreaterThanOrEqual(rounds / 2)
    }))

  it.effect("seed #5: 16 peers with ever shorter tails: the middle peer's part, then everything from the best", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(16 * limit - 15)
      for (let i = 0; i < 16; i++) {
        yield* h.add({ id: `peer #${i}`, hashes: HashList.drop(chain.hashes, i * limit), blocks: chain.blockMap })
      }
      const middle = chain.length - 8 * limit
      const first = yield* h.runSync("peer #8", chain.blocks[middle]!.hash)
      expect(resultTag(first)).toBe("Success")
      expect(yield* headNumber(h)).toBe(middle)
      expect(yield* h.holdsAll(chain.blocks.slice(0, middle + 1))).toBe(true)
      expect(yield* Effect.orDie(h.store.has(chain.blocks[middle + 1]!.hash))).toBe(false)
      const second = yield* h.runSync("peer #0", chain.head.hash)
      expect(resultTag(second)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(h.drops).toEqual([])
    }))

  it.effect("seed #6: a fast and a 1 s-slow peer, 2 x cache limit - 15 blocks, sync in under 3 x the slow delay", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(2 * limit - 15)
      yield* h.add(SimPeer.honest("fast", chain))
      const slow = yield* h.add(SimPeer.slow("slow", chain, "1 second"))
      const run = yield* h.runSync("fast", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(slow.counters.blockRequests).toBeGreaterThan(0)
      expect(run.elapsed).toBeLessThan(3 * 1000)
    }))

  it.effect("seed #7: an attacker's single block has an unknown parent: the sync fails and the block is not stored", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(1)
      yield* h.add(SimPeer.honest("valid", chain))
      const attack = Attacks.unknownParent("attack", chain)
      yield* h.add(attack)
      const forged = attack.hashes.at(0)
      const run = yield* h.runSync("attack", forged)
      expect(resultTag(run)).toBe("ImportFailed")
      expect(run.dropped).toEqual(["attack"])
      expect(yield* Effect.orDie(h.store.has(forged))).toBe(false)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("seed #8: an attacker repeats hashes (its chain lacks the last link): the sync fails within 1 s", () =>
    Effect.gen(function*() {
      const { run } = yield* attackEndsWith(limit, (chain) => Attacks.withoutLastLink("attack", chain), "EmptyHashSet", { within: "1 second" })
      expect(run.elapsed).toBeLessThan(1000)
    }))

  it.effect("seed #9: an attacker's hash chain holds one hash with no block behind it: PeersUnavailable", () =>
    attackEndsWith(limit, (chain) => Attacks.missingBlock("attack", chain), "PeersUnavailable"))

  it.effect("seed #10: an attacker swaps two cache-sized chunks of hashes: InvalidChain", () =>
    attackEndsWith(4 * limit, (chain) => Attacks.swappedChunks("attack", chain, limit), "InvalidChain"))

  it.effect("seed #11: an attacker serves a made-up chain of 1024 x cache limit hashes with no blocks: CrossCheckFailed", () =>
    Effect.gen(function*() {
      const { run, attack } = yield* attackEndsWith(
        4 * limit,
        (chain) => Attacks.madeUpChain("attack", 1024 * limit, chain.blocks[0]!.hash, 11),
        "CrossCheckFailed"
      )
      expect(attack.spec.hashes.length).toBe(1024 * limit + 1)
      // The empty answer to the cross-check fails the sync at once, not when the check expires.
      expect(run.elapsed).toBeLessThan(1000)
      // The answer to the hash request sent with the cross-check came after the sync ended, and was refused.
      expect(attack.counters.refused).toBe(1)
    }))

  it.effect("seed #12: an attacker drips made-up hashes one per reply: StallingPeer", () =>
    Effect.gen(function*() {
      const { attack } = yield* attackEndsWith(
        limit,
        (chain) => ({ ...Attacks.madeUpChain("attack", 16 * limit, chain.blocks[0]!.hash, 12), maxHashes: 1 }),
        "StallingPeer"
      )
      expect(attack.counters.hashRequests).toBe(1)
    }))

  it.effect("seed #13: an attacker serves every second hash of a real chain: CrossCheckFailed", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(16 * limit)
      yield* h.add(Attacks.everySecondHash("attack", chain))
      const run = yield* h.runSync("attack", chain.head.hash)
      expect(resultTag(run)).toBe("CrossCheckFailed")
      yield* h.add(SimPeer.honest("valid", chain))
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("seed #14: an attacker's blocks all claim the genesis as parent: CrossCheckFailed", () =>
    attackEndsWith(16 * limit, (chain) => Attacks.genesisParents("attack", chain), "CrossCheckFailed"))

  it.effect("seed #15: an attacker's fork runs through a banned hash: InvalidChain each time with a growing ban list, until its head is banned", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(8 * limit)
      const fork = yield* Attacks.bannedFork("attack", chain, 4 * limit)
      const h = yield* Harness.make({ pinned: [fork.banned.hash] })
      yield* h.add(SimPeer.honest("valid", chain))
      yield* h.add(fork.spec)
      let bans = yield* h.banList.size
      let syncs = 0
      while (true) {
        const run = yield* h.runSync("attack", fork.head.hash)
        syncs++
        if (resultTag(run) !== "InvalidChain") {
          expect(resultTag(run)).toBe("BannedHead")
          break
        }
        const now = yield* h.banList.size
        expect(now).toBeGreaterThanOrEqual(bans + 1)
        bans = now
        expect(syncs).toBeLessThan(100)
      }
      expect(yield* h.banList.has(fork.head.hash)).toBe(true)
      const refused = yield* Effect.flip(h.network.add({ ...fork.spec, id: "new attacker" }))
      expect(refused._tag).toBe("BannedHead")
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("seed #16: as #15 with a fork longer than the ban cap (block fetch 4, cap 256): the cap holds and hard-coded bans stay", () =>
    Effect.gen(function*() {
      const config = { maxBlockFetch: 4, maxBannedHashes: 256 }
      const chain = yield* TestChain.make(8 * limit)
      const fork = yield* Attacks.bannedFork("attack", chain, config.maxBannedHashes * config.maxBlockFetch)
      const h = yield* Harness.make({ config, pinned: [fork.banned.hash] })
      yield* h.add(SimPeer.honest("valid", chain))
      yield* h.add(fork.spec)
      let syncs = 0
      while (true) {
        const run = yield* h.runSync("attack", fork.head.hash)
        syncs++
        expect(resultTag(run)).toBe("InvalidChain")
        if (yield* h.banList.has(fork.head.hash)) break
        expect(yield* h.banList.size).toBeLessThanOrEqual(config.maxBannedHashes)
        expect(yield* h.banList.has(fork.banned.hash)).toBe(true)
        expect(syncs).toBeLessThan(1000)
      }
      expect(syncs).toBeGreaterThan(config.maxBannedHashes)
      expect(yield* h.banList.size).toBeLessThanOrEqual(config.maxBannedHashes)
      expect(yield* h.banList.has(fork.banned.hash)).toBe(true)
      yield* validSyncSucceeds(h, "valid", chain)
    }))

  it.effect("seed #17: an attacker adds an unrequested block to every reply: the sync still imports everything", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make()
      const chain = yield* TestChain.make(limit - 23)
      const attack = yield* h.add(SimPeer.withUnrequested(SimPeer.honest("attack", chain), chain.head))
      const run = yield* h.runSync("attack", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(run.dropped).toEqual([])
      expect(attack.counters.blocksSent).toBeGreaterThan(attack.counters.blocksAsked)
    }))

  {
    /** Two blocks on the test genesis: enough for a hash phase and a block phase. */
    const small = TestChain.make(2)
    /** The hashes below the head of `small`, as its honest owner sends them. */
    const below = (chain: TestChain.TestChain): Array<Hash.Hash> => HashList.toArray(chain.hashes).slice(1)
    /** Made-up hashes with no block: enough to pass the stalling check and get cross-checked. */
    const madeUp = (count: number): Array<Hash.Hash> => HashList.toArray(HashList.madeUp(count, Attacks.unknownHash, 18)).slice(0, count)

    /**
     * Starts a sync with a scripted peer "p" whose head is `chain`'s, takes its first request (for
     * hashes), plays `script` with it, and returns the sync's outcome.
     */
    const scripted = (h: Harness.Harness, chain: TestChain.TestChain, script: (p: ScriptedPeer.ScriptedPeer) => Effect.Effect<unknown, unknown>) =>
      Effect.gen(function*() {
        const p = yield* h.addScripted("p", chain.head.hash)
        const sync = yield* h.start("p", chain.head.hash, { orDrop: true })
        yield* p.next
        yield* script(p)
        return yield* sync.outcome
      })

    /** Sends `hashes` to `p`, takes the block request that follows, and answers it with no blocks. */
    const noBlocksFor = (p: ScriptedPeer.ScriptedPeer, hashes: ReadonlyArray<Hash.Hash>) =>
      Effect.gen(function*() {
        yield* p.sendHashes(hashes)
        expect((yield* p.next)._tag).toBe("Blocks")
        yield* p.sendBlocks([])
      })

    /** A row: the error it provokes, whether the table drops the peer, and how to provoke it with peer "p". */
    const rows: ReadonlyArray<readonly [string, boolean, (h: Harness.Harness, chain: TestChain.TestChain) => Effect.Effect<Harness.Outcome, unknown>]> = [
      ["Success", false, (h, chain) =>
        Effect.gen(function*() {
          yield* h.add(SimPeer.honest("p", chain))
          return yield* h.runSync("p", chain.head.hash, { orDrop: true })
        })],
      ["Busy", false, (h, chain) =>
        Effect.gen(function*() {
          yield* h.addScripted("q", chain.head.hash)
          yield* h.add(SimPeer.honest("p", chain))
          const other = yield* h.start("q", chain.head.hash)
          const run = yield* h.runSync("p", chain.head.hash, { orDrop: true })
          yield* h.downloader.cancel
          expect(resultTag(yield* other.outcome)).toBe("HashFetchCanceled")
          return run
        })],
      ["UnknownPeer", false, (h, chain) => h.runSync("p", chain.head.hash, { orDrop: true })],
      ["BadPeer", true, (h, chain) =>
        scripted(h, chain, (p) => p.sendHashes([chain.head.hash]))],
      ["StallingPeer", true, (h, chain) =>
        scripted(h, chain, (p) => p.sendHashes(madeUp(1)))],
      ["BannedHead", true, (h, chain) =>
        Effect.gen(function*() {
          yield* h.add(SimPeer.honest("p", chain))
          return yield* h.runSync("p", Attacks.unknownHash, { orDrop: true })
        })],
      ["NoPeers", false, (h, chain) =>
        scripted(h, chain, (p) =>
          Effect.gen(function*() {
            yield* p.sendHashes(below(chain))
            expect((yield* p.next)._tag).toBe("Blocks")
            yield* h.downloader.unregisterPeer("p")
          }))],
      ["Timeout", true, (h, chain) =>
        Effect.gen(function*() {
          yield* h.addScripted("p", chain.head.hash)
          return yield* h.runSync("p", chain.head.hash, { orDrop: true })
        })],
      ["EmptyHashSet", true, (h, chain) =>
        scripted(h, chain, (p) => p.sendHashes([]))],
      ["PeersUnavailable", true, (h, chain) =>
        scripted(h, chain, (p) =>
          Effect.gen(function*() {
            // One request covers the small chain (an unmeasured peer is asked for the most blocks);
            // its empty reply leaves nobody able to deliver them.
            expect(chain.length).toBeLessThanOrEqual(h.config.maxBlockFetch)
            yield* noBlocksFor(p, below(chain))
          }))],
      ["InvalidChain", true, (h, chain) =>
        scripted(h, chain, (p) => noBlocksFor(p, [chain.blocks[1]!.hash, Attacks.unknownHash]))],
      ["CrossCheckFailed", true, (h, chain) =>
        scripted(h, chain, (p) => noBlocksFor(p, madeUp(h.config.minHashFetch)))],
      ["HashFetchCanceled", false, (h, chain) =>
        scripted(h, chain, () => h.downloader.cancel)],
      ["BlockFetchCanceled", false, (h, chain) =>
        scripted(h, chain, (p) =>
          Effect.gen(function*() {
            yield* p.sendHashes(below(chain))
            expect((yield* p.next)._tag).toBe("Blocks")
            yield* h.downloader.cancel
          }))]
    ]

    it.effect("seed #18: each error of the classification table fed through the wrapper drops the peer exactly when the table says", () =>
      Effect.gen(function*() {
        expect(rows.map(([tag]) => tag)).toEqual([
          "Success", "Busy", "UnknownPeer", "BadPeer", "StallingPeer", "BannedHead", "NoPeers", "Timeout", "EmptyHashSet",
          "PeersUnavailable", "InvalidChain", "CrossCheckFailed", "HashFetchCanceled", "BlockFetchCanceled"
        ])
        const chain = yield* small
        for (const [tag, drops, provoke] of rows) {
          const h = yield* Harness.make({ pinned: [Attacks.unknownHash] })
          const run = yield* provoke(h, chain)
          expect(resultTag(run), tag).toBe(tag)
          expect(run.dropped.includes("p"), `${tag} drops the peer`).toBe(drops)
        }
      }))
  }

  {
    /** Syncs hashes from peer "hashes", which has no blocks, so that peer "origin" delivers `block`. */
    const importFrom = (block: Block.Block, genesis: Block.Block) =>
      Effect.gen(function*() {
        const h = yield* Harness.make()
        const hashes = HashList.fromArray([block.hash, genesis.hash])
        yield* h.add({ id: "hashes", hashes, blocks: new Map() })
        yield* h.add({ id: "origin", hashes, blocks: TestChain.blockMapOf([block]) })
        const run = yield* h.runSync("hashes", block.hash, { orDrop: true })
        return { run, stored: yield* Effect.orDie(h.store.has(block.hash)) }
      })

    it.effect("seed #19: importing a bad block (unknown parent) drops its origin peer, a good block keeps it", () =>
      Effect.gen(function*() {
        const chain = yield* TestChain.make(1)
        const genesis = chain.blocks[0]!
        const bad = yield* importFrom(Attacks.forge(chain.head, { parentHash: Attacks.unknownHash }), genesis)
        expect(resultTag(bad.run)).toBe("ImportFailed")
        expect(bad.run.dropped).toEqual(["origin"])
        expect(bad.stored).toBe(false)
        const good = yield* importFrom(chain.head, genesis)
        expect(resultTag(good.run)).toBe("Success")
        expect(good.run.dropped).toEqual([])
        expect(good.stored).toBe(true)
      }))
  }
})
