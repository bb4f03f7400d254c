/**
 * Serving GetBlockHashes, GetBlockHashesFromNumber and GetBlocks from a ChainStore: orderings,
 * limits, forks and unknown hashes, against the memory and the LMDB store holding a generated
 * chain, and against the real mainnet blocks in an LMDB datadir.
 */
import { Hash, Hex } from "@ethsync/core"
import { ChainGenerator, TestChain as SharedChain } from "@ethsync/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Metric, Result } from "effect"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import * as EthMessage from "../../src/eth/EthMessage.ts"
import * as Serving from "../../src/eth/Serving.ts"
import * as NetMetrics from "../../src/net/NetMetrics.ts"
import * as TestChain from "../TestChain.ts"
import { bigBlocks, digest, from, hashesOf, mainnetStore, hexes, type Open, openLmdb, openMemory, unknown } from "./ServingFixtures.ts"

/** Decodes an answer, expecting success. */
const decodeAnswer = (answer: EthMessage.Encoded): EthMessage.EthMessage => Result.getOrThrow(EthMessage.decode(61, answer.code, answer.payload))

/** The answer to a request, decoded as a BlockHashes message: its hashes in hex. */
const answeredHashes = (answer: EthMessage.Encoded) => {
  const message = decodeAnswer(answer)
  expect(message._tag).toBe("BlockHashes")
  return message._tag === "BlockHashes" ? hexes(message.hashes) : []
}

/** The answer to a request, decoded as a Blocks message: its blocks' hashes in hex. */
const answeredBlocks = (answer: EthMessage.Encoded) => {
  const message = decodeAnswer(answer)
  expect(message._tag).toBe("Blocks")
  return message._tag === "Blocks" ? hashesOf(message.blocks) : []
}

const suite = (name: string, open: Open) =>
  describe(`serving from ${name}`, () => {
    /** A store holding the shared generated chain of 3000 blocks and a 6-block fork off block 100. */
    const served = Effect.gen(function*() {
      const chain = yield* SharedChain.make(3000)
      const fork = yield* ChainGenerator.fork(chain.blocks, 100, 6)
      const store = yield* open(ChainGenerator.testGenesis)
      yield* store.insert(chain.blocks.slice(1))
      yield* store.insert(fork)
      expect((yield* store.head).block.hash).toEqual(chain.head.hash)
      return { blocks: chain.blocks, fork, serve: from(store) }
    })

    it.effect("GetBlockHashes: the ancestors newest first, from the parent down to the genesis, at most 2048", () =>
      Effect.gen(function*() {
        const { blocks, serve } = yield* served
        const ancestors = (n: number, max: number) => serve(Serving.blockHashes(blocks[n]!.hash, max)).pipe(Effect.map(hexes))
        expect(yield* ancestors(3000, 2048)).toEqual(hashesOf(blocks.slice(952, 3000)).reverse())
        expect(yield* ancestors(3000, Number.MAX_SAFE_INTEGER)).toHaveLength(2048)
        expect(yield* ancestors(10, 2048)).toEqual(hashesOf(blocks.slice(0, 10)).reverse())
        expect(yield* ancestors(100, 5)).toEqual(hashesOf(blocks.slice(95, 100)).reverse())
        expect(yield* ancestors(1, 5)).toEqual([Hash.toHex(ChainGenerator.testGenesis.hash)])
        expect(yield* ancestors(0, 5)).toEqual([])
        expect(yield* ancestors(500, 0)).toEqual([])
        expect(yield* serve(Serving.blockHashes(unknown, 2048))).toEqual([])
      }))

    it.effect("GetBlockHashes from a fork block walks the fork's parents, then the canonical chain", () =>
      Effect.gen(function*() {
        const { blocks, fork, serve } = yield* served
        const tip = fork[5]!.hash
        expect(hexes(yield* serve(Serving.blockHashes(tip, 10)))).toEqual(
          [...hashesOf(fork.slice(0, 5)).reverse(), ...hashesOf(blocks.slice(96, 101)).reverse()]
        )
        expect(hexes(yield* serve(Serving.blockHashes(tip, 3)))).toEqual(hashesOf(fork.slice(2, 5)).reverse())
        expect(hexes(yield* serve(Serving.blockHashes(fork[0]!.hash, 3)))).toEqual(hashesOf(blocks.slice(98, 101)).reverse())
      }))

    it.effect("GetBlockHashesFromNumber: ascending from the number, at most 2048, cut at the head, empty past it", () =>
      Effect.gen(function*() {
        const { blocks, serve } = yield* served
        const fromNumber = (n: number, amount: number) => serve(Serving.blockHashesFromNumber(n, amount)).pipe(Effect.map(hexes))
        expect(yield* fromNumber(0, 2048)).toEqual(hashesOf(blocks.slice(0, 2048)))
        expect(yield* fromNumber(1000, Number.MAX_SAFE_INTEGER)).toEqual(hashesOf(blocks.slice(1000, 3048)))
        expect(yield* fromNumber(2990, 100)).toEqual(hashesOf(blocks.slice(2990)))
        expect(yield* fromNumber(3000, 1)).toEqual(hashesOf(blocks.slice(3000)))
        expect(yield* fromNumber(3001, 5)).toEqual([])
        expect(yield* fromNumber(5, 0)).toEqual([])
      }))

    it.effect("GetBlocks: the stored bytes in request order, unknown hashes skipped, at most 128 blocks", () =>
      Effect.gen(function*() {
        const { blocks, fork, serve } = yield* served
        const asked = [blocks[5]!, blocks[3]!, fork[2]!, blocks[2999]!, blocks[0]!]
        const answer = yield* serve(Serving.blockRlps([asked[0]!.hash, unknown, ...asked.slice(1).map((b) => b.hash), unknown]))
        expect(answer.map(Hex.fromBytes)).toEqual(asked.map((b) => Hex.fromBytes(b.rlp)))
        const many = yield* serve(Serving.blockRlps(blocks.slice(1, 301).map((b) => b.hash)))
        expect(many.map(Hex.fromBytes)).toEqual(blocks.slice(1, 129).map((b) => Hex.fromBytes(b.rlp)))
        expect(yield* serve(Serving.blockRlps([unknown, unknown]))).toEqual([])
      }))

    it.effect("GetBlocks: runs of consecutive blocks, a fork's block at the next height, jumps back and unknown hashes between", () =>
      Effect.gen(function*() {
        const { blocks, fork, serve } = yield* served
        // The LMDB store looks for each block at the height after the one before it first.
        const asked = [
          blocks[98]!, blocks[99]!, blocks[100]!, fork[0]!, fork[1]!, blocks[103]!, blocks[101]!, blocks[102]!,
          blocks[50]!, blocks[51]!, fork[3]!, blocks[105]!, blocks[104]!
        ]
        const hashes = asked.flatMap((block, i) => i % 4 === 3 ? [unknown, block.hash] : [block.hash])
        const answer = yield* serve(Serving.blockRlps(hashes))
        expect(answer.map(Hex.fromBytes)).toEqual(asked.map((b) => Hex.fromBytes(b.rlp)))
      }))

    it.effect("GetBlocks looks up at most 256 hashes: unknown hashes in front cost a flood of lookups nothing more", () =>
      Effect.gen(function*() {
        const { blocks, serve } = yield* served
        const strangers = Array.from({ length: 246 }, (_, i) => Hash.keccak(Uint8Array.of(1, i)))
        const answer = yield* serve(Serving.blockRlps([...strangers, ...blocks.slice(1, 21).map((b) => b.hash)]))
        expect(answer.map(Hex.fromBytes)).toEqual(blocks.slice(1, 11).map((b) => Hex.fromBytes(b.rlp)))
        const flood = Array.from({ length: 300_000 }, () => unknown)
        expect(yield* serve(Serving.blockRlps([...flood, blocks[1]!.hash]))).toEqual([])
      }))

    it.effect("answers each request with an encoded message that decodes to the expected answer", () =>
      Effect.gen(function*() {
        const { blocks, serve } = yield* served
        const byHash = yield* serve(Serving.answer(EthMessage.GetBlockHashes({ hash: blocks[40]!.hash, max: 3 })))
        expect(answeredHashes(byHash)).toEqual(hashesOf(blocks.slice(37, 40)).reverse())
        const byNumber = yield* serve(Serving.answer(EthMessage.GetBlockHashesFromNumber({ number: 2999, amount: 512 })))
        expect(answeredHashes(byNumber)).toEqual(hashesOf(blocks.slice(2999)))
        const wanted = blocks.slice(10, 20).reverse()
        const blocksServed = Effect.map(Metric.value(NetMetrics.blocksServed), (state) => state.count)
        const before = yield* blocksServed
        const answer = yield* serve(Serving.answer(EthMessage.GetBlocks({ hashes: [unknown, ...wanted.map((b) => b.hash)] })))
        expect(answer.code).toBe(EthMessage.codes.Blocks)
        expect(answeredBlocks(answer)).toEqual(hashesOf(wanted))
        // The blocks sent are counted as served (the unknown hash is not).
        expect((yield* blocksServed) - before).toBe(10)
        expect(answeredHashes(yield* serve(Serving.answer(EthMessage.GetBlockHashes({ hash: unknown, max: 10 }))))).toEqual([])
      }))

    it.effect("GetBlocks: never more than 2 MiB of blocks; a lone block over 2 MiB is sent alone", () =>
      Effect.gen(function*() {
        const genesis = TestChain.genesis()
        const store = yield* open(genesis)
        const big = yield* bigBlocks(genesis, 40, 100_000)
        const [giant] = yield* bigBlocks(big[39]!, 1, Serving.maxBlockBytes + 1000)
        yield* store.insert([...big, giant!])
        const serve = from(store)
        const answer = yield* serve(Serving.blockRlps(big.map((b) => b.hash)))
        const size = answer.reduce((n, rlp) => n + rlp.length, 0)
        expect(size).toBeLessThanOrEqual(Serving.maxBlockBytes)
        expect(size + big[answer.length]!.rlp.length).toBeGreaterThan(Serving.maxBlockBytes)
        expect(answer.map(digest)).toEqual(big.slice(0, answer.length).map((b) => digest(b.rlp)))
        const alone = yield* serve(Serving.blockRlps([unknown, giant!.hash, big[0]!.hash]))
        expect(alone.map(digest)).toEqual([digest(giant!.rlp)])
        expect(yield* serve(Serving.blockRlps([big[0]!.hash, giant!.hash]))).toHaveLength(1)
      }))
  })

suite("the memory store", openMemory)
suite("the LMDB store", openLmdb)

Mainnet.warnIfSkipped("Serving.test.ts")

describe.skipIf(Mainnet.skipReason !== undefined)("serving the real mainnet blocks 0..8191 from an LMDB datadir", () => {
  /** An LMDB store holding every block of the file. */
  const served = Effect.gen(function*() {
    const { blocks, items, store } = yield* mainnetStore
    expect((yield* store.head).block.number).toBe(8191)
    return { blocks, items, serve: from(store) }
  })

  it.effect("hashes by number and by ancestry, with the genesis and the head at the edges", () =>
    Effect.gen(function*() {
      const { blocks, serve } = yield* served
      expect(hexes(yield* serve(Serving.blockHashesFromNumber(0, 2048)))).toEqual(hashesOf(blocks.slice(0, 2048)))
      expect(hexes(yield* serve(Serving.blockHashesFromNumber(8000, 2048)))).toEqual(hashesOf(blocks.slice(8000)))
      expect(yield* serve(Serving.blockHashesFromNumber(8192, 1))).toEqual([])
      expect(hexes(yield* serve(Serving.blockHashes(blocks[8191]!.hash, 4096)))).toEqual(hashesOf(blocks.slice(6143, 8191)).reverse())
      const toGenesis = hexes(yield* serve(Serving.blockHashes(blocks[100]!.hash, 2048)))
      expect(toGenesis).toEqual(hashesOf(blocks.slice(0, 100)).reverse())
      expect(toGenesis.at(-1)).toBe("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
    }))

  it.effect("a client fetching hashes from number 0 then blocks 128 at a time gets the file's exact bytes", () =>
    Effect.gen(function*() {
      const { items, serve } = yield* served
      const received: Array<Uint8Array> = []
      for (let number = 0;;) {
        const hashes = decodeAnswer(yield* serve(Serving.answer(EthMessage.GetBlockHashesFromNumber({ number, amount: 2048 }))))
        if (hashes._tag !== "BlockHashes" || hashes.hashes.length === 0) break
        for (let at = 0; at < hashes.hashes.length; at += 128) {
          const answer = yield* serve(Serving.answer(EthMessage.GetBlocks({ hashes: hashes.hashes.slice(at, at + 128) })))
          const blocks = decodeAnswer(answer)
          expect(blocks._tag === "Blocks" && blocks.blocks.length).toBe(Math.min(128, hashes.hashes.length - at))
          if (blocks._tag === "Blocks") received.push(...blocks.blocks.map((b) => b.rlp))
        }
        number += hashes.hashes.length
      }
      expect(received).toHaveLength(items.length)
      expect(received.every((rlp, i) => Hex.fromBytes(rlp) === Hex.fromBytes(items[i]!))).toBe(true)
    }))
})
