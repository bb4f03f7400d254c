import { readFileSync } from "node:fs"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, Stream } from "effect"
import * as Block from "../../src/chain/Block.ts"
import * as BodyRules from "../../src/chain/BodyRules.ts"
import * as Genesis from "../../src/chain/Genesis.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Header from "../../src/chain/Header.ts"
import * as HeaderRules from "../../src/chain/HeaderRules.ts"
import * as MemoryChainStore from "../../src/chain/MemoryChainStore.ts"
import * as Rlp from "../../src/chain/Rlp.ts"
import * as RlpSplitter from "../../src/chain/RlpSplitter.ts"
import * as TotalDifficulty from "../../src/chain/TotalDifficulty.ts"
import * as UncleRules from "../../src/chain/UncleRules.ts"
import { hasTdFile, load, rlpPath, skipReason, tdPath, warnIfSkipped } from "../support/mainnet.ts"

const tdOf8191 = 1344623723034024n
const skip = rlpPath === undefined

const same = (a: Uint8Array, b: Uint8Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

/** Cuts `bytes` into consecutive chunks whose sizes come from `size` (called once per chunk). */
const chunks = (bytes: Uint8Array, size: () => number): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length;) {
    const end = Math.min(bytes.length, at + size())
    out.push(bytes.subarray(at, end))
    at = end
  }
  return out
}

/** A small deterministic generator (mulberry32), so "random" chunk sizes are the same every run. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

/** Feeds `bytes` to a Splitter in chunks whose sizes come from `size`, returning all the items; throws on an error. */
const splitAll = (bytes: Uint8Array, size: () => number): Array<Uint8Array> => {
  const splitter = new RlpSplitter.Splitter()
  const out: Array<Uint8Array> = []
  for (let at = 0; at < bytes.length;) {
    const end = Math.min(bytes.length, at + size())
    const items = splitter.push(bytes.subarray(at, end))
    if (items instanceof Rlp.RlpError) throw items
    for (const item of items) out.push(item)
    at = end
  }
  const error = splitter.end()
  if (error) throw error
  return out
}

// Protects the built-in genesis: it is mainnet's, so a node starting from it agrees with mainnet peers.
describe("Genesis.mainnet", () => {
  it("hashes to the published mainnet genesis hash", () => {
    expect(Hash.toHex(Genesis.mainnet.hash)).toBe("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
    expect(Hash.equals(Genesis.mainnetHash, Genesis.mainnet.hash)).toBe(true)
  })
})

// Protects reading the real chain: decoder, encoder, rules, splitter and store all agree with mainnet 0..8191.
describe(skip ? `mainnet blocks 0..8191 (${skipReason})` : "mainnet blocks 0..8191", () => {
  warnIfSkipped("Mainnet.test.ts")

  it.skipIf(skip)("all 8192 blocks decode, each numbered by its position, and the items cover the whole file", () => {
    const { bytes, items, blocks } = load()
    expect(blocks.length).toBe(8192)
    blocks.forEach((block, i) => expect(block.number).toBe(i))
    expect(items.reduce((n, item) => n + item.length, 0)).toBe(bytes.length)
    const iterator = RlpSplitter.items(bytes)
    let step = iterator.next()
    while (!step.done) step = iterator.next()
    expect(step.value).toBeUndefined()
    expect(blocks.reduce((n, block) => n + block.uncles.length, 0)).toBe(1410)
    expect(blocks.every((block) => block.transactions.length === 0)).toBe(true)
  })

  it.skipIf(skip)("blocks 0, 1 and 8191 hash to their known mainnet hashes", () => {
    const { blocks } = load()
    expect(Hash.toHex(blocks[0]!.hash)).toBe("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
    expect(Hash.toHex(blocks[1]!.hash)).toBe("0x88e96d4537bea4d9c05d12549907b32561d3bf31f45aae734cdc119f13406cb6")
    expect(Hash.toHex(blocks[8191]!.hash)).toBe("0xa6860fefa339c963e1bb622526cc8dd4344eedd2a9b969e74de5cccc445fbed4")
  })

  it.skipIf(skip)("every block passes every header rule against its parent", () => {
    const { blocks } = load()
    const broken: Array<string> = []
    for (let i = 1; i < blocks.length; i++) {
      for (const rule of HeaderRules.all) {
        const error = rule(blocks[i]!.header, blocks[i - 1]!.header)
        if (error) broken.push(error.message)
      }
      const error = HeaderRules.check(blocks[i]!.header, blocks[i - 1]!.header)
      if (error) broken.push(error.message)
    }
    expect(broken).toEqual([])
  })

  it.effect.skipIf(skip)("every block passes both body rules (uncle hash, transactions root)", () =>
    Effect.gen(function*() {
      const { blocks } = load()
      const failures = yield* Effect.forEach(blocks, (block) =>
        BodyRules.check(block).pipe(Effect.flip, Effect.option))
      expect(failures.filter(Option.isSome).map((f) => f.value.message)).toEqual([])
    }))

  it.skipIf(skip)("all 1410 uncles pass the uncle rules against their including block's ancestors", () => {
    const { blocks } = load()
    const ancestors = blocks.map((block): UncleRules.Ancestor => ({ header: block.header, uncles: block.uncles.map((u) => u.key) }))
    const broken: Array<string> = []
    let checked = 0
    for (let i = 1; i < blocks.length; i++) {
      const error = UncleRules.check(blocks[i]!, ancestors.slice(Math.max(0, i - UncleRules.generations), i).reverse())
      if (error) broken.push(error.message)
      checked += blocks[i]!.uncles.length
    }
    expect(broken).toEqual([])
    expect(checked).toBe(1410)
  })

  it.skipIf(skip)("the total difficulty of block 8191 is 1344623723034024", () => {
    const { blocks } = load()
    expect(TotalDifficulty.of(blocks.map((b) => b.header))).toBe(tdOf8191)
    expect(blocks.reduce((td, block) => TotalDifficulty.next(td, block.header), 0n)).toBe(tdOf8191)
  })

  it.skipIf(skip || !hasTdFile)(
    hasTdFile || skip ? "every block's total difficulty matches the .td.txt file beside the rlp file"
      : `every block's total difficulty matches the .td.txt file (skipped: ${tdPath} is absent)`,
    () => {
      const { blocks } = load()
      const lines = readFileSync(tdPath!, "utf8").trim().split("\n")
      expect(lines.length).toBe(blocks.length)
      let td = 0n
      const mismatches: Array<string> = []
      blocks.forEach((block, i) => {
        td = TotalDifficulty.next(td, block.header)
        const expected = `${i} ${td}`
        if (lines[i]!.trim() !== expected) mismatches.push(`line ${i}: file says "${lines[i]}", computed "${expected}"`)
      })
      expect(mismatches).toEqual([])
    }
  )
  if (!skip && !hasTdFile) console.warn(`Mainnet.test.ts: per-block TD comparison skipped: ${tdPath} is absent`)

  it.skipIf(skip)("re-encoding every block and header from its fields gives the identical bytes", () => {
    const { items, blocks } = load()
    const differing: Array<number> = []
    blocks.forEach((block, i) => {
      const ok = same(Block.encode(block), items[i]!) && same(block.rlp, items[i]!) &&
        same(Header.encode(block.header), block.header.rlp) &&
        block.uncles.every((uncle) => same(Header.encode(uncle), uncle.rlp))
      if (!ok) differing.push(i)
    })
    expect(differing).toEqual([])
  })

  it.skipIf(skip)("Genesis.mainnet is block 0 of the file, byte for byte", () => {
    const { items, blocks } = load()
    expect(same(Genesis.mainnet.rlp, items[0]!)).toBe(true)
    expect(same(Block.encode(Genesis.mainnet), items[0]!)).toBe(true)
    expect(Hash.equals(Genesis.mainnet.hash, blocks[0]!.hash)).toBe(true)
  })

  it.skipIf(skip)("the Splitter fed chunks of 1, 7, 4096 and random sizes yields the same items as `items`", () => {
    const { bytes, items } = load()
    const random = seeded(8191)
    const sizes: ReadonlyArray<readonly [string, () => number]> = [
      ["1", () => 1],
      ["7", () => 7],
      ["4096", () => 4096],
      ["random 1..70000", () => 1 + Math.floor(random() * 70000)],
      ["whole file", () => bytes.length]
    ]
    for (const [name, size] of sizes) {
      const got = splitAll(bytes, size)
      expect(got.length, `chunk size ${name}`).toBe(items.length)
      const firstDifferent = got.findIndex((item, i) => !same(item, items[i]!))
      expect(firstDifferent, `chunk size ${name}`).toBe(-1)
    }
  })

  it.effect.skipIf(skip)("RlpSplitter.split streams the file, in random chunks, as the same items", () =>
    Effect.gen(function*() {
      const { bytes, items } = load()
      const random = seeded(61)
      const out = yield* Stream.runCollect(RlpSplitter.split(Stream.fromIterable(chunks(bytes, () => 1 + Math.floor(random() * 9000)))))
      expect(out.length).toBe(items.length)
      expect(out.findIndex((item, i) => !same(item, items[i]!))).toBe(-1)
    }))

  it.effect.skipIf(skip)("inserting blocks 1..8191 into MemoryChainStore gives head 8191 with the right TD", () =>
    Effect.gen(function*() {
      const { blocks } = load()
      const store = MemoryChainStore.make(Genesis.mainnet)
      expect(yield* store.insert(blocks.slice(1))).toBe(8191)
      const head = yield* store.head
      expect(head.block.number).toBe(8191)
      expect(Hash.toHex(head.block.hash)).toBe("0xa6860fefa339c963e1bb622526cc8dd4344eedd2a9b969e74de5cccc445fbed4")
      expect(head.td).toBe(tdOf8191)
      expect(yield* store.td(blocks[8191]!.hash)).toEqual(Option.some(tdOf8191))
      const middle = yield* store.getByNumber(4096)
      expect(Option.map(middle, (b) => Hash.toHex(b.hash))).toEqual(Option.some(Hash.toHex(blocks[4096]!.hash)))
      expect(yield* store.insert(blocks.slice(1))).toBe(0)
      expect((yield* store.head).td).toBe(tdOf8191)
    }))
})
