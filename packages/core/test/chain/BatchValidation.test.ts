/**
 * Validation's lookups carry the height a block must be at, so that a store keyed by number
 * finds stored blocks without an index by hash; a parent not at the height below its child is
 * still found by hash, so a block whose number is wrong fails the number rule, as before.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as BatchValidation from "../../src/chain/BatchValidation.ts"
import * as Block from "../../src/chain/Block.ts"
import * as Genesis from "../../src/chain/Genesis.ts"
import * as Header from "../../src/chain/Header.ts"
import * as SealVerifier from "../../src/chain/SealVerifier.ts"
import { chain, fieldsOf } from "../support/chain.ts"

const genesis = Genesis.mainnet
const stored = chain(genesis, 4)

/**
 * A store that answers only at a block's own height, as a store keyed by number does, and by
 * hash alone when given no height; every lookup's height is kept in `heights`.
 */
const keyedByNumber = (blocks: ReadonlyArray<Block.Block>) => {
  const heights: Array<number | undefined> = []
  const byKey = new Map(blocks.map((block) => [block.key, block]))
  let td = 0n
  const tds = new Map(blocks.map((block) => [block.key, td += block.header.difficulty]))
  const lookup = (_hash: unknown, key: string, number: number | undefined): BatchValidation.Known | undefined => {
    heights.push(number)
    const block = byKey.get(key)
    return block && (number === undefined || block.number === number)
      ? { header: block.header, uncles: BatchValidation.uncleKeys(block), td: tds.get(key)! }
      : undefined
  }
  return { heights, lookup }
}

describe("BatchValidation", () => {
  it.effect("looks a block up at its number and its parent at the height below", () =>
    Effect.gen(function*() {
      const { heights, lookup } = keyedByNumber([genesis, ...stored])
      const next = chain(stored[3]!, 2)
      const outcome = yield* BatchValidation.validate([stored[3]!, ...next], lookup, SealVerifier.none)
      expect(outcome.failure).toBeUndefined()
      expect(outcome.accepted.map((entry) => entry.block.number)).toEqual([5, 6])
      // Block 4 found stored at 4; block 5 not stored, its parent found at 4; block 6 not stored (its parent is in the batch).
      expect(heights).toEqual([4, 5, 4, 6])
    }))

  it.effect("finds by hash the parent of a block whose number is wrong, which then fails the number rule", () =>
    Effect.gen(function*() {
      const { heights, lookup } = keyedByNumber([genesis, ...stored])
      const good = chain(stored[3]!, 1)[0]!
      const wrong = Block.make(Header.make({ ...fieldsOf(good.header), number: 9 }), good.transactions, good.uncles)
      const outcome = yield* BatchValidation.validate([wrong], lookup, SealVerifier.none)
      expect(outcome.failure?.error.rule).toBe("number")
      expect(heights).toEqual([9, 8, undefined])
    }))
})
