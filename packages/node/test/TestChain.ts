/**
 * Valid Frontier chains made in code for tests: a custom genesis and children that follow every
 * header rule, with knobs to break one rule at a time.
 */
import { Block, Hash, Header, HeaderRules } from "@ethsync/core"

/** Changes to a child's header, applied after its valid fields are worked out. */
export type Tweak = Partial<Header.Fields>

/** A genesis block of a test chain; `tag` goes into extraData so different tags give different chains. */
export const genesis = (tag = "ethsync test chain"): Block.Block =>
  Block.make(
    Header.make({
      parentHash: Hash.zero,
      uncleHash: Hash.emptyUnclesHash,
      coinbase: new Uint8Array(20),
      stateRoot: Hash.zero,
      transactionsRoot: Hash.emptyTrieRoot,
      receiptsRoot: Hash.emptyTrieRoot,
      logsBloom: new Uint8Array(256),
      difficulty: 131072n * 64n,
      number: 0,
      gasLimit: 5000n,
      gasUsed: 0n,
      timestamp: 0n,
      extraData: new TextEncoder().encode(tag),
      mixHash: Hash.zero,
      nonce: new Uint8Array(8)
    }),
    [],
    []
  )

/**
 * A valid child of `parent`, sealed `seconds` later (under 13 raises the difficulty, so a fast
 * fork outweighs a slow chain of the same length); `tweak` then overrides fields.
 */
export const child = (parent: Block.Block, seconds = 15n, tweak: Tweak = {}): Block.Block => {
  const timestamp = parent.header.timestamp + seconds
  return Block.make(
    Header.make({
      ...parent.header,
      parentHash: parent.hash,
      uncleHash: Hash.emptyUnclesHash,
      transactionsRoot: Hash.emptyTrieRoot,
      difficulty: HeaderRules.expectedDifficulty(parent.header, timestamp),
      number: parent.number + 1,
      timestamp,
      extraData: new Uint8Array(0),
      ...tweak
    }),
    [],
    []
  )
}

/** `count` valid blocks on top of `parent`, each `seconds` after the one before. */
export const extend = (parent: Block.Block, count: number, seconds = 15n): Array<Block.Block> => {
  const blocks: Array<Block.Block> = []
  let tip = parent
  for (let i = 0; i < count; i++) {
    tip = child(tip, seconds)
    blocks.push(tip)
  }
  return blocks
}

/** The `geth export` bytes of blocks: their RLP, concatenated. */
export const fileBytes = (blocks: ReadonlyArray<Block.Block>): Uint8Array => {
  const out = new Uint8Array(blocks.reduce((n, b) => n + b.rlp.length, 0))
  let at = 0
  for (const block of blocks) {
    out.set(block.rlp, at)
    at += block.rlp.length
  }
  return out
}

/** The total difficulty of the last of `blocks`, a chain from genesis. */
export const tdOf = (blocks: ReadonlyArray<Block.Block>): bigint => blocks.reduce((td, b) => td + b.header.difficulty, 0n)

/** The block re-made with some header fields changed (its body kept), so that it breaks a rule. */
export const spoil = (block: Block.Block, changes: Tweak): Block.Block =>
  Block.make(Header.make({ ...block.header, ...changes }), block.transactions, block.uncles)

/** A valid child of `parent` that includes `uncles` (its uncleHash commits to them). */
export const withUncles = (parent: Block.Block, uncles: ReadonlyArray<Header.Header>): Block.Block => {
  const header = child(parent).header
  return Block.make(Header.make({ ...header, uncleHash: Block.hashUncles(uncles) }), [], uncles)
}

/** A header valid against `parent`, told apart from its siblings by `tag`: an uncle to include. */
export const uncleOf = (parent: Block.Block, tag: number, tweak: Tweak = {}): Header.Header =>
  child(parent, 15n, { extraData: Uint8Array.of(tag), ...tweak }).header
