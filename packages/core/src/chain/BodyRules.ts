/**
 * The rules that tie a block's body to its header: the uncle hash and the transactions root.
 *
 * @since 0.1.0
 */
import { createMPT } from "@ethereumjs/mpt"
import { Effect } from "effect"
import type * as Block from "./Block.ts"
import * as Hash from "./Hash.ts"
import { InvalidBlock } from "./InvalidBlock.ts"
import * as Rlp from "./Rlp.ts"

/**
 * Root of the ordered Merkle-Patricia trie of transactions (key rlp(index), value the
 * transaction's RLP), computed with @ethereumjs/mpt. The empty list needs no trie.
 */
export const transactionsRoot = (transactions: ReadonlyArray<Uint8Array>): Effect.Effect<Hash.Hash> =>
  transactions.length === 0
    ? Effect.succeed(Hash.emptyTrieRoot)
    : Effect.promise(async () => {
      const trie = await createMPT()
      for (let i = 0; i < transactions.length; i++) await trie.put(Rlp.encodeInteger(i), transactions[i]!)
      return Hash.makeUnsafe(trie.root())
    })

/** The header's uncleHash is keccak-256 of the RLP of the uncle list (hashed once per block: see Block.unclesHash). */
export const uncleHash = (block: Block.Block): InvalidBlock | undefined => {
  const actual = block.unclesHash
  return Hash.equals(actual, block.header.uncleHash) ? undefined : new InvalidBlock({
    rule: "uncleHash",
    number: block.number,
    hash: Hash.toHex(block.hash),
    reason: `uncleHash ${Hash.toHex(block.header.uncleHash)}, but the uncles hash to ${Hash.toHex(actual)}`
  })
}

/** The transactions root named in the header is `root`. */
const rootMatches = (block: Block.Block, root: Hash.Hash): InvalidBlock | undefined =>
  Hash.equals(root, block.header.transactionsRoot) ? undefined : new InvalidBlock({
    rule: "transactionsRoot",
    number: block.number,
    hash: Hash.toHex(block.hash),
    reason: `transactionsRoot ${Hash.toHex(block.header.transactionsRoot)}, but the transactions give ${Hash.toHex(root)}`
  })

/**
 * The body rules that need no trie, checked at once: the uncle hash, and for a block without
 * transactions the empty-trie root. Blocks with transactions still need {@link checkTransactions}.
 */
export const checkWithoutTrie = (block: Block.Block): InvalidBlock | undefined =>
  uncleHash(block) ?? (block.transactions.length === 0 ? rootMatches(block, Hash.emptyTrieRoot) : undefined)

/** The transactions root of a block with transactions, from its trie (built once: see Block.transactionsRoot). */
export const checkTransactions = (block: Block.Block): Effect.Effect<void, InvalidBlock> =>
  Effect.flatMap(block.transactionsRoot ? Effect.succeed(block.transactionsRoot) : transactionsRoot(block.transactions), (root) => {
    const error = rootMatches(block, root)
    return error ? Effect.fail(error) : Effect.void
  })

/** Both body rules: the uncle hash, then the transactions root. */
export const check = (block: Block.Block): Effect.Effect<void, InvalidBlock> => {
  const error = checkWithoutTrie(block)
  if (error) return Effect.fail(error)
  return block.transactions.length === 0 ? Effect.void : checkTransactions(block)
}
