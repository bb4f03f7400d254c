import { RLP } from "@ethereumjs/rlp"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import fc from "fast-check"
import * as Bytes from "../../src/chain/Bytes.ts"
import * as Genesis from "../../src/chain/Genesis.ts"
import * as Rlp from "../../src/chain/Rlp.ts"
import * as RlpSplitter from "../../src/chain/RlpSplitter.ts"
import * as Arb from "../support/arbitraries.ts"
import { chain, childBlock, hex, transaction } from "../support/chain.ts"

const concat = Bytes.concat

/** Everything `items` yields, and the error it returns (undefined when the input ends cleanly). */
const itemsOf = (bytes: Uint8Array): { items: Array<string>; error: Rlp.RlpError | undefined } => {
  const items: Array<string> = []
  const iterator = RlpSplitter.items(bytes)
  for (let step = iterator.next(); ; step = iterator.next()) {
    if (step.done) return { items, error: step.value }
    items.push(hex(step.value))
  }
}

/** Feeds `bytes` to a Splitter cut at the given sizes (cycled), collecting items until the first error. */
const splitterOf = (bytes: Uint8Array, sizes: ReadonlyArray<number>): { items: Array<string>; error: Rlp.RlpError | undefined } => {
  const splitter = new RlpSplitter.Splitter()
  const items: Array<string> = []
  let k = 0
  for (let at = 0; at < bytes.length;) {
    const end = Math.min(bytes.length, at + sizes[k++ % sizes.length]!)
    const out = splitter.push(bytes.subarray(at, end))
    if (out instanceof Rlp.RlpError) return { items, error: out }
    for (const item of out) items.push(hex(item))
    at = end
  }
  return { items, error: splitter.end() }
}

/** A short chain of valid blocks, some with uncles and transactions, written one after another. */
const blocks = (() => {
  const uncle = childBlock(Genesis.mainnet, { extraData: Uint8Array.of(9) }).header
  const first = chain(Genesis.mainnet, 3)
  const withBody = childBlock(first[2]!, { uncles: [uncle], transactions: [transaction(0n), transaction(1n, new Uint8Array(3000))] })
  return [Genesis.mainnet, ...first, withBody, ...chain(withBody, 3)]
})()
const file = concat(blocks.map((b) => b.rlp))

// Protects `items`: a concatenated file split at item boundaries, stopping with the error at the first bad item.
describe("RlpSplitter.items", () => {
  it("yields each block of a concatenated file as its exact bytes", () => {
    const { items, error } = itemsOf(file)
    expect(error).toBeUndefined()
    expect(items).toEqual(blocks.map((b) => hex(b.rlp)))
  })

  it("yields the items before a malformed one, then returns its error at its offset", () => {
    const bad = concat([blocks[0]!.rlp, blocks[1]!.rlp, Uint8Array.of(0x81, 0x05), blocks[2]!.rlp])
    const { items, error } = itemsOf(bad)
    expect(items).toEqual([hex(blocks[0]!.rlp), hex(blocks[1]!.rlp)])
    expect(error?.offset).toBe(blocks[0]!.rlp.length + blocks[1]!.rlp.length)
  })

  it("returns an error for a file whose last block is cut short", () => {
    const { items, error } = itemsOf(file.subarray(0, file.length - 1))
    expect(items.length).toBe(blocks.length - 1)
    expect(error?.offset).toBe(file.length - blocks.at(-1)!.rlp.length)
  })

  it("yields nothing and no error for an empty file", () => {
    expect(itemsOf(new Uint8Array(0))).toEqual({ items: [], error: undefined })
  })
})

// Protects the Splitter: same items as `items` in any chunking, every good item handed out before an error.
describe("RlpSplitter.Splitter", () => {
  for (const size of [1, 2, 7, 55, 56, 57, 4096, file.length]) {
    it(`yields the same blocks as items() in chunks of ${size} bytes`, () => {
      expect(splitterOf(file, [size])).toEqual(itemsOf(file))
    })
  }

  it("reports, on end(), an item left unfinished, at the offset where it starts", () => {
    const cut = file.subarray(0, file.length - 10)
    const result = splitterOf(cut, [100])
    expect(result.items.length).toBe(blocks.length - 1)
    expect(result.error?.offset).toBe(file.length - blocks.at(-1)!.rlp.length)
    expect(result.error?.reason).toContain("input ends inside an item")
  })

  it("hands out the good blocks of a chunk before the error of a bad item in the same chunk", () => {
    const bad = concat([file, Uint8Array.of(0xb8, 0x05, 1, 2, 3, 4, 5)])
    const splitter = new RlpSplitter.Splitter()
    const out = splitter.push(bad)
    expect(Array.isArray(out) ? out.map(hex) : out).toEqual(blocks.map((b) => hex(b.rlp)))
    const error = splitter.end()
    expect(error?.offset).toBe(file.length)
    expect(error?.reason).toContain("short form")
    expect(splitter.push(Uint8Array.of(0x80))).toBe(error)
  })

  it("fails at once on a chunk that starts with a malformed item, with its offset in the stream", () => {
    const splitter = new RlpSplitter.Splitter()
    expect(splitter.push(blocks[0]!.rlp)).toHaveLength(1)
    const error = splitter.push(Uint8Array.of(0xf9, 0x00, 0x40))
    expect(error).toBeInstanceOf(Rlp.RlpError)
    expect((error as Rlp.RlpError).offset).toBe(blocks[0]!.rlp.length)
  })

  it("waits for the length bytes of a long item split across chunks", () => {
    const splitter = new RlpSplitter.Splitter()
    const item = blocks[1]!.rlp
    expect(splitter.push(item.subarray(0, 1))).toEqual([])
    expect(splitter.push(item.subarray(1, 2))).toEqual([])
    expect(splitter.push(item.subarray(2, item.length - 1))).toEqual([])
    expect((splitter.push(item.subarray(item.length - 1)) as Array<Uint8Array>).map(hex)).toEqual([hex(item)])
    expect(splitter.end()).toBeUndefined()
  })

  /** Concatenated RLP: random blocks, random small items, and sometimes garbage or a cut at the end. */
  const stream = fc
    .tuple(
      fc.array(
        fc.oneof(
          Arb.block.map((b) => b.rlp),
          fc.uint8Array({ maxLength: 80 }).map((b) => RLP.encode(b)),
          fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 4 }).map((l) => RLP.encode(l))
        ),
        { maxLength: 6 }
      ),
      fc.oneof(
        { arbitrary: fc.constant<"clean">("clean"), weight: 2 },
        fc.constant<"cut">("cut"),
        fc.uint8Array({ minLength: 1, maxLength: 12 })
      )
    )
    .chain(([parts, ending]) => {
      const whole = concat(parts)
      if (ending === "clean") return fc.constant(whole)
      if (ending === "cut") return fc.nat(whole.length).map((n) => whole.subarray(0, n))
      return fc.constant(concat([whole, ending]))
    })

  it("in random chunks gives the same items and the same error offset as items() (property)", () => {
    fc.assert(
      fc.property(stream, fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 8 }), (bytes, sizes) => {
        const expected = itemsOf(bytes)
        const got = splitterOf(bytes, sizes)
        expect(got.items).toEqual(expected.items)
        expect(got.error?.offset).toBe(expected.error?.offset)
        expect(got.error === undefined).toBe(expected.error === undefined)
      }),
      { numRuns: 300 }
    )
  })

  it("never throws on random bytes in random chunks (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }), (bytes, sizes) => {
        const got = splitterOf(bytes, sizes)
        const expected = itemsOf(bytes)
        return got.items.length === expected.items.length && got.error?.offset === expected.error?.offset
      }),
      { numRuns: 1000 }
    )
  })
})

/** Runs `split` over the chunks, collecting what it emits before it ends or fails. */
const runSplit = (chunks: ReadonlyArray<Uint8Array>) =>
  Effect.gen(function*() {
    const emitted: Array<string> = []
    const error = yield* RlpSplitter.split(Stream.fromIterable(chunks)).pipe(
      Stream.runForEach((item) => Effect.sync(() => emitted.push(hex(item)))),
      Effect.flip,
      Effect.orElseSucceed(() => undefined)
    )
    return { emitted, error }
  })

// Protects the stream form as an importer uses it: every good block comes out, then the error of a bad tail.
describe("RlpSplitter.split", () => {
  it.effect("streams the blocks of a file read in chunks", () =>
    Effect.gen(function*() {
      const chunks = Array.from({ length: Math.ceil(file.length / 333) }, (_, i) => file.subarray(i * 333, (i + 1) * 333))
      const out = yield* Stream.runCollect(RlpSplitter.split(Stream.fromIterable(chunks)))
      expect(out.map(hex)).toEqual(blocks.map((b) => hex(b.rlp)))
    }))

  it.effect("emits every good block, then fails with the RlpError of a malformed tail, even in a single chunk", () =>
    Effect.gen(function*() {
      const { emitted, error } = yield* runSplit([concat([file, Uint8Array.of(0x81, 0x05)])])
      expect(emitted).toEqual(blocks.map((b) => hex(b.rlp)))
      expect(error).toBeInstanceOf(Rlp.RlpError)
      expect(error?.offset).toBe(file.length)
    }))

  it.effect("fails with an RlpError when the stream ends inside a block", () =>
    Effect.gen(function*() {
      const { emitted, error } = yield* runSplit([file.subarray(0, 1000), file.subarray(1000, file.length - 3)])
      expect(emitted.length).toBe(blocks.length - 1)
      expect(error?.reason).toContain("input ends inside an item")
    }))

  it.effect("passes on the failure of the chunk stream itself", () =>
    Effect.gen(function*() {
      const failing = Stream.concat(Stream.fromIterable([file.subarray(0, 10)]), Stream.fail("disk gone" as const))
      const error = yield* RlpSplitter.split(failing).pipe(Stream.runDrain, Effect.flip)
      expect(error).toBe("disk gone")
    }))
})
