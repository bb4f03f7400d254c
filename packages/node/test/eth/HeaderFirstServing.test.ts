/**
 * Serving eth/62-68 requests from a ChainStore: headers by hash or number, forwards or reverse,
 * with skip, from the canonical chain and from a fork, checked against a model of the chain;
 * bodies and receipts with their limits; each answer encoded with its request id; against the
 * memory and the LMDB store holding a generated chain, and against the real mainnet blocks.
 */
import { RLP } from "@ethereumjs/rlp"
import { Block, Hash, Hex } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric, Result } from "effect"
import fc from "fast-check"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import * as HeaderFirstMessage from "../../src/eth/HeaderFirstMessage.ts"
import * as HeaderFirstServing from "../../src/eth/HeaderFirstServing.ts"
import type { HeaderFirstVersion } from "../../src/eth/HeaderFirstVersion.ts"
import * as NetMetrics from "../../src/net/NetMetrics.ts"
import * as TestChain from "../TestChain.ts"
import { bigBlocks, digest, from, hashesOf, mainnetStore, type Open, openLmdb, openMemory, unknown } from "./ServingFixtures.ts"

/** Header bytes as the hashes of the headers they encode, 0x-hex. */
const headerHashes = (rlps: ReadonlyArray<Uint8Array>) => rlps.map((rlp) => Hash.toHex(Hash.keccak(rlp)))

/** A body as another RLP library writes it: the block's items after its header. */
const bodyOf = (block: Block.Block) => Hex.fromBytes(RLP.encode((RLP.decode(block.rlp) as Array<Uint8Array>).slice(1)))

/**
 * The model of a header request on a canonical chain (genesis first): the blocks at `start`,
 * `start ± (skip + 1)`, … while they exist, at most `amount` capped at 1024.
 */
const expectedRun = (canonical: ReadonlyArray<Block.Block>, start: number, amount: number, skip: number, reverse: boolean) => {
  const out: Array<Block.Block> = []
  for (let n = start; out.length < Math.min(amount, HeaderFirstServing.maxHeaders) && n >= 0 && n < canonical.length;) {
    out.push(canonical[n]!)
    n = reverse ? n - (skip + 1) : n + skip + 1
  }
  return hashesOf(out)
}

/** Decodes an answer under `version`, expecting success. */
const decodeAnswer = (version: HeaderFirstVersion, answer: HeaderFirstMessage.Encoded) =>
  Result.getOrThrow(HeaderFirstMessage.decode(version, answer.code, answer.payload))

const suite = (name: string, open: Open) =>
  describe(`header-first serving from ${name}`, () => {
    /** A store holding 1200 generated blocks with transactions and uncles, and a 6-block fork off block 100. */
    const served = Effect.gen(function*() {
      const generated = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 1200, { transactions: true, uncles: true })
      const blocks = [ChainGenerator.testGenesis, ...generated]
      const fork = yield* ChainGenerator.fork(blocks, 100, 6)
      const store = yield* open(ChainGenerator.testGenesis)
      yield* store.insert(generated)
      yield* store.insert(fork)
      expect((yield* store.head).block.number).toBe(1200)
      const serve = from(store)
      const headers = (origin: Hash.Hash | number, amount: number, skip: number, reverse: boolean) =>
        serve(HeaderFirstServing.headerRlps({ origin, amount, skip, reverse })).pipe(Effect.map(headerHashes))
      return { blocks, fork, serve, headers }
    })

    it.effect("headers by number, forwards: at most 1024, cut at the head, none past it", () =>
      Effect.gen(function*() {
        const { blocks, headers } = yield* served
        expect(yield* headers(0, 5000, 0, false)).toEqual(hashesOf(blocks.slice(0, 1024)))
        expect(yield* headers(1190, 100, 0, false)).toEqual(hashesOf(blocks.slice(1190)))
        expect(yield* headers(1200, 1, 0, false)).toEqual(hashesOf(blocks.slice(1200)))
        expect(yield* headers(1201, 5, 0, false)).toEqual([])
        expect(yield* headers(5, 0, 0, false)).toEqual([])
        expect(yield* headers(Number.MAX_SAFE_INTEGER, 3, 0, false)).toEqual([])
      }))

    it.effect("headers in reverse and with skip: towards the genesis, cut there; a skeleton of every 192nd", () =>
      Effect.gen(function*() {
        const { blocks, headers } = yield* served
        expect(yield* headers(1200, 5, 0, true)).toEqual(hashesOf(blocks.slice(1196)).reverse())
        expect(yield* headers(3, 10, 0, true)).toEqual(hashesOf(blocks.slice(0, 4)).reverse())
        expect(yield* headers(1201, 3, 0, true)).toEqual([])
        expect(yield* headers(10, 10, 2, true)).toEqual(hashesOf([blocks[10]!, blocks[7]!, blocks[4]!, blocks[1]!]))
        expect(yield* headers(191, 128, 191, false)).toEqual(hashesOf([191, 383, 575, 767, 959, 1151].map((n) => blocks[n]!)))
        expect(yield* headers(0, 10, Number.MAX_SAFE_INTEGER, false)).toEqual(hashesOf([blocks[0]!]))
        expect(yield* headers(1200, 10, Number.MAX_SAFE_INTEGER, true)).toEqual(hashesOf([blocks[1200]!]))
      }))

    it.effect("headers from a canonical hash are those from its number; an unknown hash gets none", () =>
      Effect.gen(function*() {
        const { blocks, headers } = yield* served
        expect(yield* headers(blocks[500]!.hash, 300, 1, false)).toEqual(expectedRun(blocks, 500, 300, 1, false))
        expect(yield* headers(blocks[500]!.hash, 300, 0, true)).toEqual(expectedRun(blocks, 500, 300, 0, true))
        expect(yield* headers(unknown, 10, 0, false)).toEqual([])
        expect(yield* headers(unknown, 10, 0, true)).toEqual([])
      }))

    it.effect("headers from a fork block: down its parents to the canonical chain and on; up, only itself", () =>
      Effect.gen(function*() {
        const { blocks, fork, headers } = yield* served
        const tip = fork[5]!
        expect(tip.number).toBe(106)
        expect(yield* headers(tip.hash, 10, 0, true)).toEqual([...hashesOf(fork).reverse(), ...hashesOf(blocks.slice(97, 101)).reverse()])
        expect(yield* headers(tip.hash, 5, 1, true)).toEqual(hashesOf([fork[5]!, fork[3]!, fork[1]!, blocks[100]!, blocks[98]!]))
        expect(yield* headers(tip.hash, 3, 10, true)).toEqual(hashesOf([fork[5]!, blocks[95]!, blocks[84]!]))
        expect(yield* headers(tip.hash, 10, 0, false)).toEqual(hashesOf([tip]))
        expect(yield* headers(fork[0]!.hash, 3, 0, true)).toEqual(hashesOf([fork[0]!, blocks[100]!, blocks[99]!]))
      }))

    it.effect("headers match the model of the chain for any origin, amount, skip and direction", () =>
      Effect.gen(function*() {
        const { blocks, headers } = yield* served
        const requests = fc.sample(
          fc.record({
            start: fc.integer({ min: 0, max: 1210 }),
            byHash: fc.boolean(),
            amount: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1000, max: 1100 })),
            skip: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1300 })),
            reverse: fc.boolean()
          }),
          { numRuns: 150, seed: 62 }
        )
        for (const { start, byHash, amount, skip, reverse } of requests) {
          const origin = byHash ? (blocks[start]?.hash ?? unknown) : start
          expect([start, byHash, amount, skip, reverse, yield* headers(origin, amount, skip, reverse)])
            .toEqual([start, byHash, amount, skip, reverse, expectedRun(blocks, start, amount, skip, reverse)])
        }
      }))

    it.effect("bodies: the stored items in request order, unknown hashes skipped, at most 1024", () =>
      Effect.gen(function*() {
        const { blocks, fork, serve } = yield* served
        const withTransactions = blocks.find((b) => b.transactions.length > 0)!
        const withUncles = blocks.find((b) => b.uncles.length > 0)!
        const asked = [withUncles, blocks[3]!, fork[2]!, withTransactions, blocks[1200]!, blocks[0]!]
        const answer = yield* serve(HeaderFirstServing.bodyRlps([asked[0]!.hash, unknown, ...asked.slice(1).map((b) => b.hash), unknown]))
        expect(answer.map(Hex.fromBytes)).toEqual(asked.map(bodyOf))
        const many = yield* serve(HeaderFirstServing.bodyRlps(blocks.slice(1, 1101).map((b) => b.hash)))
        expect(many.map(digest)).toEqual(blocks.slice(1, 1025).map((b) => digest(Block.bodyRlp(b))))
        expect(yield* serve(HeaderFirstServing.bodyRlps([unknown, unknown]))).toEqual([])
      }))

    it.effect("bodies look up at most 2048 hashes: unknown hashes in front cost a flood of lookups nothing more", () =>
      Effect.gen(function*() {
        const { blocks, serve } = yield* served
        const strangers = Array.from({ length: 2040 }, (_, i) => Hash.keccak(Uint8Array.of(1, i >> 8, i & 255)))
        const answer = yield* serve(HeaderFirstServing.bodyRlps([...strangers, ...blocks.slice(1, 21).map((b) => b.hash)]))
        expect(answer.map(Hex.fromBytes)).toEqual(blocks.slice(1, 9).map(bodyOf))
        expect(yield* serve(HeaderFirstServing.bodyRlps([...Array.from({ length: 300_000 }, () => unknown), blocks[1]!.hash]))).toEqual([])
      }))

    it.effect("bodies: never more than 2 MiB; a lone body over 2 MiB is sent alone", () =>
      Effect.gen(function*() {
        const genesis = TestChain.genesis()
        const store = yield* open(genesis)
        const big = yield* bigBlocks(genesis, 40, 100_000)
        const [giant] = yield* bigBlocks(big[39]!, 1, HeaderFirstServing.maxBodyBytes + 1000)
        yield* store.insert([...big, giant!])
        const serve = from(store)
        const answer = yield* serve(HeaderFirstServing.bodyRlps(big.map((b) => b.hash)))
        const size = answer.reduce((n, rlp) => n + rlp.length, 0)
        expect(size).toBeLessThanOrEqual(HeaderFirstServing.maxBodyBytes)
        expect(size + Block.bodyRlp(big[answer.length]!).length).toBeGreaterThan(HeaderFirstServing.maxBodyBytes)
        expect(answer.map(digest)).toEqual(big.slice(0, answer.length).map((b) => digest(Block.bodyRlp(b))))
        expect((yield* serve(HeaderFirstServing.bodyRlps([unknown, giant!.hash, big[0]!.hash]))).map(digest)).toEqual([digest(Block.bodyRlp(giant!))])
        expect(yield* serve(HeaderFirstServing.bodyRlps([big[0]!.hash, giant!.hash]))).toHaveLength(1)
      }))

    it.effect("receipts: an empty list for each block held, unknown hashes skipped, at most 1024 blocks", () =>
      Effect.gen(function*() {
        const { blocks, fork, serve } = yield* served
        expect(yield* serve(HeaderFirstServing.receiptBlocks([blocks[1]!.hash, unknown, fork[0]!.hash, blocks[0]!.hash]))).toBe(3)
        expect(yield* serve(HeaderFirstServing.receiptBlocks(blocks.map((b) => b.hash)))).toBe(1024)
        expect(yield* serve(HeaderFirstServing.receiptBlocks([unknown]))).toBe(0)
      }))

    it.effect("answers each request with an encoded message carrying its request id, as eth/66 and eth/62 decode it", () =>
      Effect.gen(function*() {
        const { blocks, serve } = yield* served
        const countOf = (counter: typeof NetMetrics.headersServed) => Effect.map(Metric.value(counter), (state) => state.count)
        const before = { headers: yield* countOf(NetMetrics.headersServed), bodies: yield* countOf(NetMetrics.bodiesServed) }
        const headers = decodeAnswer(66, yield* serve(HeaderFirstServing.answer(HeaderFirstMessage.GetBlockHeaders({ requestId: 41n, origin: 10, amount: 3, skip: 0, reverse: true }))))
        expect(headers._tag === "BlockHeaders" && [headers.requestId, headers.headers.map((h) => Hash.toHex(h.hash))])
          .toEqual([41n, hashesOf([blocks[10]!, blocks[9]!, blocks[8]!])])
        const bodies = decodeAnswer(62, yield* serve(HeaderFirstServing.answer(HeaderFirstMessage.GetBlockBodies({ requestId: undefined, hashes: [unknown, blocks[7]!.hash] }))))
        expect(bodies._tag === "BlockBodies" && bodies.requestId).toBeUndefined()
        expect(bodies._tag === "BlockBodies" && bodies.bodies.map((b) => Hex.fromBytes(Block.bodyRlp(b)))).toEqual([bodyOf(blocks[7]!)])
        const receipts = decodeAnswer(68, yield* serve(HeaderFirstServing.answer(HeaderFirstMessage.GetReceipts({ requestId: 5n, hashes: [blocks[1]!.hash, unknown, blocks[2]!.hash] }))))
        expect(receipts).toMatchObject({ _tag: "Receipts", requestId: 5n, receipts: [[], []] })
        const nodes = decodeAnswer(66, yield* serve(HeaderFirstServing.answer(HeaderFirstMessage.GetNodeData({ requestId: 6n, hashes: [blocks[1]!.header.stateRoot] }))))
        expect(nodes).toMatchObject({ _tag: "NodeData", requestId: 6n, values: [] })
        const pooled = decodeAnswer(67, yield* serve(HeaderFirstServing.answer(HeaderFirstMessage.GetPooledTransactions({ requestId: 7n, hashes: [unknown] }))))
        expect(pooled).toMatchObject({ _tag: "PooledTransactions", requestId: 7n, transactions: [] })
        // The headers and bodies sent are counted as served (the unknown hash's body is not).
        expect((yield* countOf(NetMetrics.headersServed)) - before.headers).toBe(3)
        expect((yield* countOf(NetMetrics.bodiesServed)) - before.bodies).toBe(1)
      }))
  })

suite("the memory store", openMemory)
suite("the LMDB store", openLmdb)

Mainnet.warnIfSkipped("HeaderFirstServing.test.ts")

describe.skipIf(Mainnet.skipReason !== undefined)("header-first serving of the real mainnet blocks 0..8191 from an LMDB datadir", () => {
  /** An LMDB store holding every block of the file. */
  const served = Effect.gen(function*() {
    const { blocks, items, store } = yield* mainnetStore
    expect((yield* store.head).block.number).toBe(8191)
    return { blocks, items, serve: from(store) }
  })

  it.effect("a client fetching headers 1024 at a time, then their bodies, rebuilds the file's exact bytes", () =>
    Effect.gen(function*() {
      const { blocks, items, serve } = yield* served
      const received: Array<Uint8Array> = []
      let requestId = 0n
      for (let number = 0;; requestId++) {
        const asked = HeaderFirstMessage.GetBlockHeaders({ requestId, origin: number, amount: 1024, skip: 0, reverse: false })
        const headers = decodeAnswer(66, yield* serve(HeaderFirstServing.answer(asked)))
        if (headers._tag !== "BlockHeaders" || headers.headers.length === 0) break
        expect(headers.requestId).toBe(requestId)
        const bodies = decodeAnswer(66, yield* serve(HeaderFirstServing.answer(HeaderFirstMessage.GetBlockBodies({ requestId, hashes: headers.headers.map((h) => h.hash) }))))
        expect(bodies._tag === "BlockBodies" && bodies.bodies.length).toBe(headers.headers.length)
        if (bodies._tag === "BlockBodies") {
          headers.headers.forEach((header, i) => received.push(Block.make(header, bodies.bodies[i]!.transactions, bodies.bodies[i]!.uncles).rlp))
        }
        number += headers.headers.length
      }
      expect(received).toHaveLength(blocks.length)
      expect(received.every((rlp, i) => Hex.fromBytes(rlp) === Hex.fromBytes(items[i]!))).toBe(true)
    }))

  it.effect("a skeleton and reverse runs with skip from the head, with the genesis at the edge", () =>
    Effect.gen(function*() {
      const { blocks, serve } = yield* served
      const headers = (origin: Hash.Hash | number, amount: number, skip: number, reverse: boolean) =>
        serve(HeaderFirstServing.headerRlps({ origin, amount, skip, reverse })).pipe(Effect.map(headerHashes))
      expect(yield* headers(191, 128, 191, false)).toEqual(expectedRun(blocks, 191, 128, 191, false))
      expect((yield* headers(191, 128, 191, false)).length).toBe(42)
      expect(yield* headers(blocks[8191]!.hash, 100, 127, true)).toEqual(expectedRun(blocks, 8191, 100, 127, true))
      const down = yield* headers(blocks[1023]!.hash, 2000, 0, true)
      expect(down).toEqual(hashesOf(blocks.slice(0, 1024)).reverse())
      expect(down.at(-1)).toBe("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
      expect(yield* headers(8000, 1024, 0, false)).toEqual(hashesOf(blocks.slice(8000)))
    }))
})
