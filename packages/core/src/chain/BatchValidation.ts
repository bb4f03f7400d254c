/**
 * Checking a batch of blocks for insertion: shared by every ChainStore so that they all accept
 * exactly the same blocks.
 *
 * @since 0.1.0
 */
import { Effect, Result } from "effect"
import type * as Block from "./Block.ts"
import * as BodyRules from "./BodyRules.ts"
import { InsertFailed } from "./ChainStore.ts"
import * as Hash from "./Hash.ts"
import type * as Header from "./Header.ts"
import * as HeaderRules from "./HeaderRules.ts"
import { InvalidBlock } from "./InvalidBlock.ts"
import type * as SealVerifier from "./SealVerifier.ts"
import * as UncleRules from "./UncleRules.ts"

/**
 * A stored block as validation needs it: its header, the hash keys of its uncles (for the uncle
 * rules of the blocks after it) and its total difficulty.
 */
export interface Known extends UncleRules.Ancestor {
  /** Its total difficulty. */
  readonly td: bigint
}

/** A block that passed every rule, with its total difficulty. */
export interface Accepted {
  /** The block. */
  readonly block: Block.Block
  /** Its total difficulty. */
  readonly td: bigint
  /** Its index in the batch. */
  readonly index: number
}

/** The outcome: the new blocks that passed, in order, and the first failure if any. */
export interface Outcome {
  /** Blocks to store (already-stored ones left out). */
  readonly accepted: ReadonlyArray<Accepted>
  /** The first refused block, if one was; nothing after it is accepted. */
  readonly failure: InsertFailed | undefined
}

/** The uncle keys of a block without uncles (shared). */
const noUncles: ReadonlyArray<string> = []

/** The hash keys of a block's uncles, as {@link Known} keeps them. */
export const uncleKeys = (block: Block.Block): ReadonlyArray<string> =>
  block.uncles.length === 0 ? noUncles : block.uncles.map((uncle) => uncle.key)

/** The error of a block whose parent is neither stored nor earlier in the batch. */
const unknownParent = (block: Block.Block) =>
  new InvalidBlock({
    rule: "unknownParent",
    number: block.number,
    hash: Hash.toHex(block.hash),
    reason: `parent ${Hash.toHex(block.header.parentHash)} is not known`
  })

/**
 * Checks `blocks` in order: a stored block is skipped; any other must have a known parent (stored
 * or accepted earlier in the batch), pass the header, body and uncle rules, and then carry good
 * seals, its own and its uncles'. `lookup` reads the store (given the hash and its map key,
 * whichever suits the store) synchronously, and the height the block must be at when it is known
 * (a block's hash commits to its number), so that a store keyed by number finds it without an
 * index by hash: a block is looked for at its number, its parent and ancestors at the heights
 * below it (a parent not found there is looked for by hash alone, so that a block whose number
 * is wrong still meets its parent and fails the number rule). The rules of every block run
 * first, then `verifier` checks the seals of all the blocks that passed, and their uncles', in
 * one call. Only blocks with transactions cost an effect of their own: their trie root.
 */
export const validate = (
  blocks: ReadonlyArray<Block.Block>,
  lookup: (hash: Hash.Hash, key: string, number: number | undefined) => Known | undefined,
  verifier: SealVerifier.Shape
): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const accepted: Array<Accepted> = []
    const fresh = new Map<string, Known>()
    const find = (hash: Hash.Hash, key: string, number: number | undefined) => fresh.get(key) ?? lookup(hash, key, number)
    /** The nearest ancestors the uncle rules look at, starting with `parent`. */
    const ancestorsOf = (parent: Known): Array<Known> => {
      const ancestors = [parent]
      let header = parent.header
      while (ancestors.length < UncleRules.generations && header.number > 0) {
        const next = find(header.parentHash, Hash.key(header.parentHash), header.number - 1)
        if (!next) break
        ancestors.push(next)
        header = next.header
      }
      return ancestors
    }
    let failure: InsertFailed | undefined
    for (let index = 0; index < blocks.length; index++) {
      const block = blocks[index]!
      if (find(block.hash, block.key, block.number)) continue
      const parentKey = Hash.key(block.header.parentHash)
      const parent = (block.number > 0 ? find(block.header.parentHash, parentKey, block.number - 1) : undefined) ??
        find(block.header.parentHash, parentKey, undefined)
      if (!parent) {
        failure = new InsertFailed({ index, error: unknownParent(block) })
        break
      }
      // Every block's body is checked, an empty one too: its header must name the empty trie root.
      let error = HeaderRules.check(block.header, parent.header) ?? BodyRules.checkWithoutTrie(block) ??
        (block.uncles.length > 0 ? UncleRules.check(block, ancestorsOf(parent)) : undefined)
      if (!error && block.transactions.length > 0) {
        const body = yield* Effect.result(BodyRules.checkTransactions(block))
        if (Result.isFailure(body)) error = body.failure
      }
      if (error) {
        failure = new InsertFailed({ index, error })
        break
      }
      const td = parent.td + block.header.difficulty
      fresh.set(block.key, { header: block.header, uncles: uncleKeys(block), td })
      accepted.push({ block, td, index })
    }
    return yield* checkSeals(accepted, failure, verifier)
  })

/**
 * Checks the seals of the accepted blocks and their uncles in one call to `verifier`; cuts the
 * accepted blocks at the first whose seal, or one of whose uncles' seals, is bad.
 */
const checkSeals = (
  accepted: ReadonlyArray<Accepted>,
  failure: InsertFailed | undefined,
  verifier: SealVerifier.Shape
): Effect.Effect<Outcome> => {
  if (accepted.length === 0) return Effect.succeed({ accepted, failure })
  const headers: Array<Header.Header> = []
  /** For each header: the index in `accepted` of its block. */
  const owners: Array<number> = []
  /** For each header: which uncle of its block it is, or -1 for the block's own header. */
  const places: Array<number> = []
  for (let at = 0; at < accepted.length; at++) {
    const block = accepted[at]!.block
    headers.push(block.header)
    owners.push(at)
    places.push(-1)
    for (let uncle = 0; uncle < block.uncles.length; uncle++) {
      headers.push(block.uncles[uncle]!)
      owners.push(at)
      places.push(uncle)
    }
  }
  return Effect.map(verifier.verify(headers), (verdicts): Outcome => {
    const bad = verdicts.findIndex((verdict) => verdict !== undefined)
    if (bad < 0) return { accepted, failure }
    const owner = accepted[owners[bad]!]!
    const place = places[bad]!
    const error = place < 0 ? verdicts[bad]! : UncleRules.asUncle(owner.block, place, verdicts[bad]!)
    return { accepted: accepted.slice(0, owners[bad]!), failure: new InsertFailed({ index: owner.index, error }) }
  })
}
