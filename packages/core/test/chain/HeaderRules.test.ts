import { describe, expect, it } from "@effect/vitest"
import * as Genesis from "../../src/chain/Genesis.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Header from "../../src/chain/Header.ts"
import * as HeaderRules from "../../src/chain/HeaderRules.ts"
import type { Rule } from "../../src/chain/InvalidBlock.ts"
import { InvalidBlock } from "../../src/chain/InvalidBlock.ts"
import { childHeader, fieldsOf } from "../support/chain.ts"
import { load, rlpPath, warnIfSkipped } from "../support/mainnet.ts"

const genesis = Genesis.mainnet.header
/** A valid child of the genesis: 15 s later, so its difficulty is the genesis's minus 1/2048. */
const child = childHeader(genesis)

/** `header` with some fields changed (its bytes and hash follow). */
const change = (header: Header.Header, changes: Partial<Header.Fields>): Header.Header => Header.make({ ...fieldsOf(header), ...changes })

/** A parent with the given number, difficulty, timestamp and gas limit (other fields from the genesis). */
const parentWith = (number: number, difficulty: bigint, timestamp = 1_000_000n, gasLimit = 3_141_592n): Header.Header =>
  change(genesis, { number, difficulty, timestamp, gasLimit })

/** Checks that `header` breaks exactly `rule`: the rule's own check and `check` both report it. */
const expectBroken = (header: Header.Header, parent: Header.Header, rule: Rule, own: HeaderRules.Check) => {
  const error = own(header, parent)
  expect(error).toBeInstanceOf(InvalidBlock)
  expect(error?.rule).toBe(rule)
  expect(error?.number).toBe(header.number)
  expect(error?.hash).toBe(Hash.toHex(header.hash))
  expect(error?.message).toContain(`breaks the ${rule} rule`)
  expect(HeaderRules.check(header, parent)?.rule).toBe(rule)
}

// Protects the single-field tests below from proving nothing: their unchanged headers pass every rule.
describe("HeaderRules baselines", () => {
  warnIfSkipped("HeaderRules.test.ts (the real block 1 baseline)")

  it("a child built by the rules passes every rule against the genesis", () => {
    expect(HeaderRules.all.map((rule) => rule(child, genesis))).toEqual(HeaderRules.all.map(() => undefined))
    expect(HeaderRules.check(child, genesis)).toBeUndefined()
  })

  it.skipIf(rlpPath === undefined)("real mainnet block 1 passes every rule against block 0 (skipped without ETHSYNC_MAINNET_RLP)", () => {
    const { blocks } = load()
    expect(HeaderRules.check(blocks[1]!.header, blocks[0]!.header)).toBeUndefined()
    expect(HeaderRules.check(blocks[1]!.header, genesis)).toBeUndefined()
  })
})

// Protects each Frontier header rule: one changed field makes it fail, naming that rule.
describe("HeaderRules: one changed field breaks one rule", () => {
  it("parentHash: a header that does not link to its parent", () => {
    expectBroken(change(child, { parentHash: Hash.keccak(Uint8Array.of(1)) }), genesis, "parentHash", HeaderRules.parentHash)
  })

  it("number: a number that skips one, or repeats the parent's", () => {
    expectBroken(change(child, { number: 2 }), genesis, "number", HeaderRules.number)
    expectBroken(change(child, { number: 0 }), genesis, "number", HeaderRules.number)
  })

  it("timestamp: a timestamp equal to the parent's, or earlier", () => {
    const parent = childHeader(genesis)
    const next = childHeader(parent)
    expect(HeaderRules.check(next, parent)).toBeUndefined()
    expectBroken(change(next, { timestamp: parent.timestamp }), parent, "timestamp", HeaderRules.timestamp)
    expectBroken(change(next, { timestamp: parent.timestamp - 1n }), parent, "timestamp", HeaderRules.timestamp)
    expect(HeaderRules.timestamp(change(next, { timestamp: parent.timestamp + 1n }), parent)).toBeUndefined()
  })

  it("extraData: 33 bytes built in code (the decoder refuses them too); 32 pass", () => {
    expectBroken(change(child, { extraData: new Uint8Array(33) }), genesis, "extraData", HeaderRules.extraData)
    expect(HeaderRules.check(change(child, { extraData: new Uint8Array(32) }), genesis)).toBeUndefined()
  })

  it("gasUsed: one more than the gas limit; exactly the gas limit passes", () => {
    expectBroken(change(child, { gasUsed: child.gasLimit + 1n }), genesis, "gasUsed", HeaderRules.gasUsed)
    expect(HeaderRules.check(change(child, { gasUsed: child.gasLimit }), genesis)).toBeUndefined()
  })

  it("gasLimit: below 5000 fails even within the bound of a 5000 parent", () => {
    // The genesis has gasLimit 5000, so the bound is 5000 / 1024 = 4: a move of 1 is within it.
    expectBroken(change(child, { gasLimit: 4999n }), genesis, "gasLimit", HeaderRules.gasLimit)
    expect(HeaderRules.gasLimit(change(child, { gasLimit: 4999n }), genesis)?.reason).toContain("below 5000")
  })

  it("gasLimit: a move of parent / 1024 or more fails, one less passes, both ways", () => {
    expectBroken(change(child, { gasLimit: 5004n }), genesis, "gasLimit", HeaderRules.gasLimit)
    expect(HeaderRules.check(change(child, { gasLimit: 5003n }), genesis)).toBeUndefined()
    // A parent of 3,141,592 gas: the bound is 3,141,592 / 1024 = 3067 (integer division).
    const parent = parentWith(1000, 1_000_000_000n)
    const ok = childHeader(parent)
    expect(HeaderRules.check(ok, parent)).toBeUndefined()
    expect(HeaderRules.gasLimit(change(ok, { gasLimit: 3_141_592n + 3066n }), parent)).toBeUndefined()
    expect(HeaderRules.gasLimit(change(ok, { gasLimit: 3_141_592n - 3066n }), parent)).toBeUndefined()
    expectBroken(change(ok, { gasLimit: 3_141_592n + 3067n }), parent, "gasLimit", HeaderRules.gasLimit)
    expectBroken(change(ok, { gasLimit: 3_141_592n - 3067n }), parent, "gasLimit", HeaderRules.gasLimit)
  })

  it("difficulty: one more or one less than the formula gives", () => {
    expectBroken(change(child, { difficulty: child.difficulty + 1n }), genesis, "difficulty", HeaderRules.difficulty)
    expectBroken(change(child, { difficulty: child.difficulty - 1n }), genesis, "difficulty", HeaderRules.difficulty)
  })

  it("check reports the first rule broken, in the documented order", () => {
    const many = change(child, { number: 5, difficulty: 1n, gasUsed: 10_000n })
    expect(HeaderRules.check(many, genesis)?.rule).toBe("number")
    expect(HeaderRules.all).toEqual([
      HeaderRules.parentHash, HeaderRules.number, HeaderRules.timestamp, HeaderRules.extraData,
      HeaderRules.gasUsed, HeaderRules.gasLimit, HeaderRules.difficulty
    ])
  })
})

// Protects the difficulty formula against hand-computed values: 13 s threshold, 131072 floor, bomb term.
describe("HeaderRules.expectedDifficulty", () => {
  it("raises the genesis difficulty by 1/2048 under 13 s and lowers it from 13 s", () => {
    // 17179869184 / 2048 = 8388608
    expect(HeaderRules.expectedDifficulty(genesis, 1n)).toBe(17_188_257_792n)
    expect(HeaderRules.expectedDifficulty(genesis, 12n)).toBe(17_188_257_792n)
    expect(HeaderRules.expectedDifficulty(genesis, 13n)).toBe(17_171_480_576n)
    expect(HeaderRules.expectedDifficulty(genesis, 1000n)).toBe(17_171_480_576n)
  })

  it("never goes below 131072", () => {
    // 131072 - 131072 / 2048 = 131008, raised to the floor.
    expect(HeaderRules.expectedDifficulty(parentWith(10, 131_072n), 1_000_020n)).toBe(131_072n)
    // 131100 - 64 = 131036, raised to the floor; the raise side is unaffected: 131100 + 64.
    expect(HeaderRules.expectedDifficulty(parentWith(10, 131_100n), 1_000_020n)).toBe(131_072n)
    expect(HeaderRules.expectedDifficulty(parentWith(10, 131_100n), 1_000_005n)).toBe(131_164n)
  })

  it("adds the bomb term 2^(floor(number / 100000) - 2) from block 200000", () => {
    // 10^9 / 2048 = 488281 (integer division)
    const below = parentWith(199_998, 1_000_000_000n)
    expect(HeaderRules.expectedDifficulty(below, 1_000_005n)).toBe(1_000_488_281n) // block 199999: no bomb
    const at = parentWith(199_999, 1_000_000_000n)
    expect(HeaderRules.expectedDifficulty(at, 1_000_005n)).toBe(1_000_488_282n) // block 200000: + 2^0
    expect(HeaderRules.expectedDifficulty(at, 1_000_020n)).toBe(999_511_720n) // slow: 999511719 + 1
    const third = parentWith(299_999, 1_000_000_000n)
    expect(HeaderRules.expectedDifficulty(third, 1_000_005n)).toBe(1_000_488_283n) // block 300000: + 2^1
    // 2^40 = 1099511627776, / 2048 = 536870912; block 1,000,000: + 2^8
    const late = parentWith(999_999, 1_099_511_627_776n)
    expect(HeaderRules.expectedDifficulty(late, 1_000_020n)).toBe(1_098_974_757_120n)
  })

  it("adds the bomb after the floor, not before", () => {
    // Block 400000 from a parent at the floor, sealed slowly: 131072 (floor) + 2^(4 - 2) = 131076.
    expect(HeaderRules.expectedDifficulty(parentWith(399_999, 131_072n), 1_000_020n)).toBe(131_076n)
  })

  it("the difficulty rule accepts a header carrying the bomb value and refuses it without the bomb", () => {
    const parent = parentWith(199_999, 1_000_000_000n)
    const good = childHeader(parent, { seconds: 5n })
    expect(good.number).toBe(200_000)
    expect(good.difficulty).toBe(1_000_488_282n)
    expect(HeaderRules.check(good, parent)).toBeUndefined()
    expectBroken(change(good, { difficulty: 1_000_488_281n }), parent, "difficulty", HeaderRules.difficulty)
  })
})
