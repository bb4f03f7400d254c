/**
 * The Frontier block, `rlp([header, transactions, uncles])`: decoded strictly, encoded back to the
 * identical bytes, identified by its header's hash.
 *
 * @since 0.1.0
 */
import { Result } from "effect"
import { BlockDecodeError } from "./BlockDecodeError.ts"
import * as Hash from "./Hash.ts"
import * as Header from "./Header.ts"
import * as Rlp from "./Rlp.ts"

/** Fields of a Frontier transaction: nonce, gasPrice, gasLimit, to, value, data, v, r, s. */
export const transactionFields = 9

/** A block: header, transactions kept as raw RLP (they are not executed here), uncle headers. */
export class Block {
  /** The header, which carries the block's identity (its hash) and its links. */
  readonly header: Header.Header
  /** Each transaction's complete RLP item, kept as bytes. */
  readonly transactions: ReadonlyArray<Uint8Array>
  /** Headers of the uncles this block includes. */
  readonly uncles: ReadonlyArray<Header.Header>
  /** The block's RLP, exactly as received or encoded: what goes on the wire and to disk. */
  readonly rlp: Uint8Array
  /** The hash of the uncle list once computed: matching a body to its header and the body rules at insert hash it once. */
  #unclesHash: Hash.Hash | undefined
  /**
   * The root of the transactions' trie when whoever built the block computed it (matching a body
   * to its header): the body rules at insert take it rather than build the trie again.
   */
  readonly transactionsRoot: Hash.Hash | undefined

  /**
   * `unclesHash`, when given, is {@link hashUncles} of `uncles`, and `transactionsRoot` the root of
   * the trie of `transactions`, which the caller has computed.
   */
  constructor(
    header: Header.Header,
    transactions: ReadonlyArray<Uint8Array>,
    uncles: ReadonlyArray<Header.Header>,
    rlp: Uint8Array,
    unclesHash?: Hash.Hash,
    transactionsRoot?: Hash.Hash
  ) {
    this.header = header
    this.transactions = transactions
    this.uncles = uncles
    this.rlp = rlp
    this.#unclesHash = unclesHash
    this.transactionsRoot = transactionsRoot
  }

  /** keccak-256 of the RLP of the uncle list, which the header's uncleHash must be: computed once. */
  get unclesHash(): Hash.Hash {
    return (this.#unclesHash ??= hashUncles(this.uncles))
  }

  /** The block's hash: its header's. */
  get hash(): Hash.Hash {
    return this.header.hash
  }

  /** The block's hash key (see Hash.key): its header's, cached. */
  get key(): string {
    return this.header.key
  }

  /** The block's number: its header's. */
  get number(): number {
    return this.header.number
  }
}

/** Builds a block from its parts: its RLP is their bytes copied once under the list prefixes, nothing re-encoded. */
export const make = (header: Header.Header, transactions: ReadonlyArray<Uint8Array>, uncles: ReadonlyArray<Header.Header>): Block =>
  new Block(header, transactions, uncles, Rlp.encodeList([header.rlp, transactions, uncleRlps(uncles)]))

/** What a block is made of: its header and its body, and the hash of its uncle list when the caller has it. */
export interface Parts {
  /** The header. */
  readonly header: Header.Header
  /** Each transaction's complete RLP item. */
  readonly transactions: ReadonlyArray<Uint8Array>
  /** The uncle headers. */
  readonly uncles: ReadonlyArray<Header.Header>
  /** {@link hashUncles} of `uncles`, when already computed. */
  readonly unclesHash?: Hash.Hash | undefined
  /** The root of the trie of `transactions`, when already computed. */
  readonly transactionsRoot?: Hash.Hash | undefined
}

/**
 * Builds blocks as {@link make} does, their RLPs written into one buffer: one allocation for them
 * all, as blocks cut from one message share its buffer (LMDB's writer also looks each buffer's
 * address up once, not each block's).
 */
export const makeAll = (parts: ReadonlyArray<Parts>): Array<Block> => {
  const rlps = Rlp.encodeLists(parts.map((part) => [part.header.rlp, part.transactions, uncleRlps(part.uncles)]))
  return parts.map((part, i) => new Block(part.header, part.transactions, part.uncles, rlps[i]!, part.unclesHash, part.transactionsRoot))
}

/** The uncle list of a block without uncles (shared). */
const noUncles: ReadonlyArray<Uint8Array> = []

/** The RLP of each uncle header. */
const uncleRlps = (uncles: ReadonlyArray<Header.Header>): ReadonlyArray<Uint8Array> =>
  uncles.length === 0 ? noUncles : uncles.map((uncle) => uncle.rlp)

/** RLP of the uncle list (what the header's uncleHash commits to). */
const encodeUncles = (uncles: ReadonlyArray<Header.Header>): Uint8Array => Rlp.encodeList(uncleRlps(uncles))

/** keccak-256 of the RLP of an uncle list: what the uncleHash of the header of a block with these uncles is. */
export const hashUncles = (uncles: ReadonlyArray<Header.Header>): Hash.Hash =>
  uncles.length === 0 ? Hash.emptyUnclesHash : Hash.keccak(encodeUncles(uncles))

/** The RLP of a block's body, `[transactions, uncles]`, from its parts' bytes (nothing re-encoded but the lists around them). */
export const bodyRlp = (body: Pick<Block, "transactions" | "uncles">): Uint8Array =>
  Rlp.encodeList([body.transactions, uncleRlps(body.uncles)])

/** Re-encodes a block from its fields, not from its cached bytes: decoding then encoding gives the input back. */
export const encode = (block: Block): Uint8Array =>
  Rlp.encodeList([
    Header.encode(block.header),
    block.transactions,
    block.uncles.map(Header.encode)
  ])

/** The names of the block list's 3 items, for errors in their RLP. */
const partNames = ["header", "transactions", "uncles"] as const

/**
 * Decodes the block item at `item` of `bytes` without copying: the block keeps views into the
 * input. Never throws.
 */
export const decodeItem = (bytes: Uint8Array, item: Rlp.Item): Block | BlockDecodeError => {
  if (!item.isList) return new BlockDecodeError({ field: "block", reason: "expected a list of 3 items, got a byte string" })
  const parts = Rlp.readChildren(bytes, item)
  if (!Array.isArray(parts)) {
    return new BlockDecodeError({ field: partNames[parts.index] ?? "block", reason: parts.error.message })
  }
  if (parts.length !== 3) return new BlockDecodeError({ field: "block", reason: `expected 3 items, got ${parts.length}` })
  const header = Header.decodeItem(bytes, parts[0]!, "header")
  if (header instanceof BlockDecodeError) return header
  const transactions = decodeTransactions(bytes, parts[1]!)
  if (transactions instanceof BlockDecodeError) return transactions
  const uncleList = parts[2]!
  if (!uncleList.isList) return new BlockDecodeError({ field: "uncles", reason: "expected a list, got a byte string" })
  const uncleItems = Rlp.readChildren(bytes, uncleList)
  if (!Array.isArray(uncleItems)) {
    return new BlockDecodeError({ field: `uncles[${uncleItems.index}]`, reason: uncleItems.error.message })
  }
  const uncles: Array<Header.Header> = []
  for (let i = 0; i < uncleItems.length; i++) {
    const uncle = Header.decodeItem(bytes, uncleItems[i]!, `uncles[${i}]`)
    if (uncle instanceof BlockDecodeError) return uncle
    uncles.push(uncle)
  }
  return new Block(header, transactions, uncles, Rlp.raw(bytes, item))
}

const decodeTransactions = (bytes: Uint8Array, list: Rlp.Item): Array<Uint8Array> | BlockDecodeError => {
  if (!list.isList) return new BlockDecodeError({ field: "transactions", reason: "expected a list, got a byte string" })
  const items = Rlp.readChildren(bytes, list)
  if (!Array.isArray(items)) {
    return new BlockDecodeError({ field: `transactions[${items.index}]`, reason: items.error.message })
  }
  const out: Array<Uint8Array> = []
  for (let i = 0; i < items.length; i++) {
    const tx = items[i]!
    const field = `transactions[${i}]`
    if (!tx.isList) return new BlockDecodeError({ field, reason: "expected a list, got a byte string" })
    const txFields = Rlp.readList(bytes, tx)
    if (txFields instanceof Rlp.RlpError) return new BlockDecodeError({ field, reason: txFields.message })
    if (txFields.length !== transactionFields) {
      return new BlockDecodeError({ field, reason: `expected ${transactionFields} fields, got ${txFields.length}` })
    }
    const deep = Rlp.validateDeep(bytes, tx)
    if (deep) return new BlockDecodeError({ field, reason: deep.message })
    out.push(Rlp.raw(bytes, tx))
  }
  return out
}

/** Decodes a block from exactly its RLP bytes (nothing before or after). */
export const decode = (bytes: Uint8Array): Result.Result<Block, BlockDecodeError> => {
  const item = Rlp.readSingle(bytes)
  if (item instanceof Rlp.RlpError) return Result.fail(new BlockDecodeError({ field: "block", reason: item.message }))
  const block = decodeItem(bytes, item)
  return block instanceof BlockDecodeError ? Result.fail(block) : Result.succeed(block)
}
