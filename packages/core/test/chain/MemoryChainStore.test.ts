import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as Block from "../../src/chain/Block.ts"
import * as BodyRules from "../../src/chain/BodyRules.ts"
import { ChainStore, InsertFailed, type Shape as ChainStoreShape } from "../../src/chain/ChainStore.ts"
import * as Genesis from "../../src/chain/Genesis.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Header from "../../src/chain/Header.ts"
import type { Rule } from "../../src/chain/InvalidBlock.ts"
import * as MemoryChainStore from "../../src/chain/MemoryChainStore.ts"
import * as TotalDifficulty from "../../src/chain/TotalDifficulty.ts"
import { chain, childBlock, type ChildOptions, fieldsOf, transaction } from "../support/chain.ts"

const genesis = Genesis.mainnet

/** The hash at each height of the store's canonical chain, from 0 to `top`. */
const canonicalHashes = (store: ChainStoreShape, top: number) =>
  Effect.forEach(Array.from({ length: top + 1 }, (_, n) => n), (n) =>
    Effect.map(store.getByNumber(n), Option.map((b) => Hash.toHex(b.hash))))

const hashes = (blocks: ReadonlyArray<Block.Block>) => blocks.map((b) => Option.some(Hash.toHex(b.hash)))

/** TD of a chain from the genesis through `blocks`. */
const tdOf = (blocks: ReadonlyArray<Block.Block>) => TotalDifficulty.of([genesis.header, ...blocks.map((b) => b.header)])

/** Re-makes a block with some header fields changed (the body stays). */
const spoil = (block: Block.Block, changes: Partial<Header.Fields>): Block.Block =>
  Block.make(Header.make({ ...fieldsOf(block.header), ...changes }), block.transactions, block.uncles)

/** Builds 6 blocks where block `bad` is made by `makeBad` and the rest are valid children of the one before. */
const batchWithBadBlock = (bad: number, makeBad: (parent: Block.Block, good: Block.Block) => Block.Block) => {
  const out: Array<Block.Block> = []
  let parent = genesis
  for (let i = 0; i < 6; i++) {
    const good = childBlock(parent)
    parent = i === bad ? makeBad(parent, good) : good
    out.push(parent)
  }
  return out
}

// Protects the memory store: batches stored up to the first bad block, heaviest chain followed on reorgs.
describe("MemoryChainStore", () => {
  it.effect("starts with the genesis as head, its difficulty as TD", () =>
    Effect.gen(function*() {
      const store = MemoryChainStore.make(genesis)
      const head = yield* store.head
      expect(Hash.toHex(head.block.hash)).toBe(Hash.toHex(Genesis.mainnetHash))
      expect(head.td).toBe(17_179_869_184n)
      expect(yield* store.has(genesis.hash)).toBe(true)
      expect(yield* store.getByNumber(1)).toEqual(Option.none())
    }))

  it.effect("stores a valid chain: head, TDs, lookups by hash and number", () =>
    Effect.gen(function*() {
      const store = MemoryChainStore.make(genesis)
      const blocks = chain(genesis, 10)
      expect(yield* store.insert(blocks)).toBe(10)
      const head = yield* store.head
      expect(head.block.number).toBe(10)
      expect(head.td).toBe(tdOf(blocks))
      expect(yield* store.td(blocks[4]!.hash)).toEqual(Option.some(tdOf(blocks.slice(0, 5))))
      expect(Option.map(yield* store.get(blocks[7]!.hash), (b) => b.number)).toEqual(Option.some(8))
      expect(yield* canonicalHashes(store, 10)).toEqual(hashes([genesis, ...blocks]))
      expect(yield* store.get(Hash.keccak(Uint8Array.of(1)))).toEqual(Option.none())
    }))

  it.effect("works as the ChainStore service through its layer", () =>
    Effect.gen(function*() {
      const store = yield* ChainStore
      expect(yield* store.insert(chain(genesis, 2))).toBe(2)
      expect((yield* store.head).block.number).toBe(2)
    }).pipe(Effect.provide(MemoryChainStore.layer(genesis))))

  const badCases: ReadonlyArray<readonly [Rule, number, (parent: Block.Block, good: Block.Block) => Block.Block]> = [
    ["difficulty", 3, (_, good) => spoil(good, { difficulty: good.header.difficulty + 1n })],
    ["timestamp", 2, (parent, good) => spoil(good, { timestamp: parent.header.timestamp })],
    ["gasLimit", 4, (_, good) => spoil(good, { gasLimit: 4999n })],
    ["number", 1, (_, good) => spoil(good, { number: 7 })],
    ["uncleHash", 0, (_, good) => spoil(good, { uncleHash: Hash.keccak(Uint8Array.of(0xc1, 0x80)) })],
    ["transactionsRoot", 3, (_, good) => spoil(good, { transactionsRoot: Hash.keccak(transaction(0n)) })],
    ["transactionsRoot", 5, (_, good) => Block.make(good.header, [transaction(0n)], [])],
    ["unknownParent", 2, (_, good) => spoil(good, { parentHash: Hash.keccak(Uint8Array.of(2)) })]
  ]
  for (const [rule, bad, makeBad] of badCases) {
    it.effect(`a batch whose block ${bad} breaks ${rule}: the blocks before it are stored, none after, InsertFailed(${bad}, ${rule})`, () =>
      Effect.gen(function*() {
        const store = MemoryChainStore.make(genesis)
        const batch = batchWithBadBlock(bad, makeBad)
        const error = yield* Effect.flip(store.insert(batch))
        expect(error).toBeInstanceOf(InsertFailed)
        expect(error._tag).toBe("InsertFailed")
        if (error._tag !== "InsertFailed") return
        expect(error.index).toBe(bad)
        expect(error.error.rule).toBe(rule)
        expect(error.error.hash).toBe(Hash.toHex(batch[bad]!.hash))
        const stored = yield* Effect.forEach(batch, (b) => store.has(b.hash))
        expect(stored).toEqual(batch.map((_, i) => i < bad))
        const head = yield* store.head
        expect(head.block.number).toBe(bad)
        expect(head.td).toBe(tdOf(batch.slice(0, bad)))
        expect(yield* store.getByNumber(bad + 1)).toEqual(Option.none())
      }))
  }

  it.effect("accepts a block with a transaction and its right root, as part of a batch", () =>
    Effect.gen(function*() {
      const store = MemoryChainStore.make(genesis)
      const first = childBlock(genesis)
      const txs = [transaction(0n), transaction(1n)]
      const root = yield* BodyRules.transactionsRoot(txs)
      const withTxs = childBlock(first, { transactions: txs, transactionsRoot: root })
      expect(yield* store.insert([first, withTxs, childBlock(withTxs)])).toBe(3)
      expect((yield* store.head).block.number).toBe(3)
    }))

  it.effect("re-inserting stored blocks changes nothing and counts no new block", () =>
    Effect.gen(function*() {
      const store = MemoryChainStore.make(genesis)
      const blocks = chain(genesis, 5)
      expect(yield* store.insert(blocks)).toBe(5)
      const before = yield* store.head
      expect(yield* store.insert(blocks)).toBe(0)
      expect(yield* store.insert([genesis, ...blocks.slice(1, 3)])).toBe(0)
      const after = yield* store.head
      expect(after.block).toBe(before.block)
      expect(after.td).toBe(before.td)
      expect(yield* canonicalHashes(store, 5)).toEqual(hashes([genesis, ...blocks]))
      // Stored blocks in a batch are skipped, and the new ones after them stored.
      const more = chain(blocks[4]!, 2)
      expect(yield* store.insert([...blocks, ...more])).toBe(2)
      expect((yield* store.head).block.number).toBe(7)
    }))

  it.effect("a heavier fork of the same length becomes head and getByNumber follows it; a heavier original wins back", () =>
    Effect.gen(function*() {
      const store = MemoryChainStore.make(genesis)
      // Slow blocks (20 s) lower the difficulty, fast ones (5 s) raise it.
      const main = chain(genesis, 6, { seconds: 20n })
      const fork = chain(main[1]!, 4, { seconds: 5n })
      yield* store.insert(main)
      expect(tdOf([...main.slice(0, 2), ...fork])).toBeGreaterThan(tdOf(main))
      expect(yield* store.insert(fork)).toBe(4)
      const head = yield* store.head
      expect(Hash.toHex(head.block.hash)).toBe(Hash.toHex(fork[3]!.hash))
      expect(head.td).toBe(tdOf([...main.slice(0, 2), ...fork]))
      expect(yield* canonicalHashes(store, 6)).toEqual(hashes([genesis, main[0]!, main[1]!, ...fork]))
      // The old branch is still stored, just not canonical.
      expect(yield* store.has(main[5]!.hash)).toBe(true)
      // Extending the original chain until it is heavier again makes it head once more.
      const extension = chain(main[5]!, 3, { seconds: 20n })
      expect(tdOf([...main, ...extension])).toBeGreaterThan(tdOf([...main.slice(0, 2), ...fork]))
      yield* store.insert(extension)
      expect((yield* store.head).block.number).toBe(9)
      expect(yield* canonicalHashes(store, 9)).toEqual(hashes([genesis, ...main, ...extension]))
    }))

  it.effect("a lighter fork is stored but does not become head", () =>
    Effect.gen(function*() {
      const store = MemoryChainStore.make(genesis)
      const main = chain(genesis, 4, { seconds: 5n })
      const fork = chain(main[0]!, 3, { seconds: 20n, extraData: Uint8Array.of(1) })
      yield* store.insert(main)
      expect(yield* store.insert(fork)).toBe(3)
      expect(Hash.toHex((yield* store.head).block.hash)).toBe(Hash.toHex(main[3]!.hash))
      expect(yield* canonicalHashes(store, 4)).toEqual(hashes([genesis, ...main]))
    }))

  it.effect("a heavier but shorter fork becomes head, and the heights above it leave the canonical chain", () =>
    Effect.gen(function*() {
      const store = MemoryChainStore.make(genesis)
      const slow: ChildOptions = { seconds: 100n }
      const fast: ChildOptions = { seconds: 1n, extraData: Uint8Array.of(0xf) }
      const main = chain(genesis, 60, slow)
      const fork = chain(genesis, 59, fast)
      expect(tdOf(fork)).toBeGreaterThan(tdOf(main))
      yield* store.insert(main)
      expect((yield* store.head).block.number).toBe(60)
      yield* store.insert(fork)
      const head = yield* store.head
      expect(head.block.number).toBe(59)
      expect(head.td).toBe(tdOf(fork))
      expect(yield* store.getByNumber(60)).toEqual(Option.none())
      expect(yield* canonicalHashes(store, 59)).toEqual(hashes([genesis, ...fork]))
    }))
})
