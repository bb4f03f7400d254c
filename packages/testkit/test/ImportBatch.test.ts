/**
 * importBatch, on TestClock: the hash-chain sync gathers that many downloaded blocks before it
 * hands them to the importer, so each insert (one commit of a store on disk) stores a whole batch;
 * fewer go only when waiting would not make one: the chain's last blocks, fewer than a batch, are
 * stored as they arrive (so little is left to store after the last reply), and a cache too small
 * for a batch is emptied whenever it is full.
 */
import { describe, expect, it } from "@effect/vitest"
import type { ChainStore, DownloaderConfig } from "@ethsync/core"
import { Effect } from "effect"
import { SimPeer, TestChain } from "../src/index.ts"
import { Harness, type ScriptedPeer } from "../src/harness/index.ts"

const { resultTag } = Harness

/** A store wrapper that records the size of every insert, in order. */
const recordInserts = () => {
  const sizes: Array<number> = []
  const wrap = (store: ChainStore.ChainStore["Service"]): ChainStore.ChainStore["Service"] => ({
    ...store,
    insert: (blocks) => Effect.andThen(Effect.sync(() => sizes.push(blocks.length)), store.insert(blocks))
  })
  return { sizes, wrap }
}

/** Syncs `blocks` blocks from one honest peer (eth/61 when `forward`) with `config`; the sizes of the inserts. */
const syncInserts = (blocks: number, forward: boolean, config: Partial<DownloaderConfig.Config>) =>
  Effect.gen(function*() {
    const inserts = recordInserts()
    const h = yield* Harness.make({ wrapStore: inserts.wrap, config })
    const chain = yield* TestChain.make(blocks)
    const honest = SimPeer.honest("peer", chain)
    yield* h.add(forward ? SimPeer.eth61(honest) : { ...honest, latency: "5 millis" })
    const run = yield* h.runSync("peer", chain.head.hash)
    expect(resultTag(run)).toBe("Success")
    expect(yield* h.holdsAll(chain.blocks)).toBe(true)
    return inserts.sizes
  })

/**
 * Answers every request of `peer` as the simulated peer of `spec` would, one at a time in the order
 * they came, as a real server on one connection does, until interrupted.
 */
const serveInOrder = (peer: ScriptedPeer.ScriptedPeer, spec: SimPeer.Spec) =>
  Effect.forever(Effect.gen(function*() {
    const request = yield* peer.next
    if (request._tag === "HashesFromNumber") yield* Effect.ignore(peer.sendHashes(SimPeer.numberReply(spec, request.from, request.count)))
    if (request._tag === "Blocks") yield* Effect.ignore(peer.sendBlocks(SimPeer.blockReply(spec, request.hashes)))
  }))

describe("import batches", () => {
  it.effect("eth/61 from a peer answering in order, four requests of 128 open: the hash stream keeps ahead, so inserts are whole batches of 1,024", () =>
    Effect.gen(function*() {
      const inserts = recordInserts()
      const config = { importBatch: 1024, blockCacheLimit: 2048, requestsPerPeer: 4, maxBlockProcess: 1024 }
      const h = yield* Harness.make({ wrapStore: inserts.wrap, config })
      const chain = yield* TestChain.make(4096)
      const peer = yield* h.addScripted("peer", chain.head.hash, 61)
      yield* Effect.forkChild(serveInOrder(peer, SimPeer.eth61(SimPeer.honest("peer", chain))))
      const run = yield* h.runSync("peer", chain.head.hash)
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      // Asked after the blocks, each batch of 512 hashes would come behind the four replies that
      // use up the last one: the fetcher would stall at every 512 and the inserts would be of 512.
      expect(inserts.sizes.slice(0, 3)).toEqual([1024, 1024, 1024])
    }))

  it.effect("eth/61, replies of 128 blocks, importBatch 512: inserts of 512 blocks, then the last 464 reply by reply", () =>
    Effect.gen(function*() {
      const sizes = yield* syncInserts(2000, true, { importBatch: 512, maxBlockProcess: 64 })
      expect(sizes).toEqual([512, 512, 512, 128, 128, 128, 80])
    }))

  it.effect("eth/60 likewise: 1,500 blocks, inserts of 512, then the last 476 reply by reply", () =>
    Effect.gen(function*() {
      const sizes = yield* syncInserts(1500, false, { importBatch: 512, maxBlockProcess: 64 })
      expect(sizes).toEqual([512, 512, 128, 128, 128, 92])
    }))

  it.effect("the seed's importBatch 0: whatever is ready, in chunks of maxBlockProcess", () =>
    Effect.gen(function*() {
      const sizes = yield* syncInserts(2000, true, { maxBlockProcess: 64 })
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000)
      expect(Math.max(...sizes)).toBe(64)
    }))

  it.effect("a batch larger than the cache: the importer gets what the full cache holds, and the sync completes", () =>
    Effect.gen(function*() {
      const sizes = yield* syncInserts(2000, true, { importBatch: 1024, blockCacheLimit: 256 })
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(2000)
      expect(Math.max(...sizes)).toBeLessThanOrEqual(256)
    }))
})
