/**
 * Small builders of valid Frontier blocks for tests: children that pass every header rule, forks,
 * and sample transactions.
 */
import { RLP } from "@ethereumjs/rlp"
import * as Block from "../../src/chain/Block.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Header from "../../src/chain/Header.ts"
import * as HeaderRules from "../../src/chain/HeaderRules.ts"

/** The 15 fields of a header, without its bytes, ready to be changed and re-made. */
export const fieldsOf = (h: Header.Fields): Header.Fields => ({
  parentHash: h.parentHash,
  uncleHash: h.uncleHash,
  coinbase: h.coinbase,
  stateRoot: h.stateRoot,
  transactionsRoot: h.transactionsRoot,
  receiptsRoot: h.receiptsRoot,
  logsBloom: h.logsBloom,
  difficulty: h.difficulty,
  number: h.number,
  gasLimit: h.gasLimit,
  gasUsed: h.gasUsed,
  timestamp: h.timestamp,
  extraData: h.extraData,
  mixHash: h.mixHash,
  nonce: h.nonce
})

/** How a child differs from the default (15 s after its parent, empty body, same gas limit). */
export interface ChildOptions {
  /** Seconds after the parent: under 13 raises the difficulty, 13 or more lowers it. */
  readonly seconds?: bigint
  /** Distinguishes siblings that would otherwise be identical. */
  readonly extraData?: Uint8Array
  readonly transactions?: ReadonlyArray<Uint8Array>
  /** The transactions root to state; the empty trie's root unless given. */
  readonly transactionsRoot?: Hash.Hash
  readonly uncles?: ReadonlyArray<Header.Header>
}

/** A header that passes every header rule against `parent` and commits to the given body. */
export const childHeader = (parent: Header.Header, options: ChildOptions = {}): Header.Header => {
  const timestamp = parent.timestamp + (options.seconds ?? 15n)
  const uncles = options.uncles ?? []
  return Header.make({
    ...fieldsOf(parent),
    parentHash: parent.hash,
    uncleHash: Block.hashUncles(uncles),
    transactionsRoot: options.transactionsRoot ?? Hash.emptyTrieRoot,
    difficulty: HeaderRules.expectedDifficulty(parent, timestamp),
    number: parent.number + 1,
    gasUsed: 0n,
    timestamp,
    extraData: options.extraData ?? new Uint8Array(0)
  })
}

/** A block that passes every header and body rule against `parent` (give the right root for transactions). */
export const childBlock = (parent: Block.Block, options: ChildOptions = {}): Block.Block =>
  Block.make(childHeader(parent.header, options), options.transactions ?? [], options.uncles ?? [])

/** `count` valid blocks on top of `from`, each built with the same options. */
export const chain = (from: Block.Block, count: number, options: ChildOptions = {}): Array<Block.Block> => {
  const out: Array<Block.Block> = []
  let parent = from
  for (let i = 0; i < count; i++) {
    parent = childBlock(parent, options)
    out.push(parent)
  }
  return out
}

/** A Frontier transaction, `rlp([nonce, gasPrice, gasLimit, to, value, data, v, r, s])`. */
export const transaction = (nonce: bigint, data: Uint8Array = new Uint8Array(0)): Uint8Array =>
  RLP.encode([
    nonce,
    50_000_000_000n,
    21_000n,
    new Uint8Array(20).fill(0xaa),
    1_000_000_000_000_000_000n,
    data,
    27n,
    new Uint8Array(32).fill(0x11),
    new Uint8Array(32).fill(0x22)
  ])

/** Byte-wise equality that vitest reports readably: compares hex text. */
export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")
