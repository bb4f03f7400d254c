/**
 * The Frontier uncle rules, as go-ethereum 1.0 checked them (`BlockProcessor.VerifyUncles`): pure
 * checks of a block's uncles against the block's nearest ancestors. An uncle's own header rules
 * and seal are reported under their usual rule names, on the including block, with a reason that
 * starts "uncle i (hash, number n)".
 *
 * @since 0.2.0
 */
import type * as Block from "./Block.ts"
import * as Hash from "./Hash.ts"
import type * as Header from "./Header.ts"
import * as HeaderRules from "./HeaderRules.ts"
import { InvalidBlock, type Rule } from "./InvalidBlock.ts"

/** Most uncles a block may include. */
export const maxUncles = 2

/**
 * How many ancestors the rules look at (the parent first): an uncle's parent is one of them other
 * than the parent (so the uncle is 1 to 6 generations older than the block), and no uncle one of
 * them included may be included again.
 */
export const generations = 7

/** An ancestor as the uncle rules see it. */
export interface Ancestor {
  /** Its header. */
  readonly header: Header.Header
  /** The hash keys (Hash.key) of the uncles it included. */
  readonly uncles: ReadonlyArray<string>
}

/** The InvalidBlock of `block` breaking `rule`. */
const fail = (rule: Rule, block: Block.Block, reason: string) =>
  new InvalidBlock({ rule, number: block.number, hash: Hash.toHex(block.hash), reason })

/** How an uncle is named in reasons: its place in the block, hash and number. */
const describe = (index: number, uncle: Header.Header) => `uncle ${index} (${Hash.toHex(uncle.hash)}, number ${uncle.number})`

/**
 * An error found in the `index`th uncle's own header (a header rule or its seal), reported on the
 * including block: same rule, the reason prefixed with which uncle it was.
 */
export const asUncle = (block: Block.Block, index: number, error: InvalidBlock): InvalidBlock =>
  fail(error.rule, block, `${describe(index, block.uncles[index]!)}: ${error.reason}`)

/**
 * The first uncle rule `block` breaks, or `undefined`. `ancestors` are the block's nearest
 * ancestors, parent first, at most {@link generations} of them (fewer near genesis).
 */
export const check = (block: Block.Block, ancestors: ReadonlyArray<Ancestor>): InvalidBlock | undefined => {
  const uncles = block.uncles
  if (uncles.length === 0) return undefined
  if (uncles.length > maxUncles) {
    return fail("tooManyUncles", block, `${uncles.length} uncles; at most ${maxUncles} are allowed`)
  }
  for (let index = 0; index < uncles.length; index++) {
    const uncle = uncles[index]!
    const key = uncle.key
    for (let earlier = 0; earlier < index; earlier++) {
      if (uncles[earlier]!.key === key) {
        return fail("duplicateUncle", block, `${describe(index, uncle)} is uncle ${earlier} again`)
      }
    }
    const includer = ancestors.find((ancestor) => ancestor.uncles.includes(key))
    if (includer) {
      return fail("uncleIncluded", block, `${describe(index, uncle)} was included by block ${includer.header.number} already`)
    }
    if (ancestors.some((ancestor) => ancestor.header.key === key)) {
      return fail("uncleIsAncestor", block, `${describe(index, uncle)} is one of the block's ancestors`)
    }
    const parentKey = Hash.key(uncle.parentHash)
    const parent = ancestors.find((ancestor, depth) => depth > 0 && ancestor.header.key === parentKey)
    if (!parent) {
      return fail(
        "uncleParent",
        block,
        `${describe(index, uncle)} has parent ${Hash.toHex(uncle.parentHash)}, which is not one of the block's ` +
          `ancestors 2 to ${generations} generations back`
      )
    }
    const error = HeaderRules.check(uncle, parent.header)
    if (error) return asUncle(block, index, error)
  }
  return undefined
}
