import { Block, BodyRules, Genesis, Hash, Header, HeaderRules, MemoryChainStore, TotalDifficulty } from "@ethsync/core"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Option, Result } from "effect"
import { ChainGenerator } from "../src/index.ts"

const { fork, generate, testGenesis } = ChainGenerator

/** Checks every header and body rule of `blocks` against their predecessors, the first against `parent`. */
const checkChain = (parent: Block.Block, blocks: ReadonlyArray<Block.Block>) =>
  Effect.gen(function*() {
    let previous = parent
    for (const block of blocks) {
      expect(HeaderRules.check(block.header, previous.header)).toBeUndefined()
      yield* BodyRules.check(block)
      previous = block
    }
  })

/** Decodes each block from its bytes and re-encodes it: same hash, same bytes. */
const roundTrip = (blocks: ReadonlyArray<Block.Block>) => {
  for (const block of blocks) {
    const decoded = Result.getOrThrow(Block.decode(block.rlp))
    expect(Hash.equals(decoded.hash, block.hash)).toBe(true)
    expect(Block.encode(decoded)).toEqual(block.rlp)
  }
}

const variants: ReadonlyArray<readonly [string, ChainGenerator.Options]> = [
  ["plain", {}],
  ["with uncles", { uncles: true, seed: 2 }],
  ["with transactions", { transactions: true, seed: 3 }],
  ["with uncles and transactions", { uncles: true, transactions: true, seed: 4 }]
]

describe("ChainGenerator", () => {
  it("testGenesis is a low-difficulty genesis distinct from mainnet's", () => {
    const header = testGenesis.header
    expect(header.number).toBe(0)
    expect(header.difficulty).toBe(131072n)
    expect(header.gasLimit).toBe(3141592n)
    expect(header.timestamp).toBe(0n)
    expect(Hash.equals(header.parentHash, Hash.zero)).toBe(true)
    expect(Hash.equals(testGenesis.hash, Genesis.mainnetHash)).toBe(false)
    roundTrip([testGenesis])
  })

  for (const [name, options] of variants) {
    it.effect(`a chain ${name} passes every rule and imports into a memory store`, () =>
      Effect.gen(function*() {
        const blocks = yield* generate(testGenesis, 300, options)
        expect(blocks.map((b) => b.number)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
        yield* checkChain(testGenesis, blocks)
        roundTrip(blocks)

        const withUncles = blocks.filter((b) => b.uncles.length > 0).length
        const withTransactions = blocks.filter((b) => b.transactions.length > 0).length
        if (options.uncles) expect(withUncles).toBeGreaterThan(50)
        else expect(withUncles).toBe(0)
        if (options.transactions) expect(withTransactions).toBeGreaterThan(50)
        else expect(withTransactions).toBe(0)
        expect(withUncles).toBeLessThan(300)
        expect(withTransactions).toBeLessThan(300)

        // uncles are valid siblings of an ancestor at number - 1 or number - 2
        const byHash = new Map([testGenesis, ...blocks].map((b) => [Hash.key(b.hash), b]))
        for (const block of blocks) {
          expect(block.uncles.length).toBeLessThanOrEqual(2)
          for (const uncle of block.uncles) {
            expect(uncle.number === block.number - 1 || uncle.number === block.number - 2).toBe(true)
            const unclesParent = byHash.get(Hash.key(uncle.parentHash))
            expect(unclesParent).toBeDefined()
            expect(HeaderRules.check(uncle, unclesParent!.header)).toBeUndefined()
            expect(byHash.has(Hash.key(uncle.hash))).toBe(false)
          }
          expect(block.transactions.length).toBeLessThanOrEqual(3)
        }

        // the timestamp steps make the difficulty both rise and fall
        const steps = blocks.map((b, i) => b.header.difficulty - (i === 0 ? testGenesis : blocks[i - 1]!).header.difficulty)
        expect(steps.some((d) => d > 0n)).toBe(true)
        expect(steps.some((d) => d < 0n)).toBe(true)

        const store = MemoryChainStore.make(testGenesis)
        expect(yield* store.insert(blocks)).toBe(300)
        const head = yield* store.head
        expect(Hash.equals(head.block.hash, blocks[299]!.hash)).toBe(true)
        expect(head.td).toBe(TotalDifficulty.of([testGenesis, ...blocks].map((b) => b.header)))
      }))
  }

  it.effect("chains on mainnet's genesis keep the gas limit at or above 5000", () =>
    Effect.gen(function*() {
      const blocks = yield* generate(Genesis.mainnet, 200, { uncles: true, transactions: true })
      yield* checkChain(Genesis.mainnet, blocks)
      expect(blocks.every((b) => b.header.gasLimit >= HeaderRules.minGasLimit)).toBe(true)
      const store = MemoryChainStore.make(Genesis.mainnet)
      expect(yield* store.insert(blocks)).toBe(200)
    }))

  it.effect("chains across the difficulty bomb's first step pass every rule", () =>
    Effect.gen(function*() {
      const parent = Block.make(Header.make({ ...testGenesis.header, number: 199_995, timestamp: 1_000_000n }), [], [])
      const blocks = yield* generate(parent, 10)
      yield* checkChain(parent, blocks)
      const bombed = blocks.find((b) => b.number === 200_000)!
      expect(bombed.header.difficulty).toBeGreaterThan(HeaderRules.minimumDifficulty)
    }))

  it.effect("the same seed gives identical bytes; another seed gives other blocks", () =>
    Effect.gen(function*() {
      const options = { seed: 42, uncles: true, transactions: true }
      const a = yield* generate(testGenesis, 100, options)
      const b = yield* generate(testGenesis, 100, options)
      expect(b.map((x) => x.rlp)).toEqual(a.map((x) => x.rlp))
      const c = yield* generate(testGenesis, 100, { ...options, seed: 43 })
      for (let i = 0; i < 100; i++) expect(Hash.equals(a[i]!.hash, c[i]!.hash)).toBe(false)
      const d = yield* generate(testGenesis, 100)
      const e = yield* generate(testGenesis, 100, { seed: 1 })
      expect(e.map((x) => x.rlp)).toEqual(d.map((x) => x.rlp))
    }))

  it.effect("a fork shares exactly the blocks up to its branch point, and a heavier fork becomes the head", () =>
    Effect.gen(function*() {
      const chain = [testGenesis, ...yield* generate(testGenesis, 20, { uncles: true })]
      const branch = yield* fork(chain, 10, 30, { seed: 2, uncles: true, transactions: true })
      expect(branch.length).toBe(30)
      expect(yield* fork(chain, 10, 30, { seed: 2, uncles: true, transactions: true })).toEqual(branch)
      yield* checkChain(chain[10]!, branch)

      const forked = [...chain.slice(0, 11), ...branch]
      expect(forked.map((b) => b.number)).toEqual(Array.from({ length: 41 }, (_, i) => i))
      for (let i = 0; i <= 10; i++) expect(Hash.equals(forked[i]!.hash, chain[i]!.hash)).toBe(true)
      for (let i = 11; i <= 20; i++) expect(Hash.equals(forked[i]!.hash, chain[i]!.hash)).toBe(false)

      const store = MemoryChainStore.make(testGenesis)
      yield* store.insert(chain.slice(1))
      expect(Hash.equals((yield* store.head).block.hash, chain[20]!.hash)).toBe(true)
      const forkTd = TotalDifficulty.of(forked.map((b) => b.header))
      expect(forkTd).toBeGreaterThan(TotalDifficulty.of(chain.map((b) => b.header)))
      expect(yield* store.insert(branch)).toBe(30)
      const head = yield* store.head
      expect(Hash.equals(head.block.hash, branch[29]!.hash)).toBe(true)
      expect(head.td).toBe(forkTd)
      const at15 = yield* store.getByNumber(15)
      expect(Option.isSome(at15) && Hash.equals(at15.value.hash, forked[15]!.hash)).toBe(true)
    }))

  it.effect("a fork with the original's seed and parent still differs from the first new block on", () =>
    Effect.gen(function*() {
      const chain = [testGenesis, ...yield* generate(testGenesis, 5)]
      const branch = yield* fork(chain, 0, 5)
      yield* checkChain(testGenesis, branch)
      for (let i = 0; i < 5; i++) expect(Hash.equals(branch[i]!.hash, chain[i + 1]!.hash)).toBe(false)
      const tip = yield* fork(chain, 5, 3)
      expect(Hash.equals(tip[0]!.header.parentHash, chain[5]!.hash)).toBe(true)
      expect(Exit.isFailure(yield* Effect.exit(fork(chain, 6, 3)))).toBe(true)
    }))

  it.effect("100,000 blocks generate, each linked to and valid against its parent", () =>
    Effect.gen(function*() {
      const blocks = yield* generate(testGenesis, 100_000)
      expect(blocks.length).toBe(100_000)
      let previous = testGenesis.header
      for (const block of blocks) {
        const error = HeaderRules.check(block.header, previous)
        if (error) expect.fail(error.message)
        previous = block.header
      }
      expect(previous.number).toBe(100_000)
    }))
})
