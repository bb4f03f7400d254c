/**
 * One valid test chain per process, generated once and shared: every scenario takes a prefix of it,
 * with its hash list and block map built once per length, so no hash is recomputed per peer or per
 * hop. The chain grows in fixed segments, so a prefix is the same blocks whatever the test order.
 *
 * @since 0.1.0
 */
import type { Block } from "@ethsync/core"
import { Effect } from "effect"
import { generate, testGenesis } from "./ChainGenerator.ts"
import * as HashList from "./HashList.ts"

/** Blocks by hash key: what a simulated peer can deliver. */
export type BlockMap = ReadonlyMap<string, Block.Block>

/** A chain from the test genesis: its blocks, hashes and block map. */
export interface TestChain {
  /** Genesis first, then blocks 1..length. */
  readonly blocks: ReadonlyArray<Block.Block>
  /** Number of blocks on top of the genesis. */
  readonly length: number
  /** The head block. */
  readonly head: Block.Block
  /** Every hash, newest first (the head at 0, the genesis last). */
  readonly hashes: HashList.HashList
  /** Every block (the genesis included) by hash key. */
  readonly blockMap: BlockMap
}

/** Blocks generated per segment; segment k is drawn with seed k + 1 on top of segment k - 1. */
const segment = 1024

/** The shared chain, genesis first; grows by whole segments. */
const shared: Array<Block.Block> = [testGenesis]

/** Chains handed out so far, by length. */
const byLength = new Map<number, TestChain>()

/** Blocks by key for `blocks`. */
export const blockMapOf = (blocks: Iterable<Block.Block>): Map<string, Block.Block> => {
  const map = new Map<string, Block.Block>()
  for (const block of blocks) map.set(block.key, block)
  return map
}

/** The shared chain's first `length` blocks on top of the genesis. */
export const make = (length: number): Effect.Effect<TestChain> =>
  Effect.gen(function*() {
    const known = byLength.get(length)
    if (known) return known
    while (shared.length <= length) {
      const seed = (shared.length - 1) / segment + 1
      shared.push(...(yield* generate(shared[shared.length - 1]!, segment, { seed })))
    }
    const blocks = shared.slice(0, length + 1)
    const chain: TestChain = {
      blocks,
      length,
      head: blocks[length]!,
      hashes: HashList.ofChain(blocks),
      blockMap: blockMapOf(blocks)
    }
    byLength.set(length, chain)
    return chain
  })
