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

/** A stored block as validation needs it: its header and total difficulty. */
export interface Known {
  /** The block's header. */
  readonly header: Header.Header
  /** Its total difficulty. */
  readonly td: bigint
}

/** A block that passed every rule, with its total difficulty. */
export interface Accepted {
  /** The block. */
  readonly block: Block.Block
  /** Its total difficulty. */
  readonly td: bigint
}

/** The outcome: the new blocks that passed, in order, and the first failure if any. */
export interface Outcome {
  /** Blocks to store (already-stored ones left out). */
  readonly accepted: ReadonlyArray<Accepted>
  /** The first refused block, if one was; nothing after it is accepted. */
  readonly failure: InsertFailed | undefined
}

/**
 * Checks `blocks` in order: a stored block is skipped; any other must have a known parent (stored
 * or accepted earlier in the batch) and pass the header and body rules. `lookup` reads the store
 * (given the hash and its map key, whichever suits the store)
 * synchronously. Only blocks with transactions cost an effect: their trie root.
 */
export const validate = (
  blocks: ReadonlyArray<Block.Block>,
  lookup: (hash: Hash.Hash, key: string) => Known | undefined
): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const accepted: Array<Accepted> = []
    const fresh = new Map<string, Known>()
    const find = (hash: Hash.Hash, key: string) => fresh.get(key) ?? lookup(hash, key)
    for (let index = 0; index < blocks.length; index++) {
      const block = blocks[index]!
      if (find(block.hash, block.key)) continue
      const refuse = (error: InvalidBlock): Outcome => ({ accepted, failure: new InsertFailed({ index, error }) })
      const parent = find(block.header.parentHash, Hash.key(block.header.parentHash))
      if (!parent) {
        return refuse(new InvalidBlock({
          rule: "unknownParent",
          number: block.number,
          hash: Hash.toHex(block.hash),
          reason: `parent ${Hash.toHex(block.header.parentHash)} is not known`
        }))
      }
      // Every block's body is checked, an empty one too: its header must name the empty trie root.
      const error = HeaderRules.check(block.header, parent.header) ?? BodyRules.checkWithoutTrie(block)
      if (error) return refuse(error)
      if (block.transactions.length > 0) {
        const body = yield* Effect.result(BodyRules.checkTransactions(block))
        if (Result.isFailure(body)) return refuse(body.failure)
      }
      const td = parent.td + block.header.difficulty
      fresh.set(block.key, { header: block.header, td })
      accepted.push({ block, td })
    }
    return { accepted, failure: undefined }
  })
