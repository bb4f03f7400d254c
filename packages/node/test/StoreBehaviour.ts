/**
 * The behaviour every ChainStore must show, as one suite run against each implementation, so the
 * LMDB store is held to exactly what the memory store does.
 */
import { RLP } from "@ethereumjs/rlp"
import { Block, type ChainStore, Hash, type Header, Hex, InvalidBlock, SealVerifier } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, type Scope } from "effect"
import * as TestChain from "./TestChain.ts"

/** Limits that never cut a read of block RLPs short. */
const unlimited: ChainStore.RlpLimits = { blocks: Infinity, bytes: Infinity }

/** Opens a store of the implementation under test, holding `genesis`, checking seals with `verifier`. */
export type Open = (genesis: Block.Block, verifier: SealVerifier.Shape) => Effect.Effect<ChainStore.Shape, unknown, Scope.Scope>

/** The canonical hashes 0..head of a store, 0x-hex. */
const canonical = (store: ChainStore.Shape) =>
  Effect.gen(function*() {
    const head = (yield* store.head).block.number
    const out: Array<string> = []
    for (let n = 0; n <= head; n++) out.push(Hash.toHex(Option.getOrThrow(yield* store.getByNumber(n)).hash))
    expect(Option.isNone(yield* store.getByNumber(head + 1))).toBe(true)
    return out
  })

/** The failure of an insert that must fail with InsertFailed. */
const insertFailure = (store: ChainStore.Shape, blocks: ReadonlyArray<Block.Block>) =>
  Effect.flip(store.insert(blocks)) as Effect.Effect<ChainStore.InsertFailed | ChainStore.StoreError>

/**
 * A test double of a seal verifier: it rejects the seal of `bad` (as Ethash would a wrong mix)
 * and accepts every other; `calls` records the headers of each call.
 */
const rejecting = (bad: Header.Header) => {
  const calls: Array<ReadonlyArray<string>> = []
  const verifier: SealVerifier.Shape = {
    name: "test",
    verify: (headers) =>
      Effect.sync(() => {
        calls.push(headers.map((header) => Hash.toHex(header.hash)))
        return headers.map((header) =>
          header.key === bad.key
            ? new InvalidBlock.InvalidBlock({ rule: "sealMixHash", number: header.number, hash: Hash.toHex(header.hash), reason: "seal rejected by the test" })
            : undefined
        )
      })
  }
  return { verifier, calls }
}

/** Runs the suite for the stores `openWith` makes. */
export const suite = (name: string, openWith: Open) =>
  describe(`${name} behaves as a ChainStore`, () => {
    const genesis = TestChain.genesis()
    /** A store of generated blocks, whose seals are made up. */
    const open = (genesis: Block.Block) => openWith(genesis, SealVerifier.none)

    it.effect("starts at its genesis", () =>
      Effect.gen(function*() {
        const store = yield* open(genesis)
        const head = yield* store.head
        expect(head.block.hash).toEqual(genesis.hash)
        expect(head.td).toBe(genesis.header.difficulty)
        expect(yield* store.has(genesis.hash)).toBe(true)
        expect(Hex.fromBytes(Option.getOrThrow(yield* store.getByNumber(0)).rlp)).toBe(Hex.fromBytes(genesis.rlp))
        expect(Option.getOrThrow(yield* store.td(genesis.hash))).toBe(genesis.header.difficulty)
      }))

    it.effect("stores a chain, serves it by hash and number, and skips what it has", () =>
      Effect.gen(function*() {
        const store = yield* open(genesis)
        const chain = TestChain.extend(genesis, 20)
        expect(yield* store.insert(chain)).toBe(20)
        const head = yield* store.head
        expect(head.block.hash).toEqual(chain[19]!.hash)
        expect(head.td).toBe(TestChain.tdOf([genesis, ...chain]))
        expect(Hex.fromBytes(Option.getOrThrow(yield* store.get(chain[7]!.hash)).rlp)).toBe(Hex.fromBytes(chain[7]!.rlp))
        expect(yield* canonical(store)).toEqual([genesis, ...chain].map((b) => Hash.toHex(b.hash)))
        expect(yield* store.insert([genesis, ...chain])).toBe(0)
        expect((yield* store.head).block.hash).toEqual(chain[19]!.hash)
      }))

    it.effect("keeps a lighter fork off the canonical chain, and keeps the first head on a tie", () =>
      Effect.gen(function*() {
        const store = yield* open(genesis)
        const chain = TestChain.extend(genesis, 10)
        const lighter = TestChain.extend(chain[2]!, 5, 20n)
        const tie = [TestChain.child(chain[8]!, 15n, { extraData: Uint8Array.of(1) })]
        yield* store.insert(chain)
        expect(yield* store.insert([...lighter, ...tie])).toBe(6)
        expect(yield* store.has(lighter[4]!.hash)).toBe(true)
        expect((yield* store.head).block.hash).toEqual(chain[9]!.hash)
        expect(yield* canonical(store)).toEqual([genesis, ...chain].map((b) => Hash.toHex(b.hash)))
      }))

    it.effect("makes a heavier fork of the same length the head; a heavier original wins back", () =>
      Effect.gen(function*() {
        const store = yield* open(genesis)
        const main = TestChain.extend(genesis, 6, 20n)
        const fork = TestChain.extend(main[1]!, 4, 5n)
        expect(TestChain.tdOf([...main.slice(0, 2), ...fork])).toBeGreaterThan(TestChain.tdOf(main))
        yield* store.insert(main)
        expect(yield* store.insert(fork)).toBe(4)
        expect(yield* canonical(store)).toEqual([genesis, main[0]!, main[1]!, ...fork].map((b) => Hash.toHex(b.hash)))
        const extension = TestChain.extend(main[5]!, 3, 20n)
        yield* store.insert(extension)
        expect(yield* canonical(store)).toEqual([genesis, ...main, ...extension].map((b) => Hash.toHex(b.hash)))
      }))

    it.effect("makes a heavier fork the head, shorter or longer, and getByNumber follows it", () =>
      Effect.gen(function*() {
        const store = yield* open(genesis)
        const slow = TestChain.extend(genesis, 60, 20n)
        const fast = TestChain.extend(slow[4]!, 54, 1n)
        expect(TestChain.tdOf([genesis, ...slow.slice(0, 5), ...fast])).toBeGreaterThan(TestChain.tdOf([genesis, ...slow]))
        yield* store.insert(slow)
        yield* store.insert(fast)
        expect((yield* store.head).block.hash).toEqual(fast[53]!.hash)
        expect(yield* canonical(store)).toEqual([genesis, ...slow.slice(0, 5), ...fast].map((b) => Hash.toHex(b.hash)))
        const longer = TestChain.extend(slow[59]!, 200, 1n)
        yield* store.insert(longer)
        expect(yield* canonical(store)).toEqual([genesis, ...slow, ...longer].map((b) => Hash.toHex(b.hash)))
        expect(Option.getOrThrow(yield* store.td(longer[199]!.hash))).toBe(TestChain.tdOf([genesis, ...slow, ...longer]))
      }))

    it.effect("reads canonical hashes by height range, ascending and cut at the head, following a reorganisation", () =>
      Effect.gen(function*() {
        const store = yield* open(genesis)
        const slow = TestChain.extend(genesis, 60, 20n)
        yield* store.insert(slow)
        const hexes = (hashes: ReadonlyArray<Hash.Hash>) => hashes.map(Hash.toHex)
        const slowHex = [genesis, ...slow].map((b) => Hash.toHex(b.hash))
        expect(hexes(yield* store.canonicalHashes(0, 61))).toEqual(slowHex)
        expect(hexes(yield* store.canonicalHashes(5, 3))).toEqual(slowHex.slice(5, 8))
        expect(hexes(yield* store.canonicalHashes(58, 100))).toEqual(slowHex.slice(58))
        expect(hexes(yield* store.canonicalHashes(-2, 4))).toEqual(slowHex.slice(0, 2))
        expect(yield* store.canonicalHashes(61, 5)).toEqual([])
        expect(yield* store.canonicalHashes(3, 0)).toEqual([])
        const fast = TestChain.extend(slow[4]!, 54, 1n)
        yield* store.insert(fast)
        const fastHex = [genesis, ...slow.slice(0, 5), ...fast].map((b) => Hash.toHex(b.hash))
        expect((yield* store.head).block.hash).toEqual(fast[53]!.hash)
        expect(hexes(yield* store.canonicalHashes(0, 100))).toEqual(fastHex)
        expect(yield* store.canonicalHashes(60, 5)).toEqual([])
      }))

    it.effect("reads the header, the stored bytes, the header's bytes (many at once) and the body's bytes of any stored block, a fork's included, and nothing for an unknown hash", () =>
      Effect.gen(function*() {
        const store = yield* open(ChainGenerator.testGenesis)
        const blocks = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 12, { uncles: true, transactions: true })
        const fork = yield* ChainGenerator.fork([ChainGenerator.testGenesis, ...blocks], 6, 2)
        yield* store.insert([...blocks, ...fork])
        for (const block of [ChainGenerator.testGenesis, ...blocks, ...fork]) {
          expect((yield* store.blockRlps([block.hash], unlimited)).map(Hex.fromBytes)).toEqual([Hex.fromBytes(block.rlp)])
          const header = Option.getOrThrow(yield* store.header(block.hash))
          expect([Hex.fromBytes(header.rlp), header.number]).toEqual([Hex.fromBytes(block.header.rlp), block.number])
          const body = RLP.encode((RLP.decode(block.rlp) as Array<Uint8Array>).slice(1))
          expect(Hex.fromBytes(Option.getOrThrow(yield* store.bodyRlp(block.hash)))).toBe(Hex.fromBytes(body))
        }
        const unknown = Hash.keccak(Uint8Array.of(7))
        const all = [ChainGenerator.testGenesis, ...blocks, ...fork]
        const none = { number: 1, hash: unknown }
        // A stored block named with another block's number is not the block asked for.
        const misnamed = { number: all[2]!.number + 1, hash: all[2]!.hash }
        const asked = [none, misnamed, ...[...all].reverse(), none]
        expect((yield* store.headerRlps(asked)).map(Hex.fromBytes)).toEqual(all.map((block) => Hex.fromBytes(block.header.rlp)).reverse())
        expect(yield* store.headerRlps([none])).toEqual([])
        expect(yield* store.blockRlps([unknown], unlimited)).toEqual([])
        expect(Option.isNone(yield* store.header(unknown))).toBe(true)
        expect(Option.isNone(yield* store.bodyRlp(unknown))).toBe(true)
      }))

    /** A transaction, taken from a generated chain. */
    const transaction = Effect.map(
      ChainGenerator.generate(ChainGenerator.testGenesis, 8, { transactions: true }),
      (blocks) => blocks.flatMap((b) => b.transactions)[0]!
    )

    /** Six blocks on the genesis where block `bad` is `makeBad(parent, good)` and the rest build on the one before. */
    const withBadBlock = (bad: number, makeBad: (parent: Block.Block, good: Block.Block) => Block.Block) => {
      const out: Array<Block.Block> = []
      let parent = genesis
      for (let i = 0; i < 6; i++) {
        const good = TestChain.child(parent)
        parent = i === bad ? makeBad(parent, good) : good
        out.push(parent)
      }
      return out
    }

    const badCases: ReadonlyArray<readonly [InvalidBlock.Rule, number, (parent: Block.Block, good: Block.Block, tx: Uint8Array) => Block.Block]> = [
      ["difficulty", 3, (_, good) => TestChain.spoil(good, { difficulty: good.header.difficulty + 1n })],
      ["timestamp", 2, (parent, good) => TestChain.spoil(good, { timestamp: parent.header.timestamp })],
      ["gasLimit", 4, (_, good) => TestChain.spoil(good, { gasLimit: 4999n })],
      ["gasUsed", 1, (_, good) => TestChain.spoil(good, { gasUsed: good.header.gasLimit + 1n })],
      ["number", 1, (_, good) => TestChain.spoil(good, { number: 7 })],
      ["uncleHash", 0, (_, good) => TestChain.spoil(good, { uncleHash: Hash.keccak(Uint8Array.of(0xc1, 0x80)) })],
      ["transactionsRoot", 5, (_, good, tx) => Block.make(good.header, [tx], [])],
      ["unknownParent", 2, (_, good) => TestChain.spoil(good, { parentHash: Hash.keccak(Uint8Array.of(2)) })]
    ]
    for (const [rule, bad, makeBad] of badCases) {
      it.effect(`stores a batch up to its block ${bad} that breaks ${rule}, and nothing after`, () =>
        Effect.gen(function*() {
          const store = yield* open(genesis)
          const tx = yield* transaction
          const batch = withBadBlock(bad, (parent, good) => makeBad(parent, good, tx))
          const failure = yield* insertFailure(store, batch)
          expect(failure._tag).toBe("InsertFailed")
          if (failure._tag !== "InsertFailed") return
          expect([failure.index, failure.error.rule, failure.error.hash]).toEqual([bad, rule, Hash.toHex(batch[bad]!.hash)])
          expect(yield* Effect.forEach(batch, (b) => store.has(b.hash))).toEqual(batch.map((_, i) => i < bad))
          const head = yield* store.head
          expect([head.block.number, head.td]).toEqual([bad, TestChain.tdOf([genesis, ...batch.slice(0, bad)])])
          expect(yield* canonical(store)).toEqual([genesis, ...batch.slice(0, bad)].map((b) => Hash.toHex(b.hash)))
        }))
    }

    it.effect("stores generated blocks with transactions and uncles, byte for byte", () =>
      Effect.gen(function*() {
        const store = yield* open(ChainGenerator.testGenesis)
        const blocks = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 40, { uncles: true, transactions: true })
        expect(blocks.some((b) => b.transactions.length > 0) && blocks.some((b) => b.uncles.length > 0)).toBe(true)
        expect(yield* store.insert(blocks)).toBe(40)
        for (const block of blocks) {
          expect(Hex.fromBytes(Option.getOrThrow(yield* store.getByNumber(block.number)).rlp)).toBe(Hex.fromBytes(block.rlp))
        }
      }))

    it.effect("stops at the first invalid block, keeping the blocks before it", () =>
      Effect.gen(function*() {
        const store = yield* open(genesis)
        const good = TestChain.extend(genesis, 2)
        const bad = TestChain.child(good[1]!, 15n, { difficulty: 1n })
        const after = TestChain.child(bad)
        const failure = yield* insertFailure(store, [...good, bad, after])
        expect(failure._tag).toBe("InsertFailed")
        if (failure._tag !== "InsertFailed") return
        expect(failure.index).toBe(2)
        expect(failure.error.rule).toBe("difficulty")
        expect((yield* store.head).block.hash).toEqual(good[1]!.hash)
        expect(yield* store.has(bad.hash)).toBe(false)
        expect(yield* store.has(after.hash)).toBe(false)
      }))

    describe("uncles", () => {
      /** A generated chain with uncles: blocks 1..20 on the generator's genesis. */
      const generated = ChainGenerator.generate(ChainGenerator.testGenesis, 20, { uncles: true, seed: 7 })
      /** Block 17 on the generated block 16, including the uncles `pick` chooses from the chain. */
      const cases: ReadonlyArray<readonly [string, InvalidBlock.Rule | undefined, (chain: ReadonlyArray<Block.Block>) => ReadonlyArray<Header.Header>]> = [
        ["a sibling of its parent and an uncle 6 generations older pass", undefined, (c) => [TestChain.uncleOf(c[14]!, 1), TestChain.uncleOf(c[9]!, 1)]],
        ["3 uncles break tooManyUncles", "tooManyUncles", (c) => [1, 2, 3].map((tag) => TestChain.uncleOf(c[14]!, tag))],
        ["the same uncle twice breaks duplicateUncle", "duplicateUncle", (c) => [TestChain.uncleOf(c[14]!, 1), TestChain.uncleOf(c[14]!, 1)]],
        ["an uncle an ancestor included breaks uncleIncluded", "uncleIncluded", (c) => [c.slice(9, 16).flatMap((b) => b.uncles)[0]!]],
        ["an ancestor as uncle breaks uncleIsAncestor", "uncleIsAncestor", (c) => [c[13]!.header]],
        ["a sibling of the block breaks uncleParent", "uncleParent", (c) => [TestChain.uncleOf(c[15]!, 1)]],
        ["an uncle 7 generations older breaks uncleParent", "uncleParent", (c) => [TestChain.uncleOf(c[8]!, 1)]],
        [
          "an uncle with a wrong difficulty breaks difficulty, as uncle 1",
          "difficulty",
          (c) => [TestChain.uncleOf(c[14]!, 1), TestChain.uncleOf(c[14]!, 2, { difficulty: c[15]!.header.difficulty + 1n })]
        ]
      ]
      for (const [title, rule, pick] of cases) {
        for (const stored of [false, true]) {
          it.effect(`${title} (${stored ? "ancestors stored before" : "ancestors in the same batch"})`, () =>
            Effect.gen(function*() {
              const chain = yield* generated
              expect(chain.slice(9, 16).some((b) => b.uncles.length > 0)).toBe(true)
              const block = TestChain.withUncles(chain[15]!, pick(chain))
              const store = yield* open(ChainGenerator.testGenesis)
              if (stored) yield* store.insert(chain.slice(0, 16))
              const batch = stored ? [block] : [...chain.slice(0, 16), block]
              if (rule === undefined) {
                expect(yield* store.insert(batch)).toBe(batch.length)
                expect(Hash.toHex((yield* store.head).block.hash)).toBe(Hash.toHex(block.hash))
                return
              }
              const failure = yield* insertFailure(store, batch)
              expect(failure._tag === "InsertFailed" && [failure.index, failure.error.rule, failure.error.hash])
                .toEqual([batch.length - 1, rule, Hash.toHex(block.hash)])
              if (rule === "difficulty") expect(failure._tag === "InsertFailed" && failure.error.reason).toMatch(/^uncle 1 \(0x/)
              expect(yield* store.has(block.hash)).toBe(false)
              expect((yield* store.head).block.number).toBe(16)
            }))
        }
      }
    })

    describe("seals", () => {
      it.effect("stops at a block whose seal the verifier rejects, storing the blocks before it", () =>
        Effect.gen(function*() {
          const chain = TestChain.extend(genesis, 6)
          const { verifier } = rejecting(chain[3]!.header)
          const store = yield* openWith(genesis, verifier)
          const failure = yield* insertFailure(store, chain)
          expect(failure._tag === "InsertFailed" && [failure.index, failure.error.rule, failure.error.reason])
            .toEqual([3, "sealMixHash", "seal rejected by the test"])
          expect(yield* Effect.forEach(chain, (b) => store.has(b.hash))).toEqual(chain.map((_, i) => i < 3))
          expect((yield* store.head).block.hash).toEqual(chain[2]!.hash)
        }))

      it.effect("stops at a block one of whose uncles' seals the verifier rejects, in one call per batch", () =>
        Effect.gen(function*() {
          const chain = TestChain.extend(genesis, 4)
          const uncles = [TestChain.uncleOf(chain[1]!, 1), TestChain.uncleOf(chain[1]!, 2)]
          const block = TestChain.withUncles(chain[2]!, uncles)
          const after = TestChain.child(block)
          const { verifier, calls } = rejecting(uncles[1]!)
          const store = yield* openWith(genesis, verifier)
          const batch = [...chain.slice(0, 3), block, after]
          const failure = yield* insertFailure(store, batch)
          expect(failure._tag === "InsertFailed" && [failure.index, failure.error.rule, failure.error.hash])
            .toEqual([3, "sealMixHash", Hash.toHex(block.hash)])
          expect(failure._tag === "InsertFailed" && failure.error.reason)
            .toBe(`uncle 1 (${Hash.toHex(uncles[1]!.hash)}, number 3): seal rejected by the test`)
          expect(calls).toEqual([[...chain.slice(0, 3), block].flatMap((b) => [b.header, ...b.uncles]).concat(after.header)
            .map((h) => Hash.toHex(h.hash))])
          expect(yield* Effect.forEach(batch, (b) => store.has(b.hash))).toEqual([true, true, true, false, false])
        }))

      it.effect("asks the verifier only about blocks it does not have", () =>
        Effect.gen(function*() {
          const chain = TestChain.extend(genesis, 5)
          const { verifier, calls } = rejecting(genesis.header)
          const store = yield* openWith(genesis, verifier)
          yield* store.insert(chain.slice(0, 3))
          expect(yield* store.insert([genesis, ...chain])).toBe(2)
          expect(calls[1]).toEqual(chain.slice(3).map((b) => Hash.toHex(b.hash)))
        }))
    })

    it.effect("refuses a block whose parent it does not know", () =>
      Effect.gen(function*() {
        const store = yield* open(genesis)
        const orphan = TestChain.extend(genesis, 2)[1]!
        const failure = yield* insertFailure(store, [orphan])
        expect(failure._tag === "InsertFailed" && failure.error.rule).toBe("unknownParent")
        expect((yield* store.head).block.hash).toEqual(genesis.hash)
      }))
  })
