/**
 * The Frontier header rules: pure checks of a header against its parent. Each returns the
 * InvalidBlock it finds, or `undefined`. The proof-of-work seal is not among them: it is a
 * separate, costly check.
 *
 * @since 0.1.0
 */
import * as Hash from "./Hash.ts"
import * as Header from "./Header.ts"
import { InvalidBlock, type Rule } from "./InvalidBlock.ts"

/** Lowest gas limit a block may have. */
export const minGasLimit = 5000n
/** A child's gas limit moves by less than parent / this. */
export const gasLimitBoundDivisor = 1024n
/** Difficulty moves by parent / this per block. */
export const difficultyBoundDivisor = 2048n
/** Blocks sealed faster than this many seconds after their parent raise the difficulty. */
export const durationLimit = 13n
/** Difficulty never drops below this. */
export const minimumDifficulty = 131072n
/** Every this many blocks the exponential "difficulty bomb" term doubles. */
export const expDiffPeriod = 100000

/** A rule: the header checked against its parent. */
export type Check = (header: Header.Header, parent: Header.Header) => InvalidBlock | undefined

const fail = (rule: Rule, header: Header.Header, reason: string) =>
  new InvalidBlock({ rule, number: header.number, hash: Hash.toHex(header.hash), reason })

/** The difficulty a child of `parent` sealed at `timestamp` must have. */
export const expectedDifficulty = (parent: Header.Header, timestamp: bigint): bigint => {
  const adjust = parent.difficulty / difficultyBoundDivisor
  let d = timestamp - parent.timestamp < durationLimit ? parent.difficulty + adjust : parent.difficulty - adjust
  if (d < minimumDifficulty) d = minimumDifficulty
  const period = Math.floor((parent.number + 1) / expDiffPeriod)
  if (period >= 2) d += 1n << BigInt(period - 2)
  return d
}

/** The header's parentHash is its parent's hash. */
export const parentHash: Check = (h, p) =>
  Hash.equals(h.parentHash, p.hash) ? undefined
    : fail("parentHash", h, `parentHash ${Hash.toHex(h.parentHash)} is not the parent's hash ${Hash.toHex(p.hash)}`)

/** number = parent.number + 1. */
export const number: Check = (h, p) =>
  h.number === p.number + 1 ? undefined : fail("number", h, `number ${h.number} does not follow parent ${p.number}`)

/** timestamp > parent.timestamp. */
export const timestamp: Check = (h, p) =>
  h.timestamp > p.timestamp ? undefined
    : fail("timestamp", h, `timestamp ${h.timestamp} is not after the parent's ${p.timestamp}`)

/** extraData is at most 32 bytes (also enforced by the decoder; kept for headers built in code). */
export const extraData: Check = (h) =>
  h.extraData.length <= Header.maxExtraData ? undefined
    : fail("extraData", h, `extraData of ${h.extraData.length} bytes exceeds ${Header.maxExtraData}`)

/** gasUsed <= gasLimit. */
export const gasUsed: Check = (h) =>
  h.gasUsed <= h.gasLimit ? undefined : fail("gasUsed", h, `gasUsed ${h.gasUsed} exceeds gasLimit ${h.gasLimit}`)

/** gasLimit >= 5000 and moves by less than parent.gasLimit / 1024. */
export const gasLimit: Check = (h, p) => {
  if (h.gasLimit < minGasLimit) return fail("gasLimit", h, `gasLimit ${h.gasLimit} is below ${minGasLimit}`)
  const diff = h.gasLimit > p.gasLimit ? h.gasLimit - p.gasLimit : p.gasLimit - h.gasLimit
  const bound = p.gasLimit / gasLimitBoundDivisor
  return diff < bound ? undefined
    : fail("gasLimit", h, `gasLimit ${h.gasLimit} moves ${diff} from the parent's ${p.gasLimit}; the bound is < ${bound}`)
}

/** difficulty follows the Frontier formula from the parent. */
export const difficulty: Check = (h, p) => {
  const expected = expectedDifficulty(p, h.timestamp)
  return h.difficulty === expected ? undefined
    : fail("difficulty", h, `difficulty ${h.difficulty}, expected ${expected}`)
}

/** Every header rule, in the order they are checked. */
export const all: ReadonlyArray<Check> = [parentHash, number, timestamp, extraData, gasUsed, gasLimit, difficulty]

/** The first header rule the header breaks against its parent, or `undefined`. */
export const check = (header: Header.Header, parent: Header.Header): InvalidBlock | undefined => {
  for (const rule of all) {
    const error = rule(header, parent)
    if (error) return error
  }
  return undefined
}
