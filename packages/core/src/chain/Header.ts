/**
 * The Frontier block header: 15 fields, decoded strictly, hashed from the bytes it came in.
 *
 * @since 0.1.0
 */
import { BlockDecodeError } from "./BlockDecodeError.ts"
import * as Hash from "./Hash.ts"
import * as Rlp from "./Rlp.ts"

/** The 15 fields of a Frontier header, in wire order. */
export interface Fields {
  /** Hash of the parent block's header: the link that makes a chain. */
  readonly parentHash: Hash.Hash
  /** Keccak-256 of the RLP list of uncle headers. */
  readonly uncleHash: Hash.Hash
  /** The 20-byte address that receives the block reward. */
  readonly coinbase: Uint8Array
  /** Root of the state trie after this block. */
  readonly stateRoot: Hash.Hash
  /** Root of the ordered trie of this block's transactions. */
  readonly transactionsRoot: Hash.Hash
  /** Root of the ordered trie of this block's receipts. */
  readonly receiptsRoot: Hash.Hash
  /** 256-byte bloom filter of the receipts' logs. */
  readonly logsBloom: Uint8Array
  /** Proof-of-work difficulty of this block; summed, it gives the total difficulty. */
  readonly difficulty: bigint
  /** Height: the parent's number plus one. */
  readonly number: number
  /** Most gas the block's transactions may use. */
  readonly gasLimit: bigint
  /** Gas the block's transactions used. */
  readonly gasUsed: bigint
  /** Seconds since the Unix epoch when the block was sealed. */
  readonly timestamp: bigint
  /** Free bytes for the miner, at most 32. */
  readonly extraData: Uint8Array
  /** Ethash mix digest, part of the seal. */
  readonly mixHash: Hash.Hash
  /** 8-byte ethash nonce, part of the seal. */
  readonly nonce: Uint8Array
}

/** Longest extraData a Frontier header may carry. */
export const maxExtraData = 32

/** A header with its exact RLP bytes; its hash is computed from those bytes, once, when first asked. */
export class Header implements Fields {
  readonly parentHash: Hash.Hash
  readonly uncleHash: Hash.Hash
  readonly coinbase: Uint8Array
  readonly stateRoot: Hash.Hash
  readonly transactionsRoot: Hash.Hash
  readonly receiptsRoot: Hash.Hash
  readonly logsBloom: Uint8Array
  readonly difficulty: bigint
  readonly number: number
  readonly gasLimit: bigint
  readonly gasUsed: bigint
  readonly timestamp: bigint
  readonly extraData: Uint8Array
  readonly mixHash: Hash.Hash
  readonly nonce: Uint8Array
  /** The header's RLP, exactly as received or encoded: what the hash is taken over. */
  readonly rlp: Uint8Array
  /** The cached hash; computed on first use. */
  #hash: Hash.Hash | undefined
  /** The cached hash key; computed on first use. */
  #key: string | undefined

  constructor(fields: Fields, rlp: Uint8Array) {
    this.parentHash = fields.parentHash
    this.uncleHash = fields.uncleHash
    this.coinbase = fields.coinbase
    this.stateRoot = fields.stateRoot
    this.transactionsRoot = fields.transactionsRoot
    this.receiptsRoot = fields.receiptsRoot
    this.logsBloom = fields.logsBloom
    this.difficulty = fields.difficulty
    this.number = fields.number
    this.gasLimit = fields.gasLimit
    this.gasUsed = fields.gasUsed
    this.timestamp = fields.timestamp
    this.extraData = fields.extraData
    this.mixHash = fields.mixHash
    this.nonce = fields.nonce
    this.rlp = rlp
  }

  /** Keccak-256 of the header's RLP. */
  get hash(): Hash.Hash {
    return (this.#hash ??= Hash.keccak(this.rlp))
  }

  /** The hash's map key (see Hash.key), cached: blocks are looked up by it at every step. */
  get key(): string {
    return (this.#key ??= Hash.key(this.hash))
  }
}

/** Encodes fields into a header (computing its RLP); the inverse of {@link decode}. */
export const make = (fields: Fields): Header => new Header(fields, Rlp.encodeList(encodeFields(fields)))

/** The 15 encoded fields, in wire order. */
const encodeFields = (f: Fields): Array<Uint8Array> => [
  Rlp.encodeBytes(f.parentHash),
  Rlp.encodeBytes(f.uncleHash),
  Rlp.encodeBytes(f.coinbase),
  Rlp.encodeBytes(f.stateRoot),
  Rlp.encodeBytes(f.transactionsRoot),
  Rlp.encodeBytes(f.receiptsRoot),
  Rlp.encodeBytes(f.logsBloom),
  Rlp.encodeInteger(f.difficulty),
  Rlp.encodeInteger(f.number),
  Rlp.encodeInteger(f.gasLimit),
  Rlp.encodeInteger(f.gasUsed),
  Rlp.encodeInteger(f.timestamp),
  Rlp.encodeBytes(f.extraData),
  Rlp.encodeBytes(f.mixHash),
  Rlp.encodeBytes(f.nonce)
]

/** Bytes that end every header's RLP: mixHash (a 32-byte string, 33 bytes) and nonce (8 bytes, 9). */
const sealFieldsBytes = 33 + 9

/**
 * The RLP of the first 13 fields (all but mixHash and nonce): what the proof-of-work seal commits
 * to. Cut from the header's own RLP, not re-encoded: its list is long (a 0xf8+ prefix), and it
 * ends with the two seal fields, whose sizes decode and make both fix.
 */
export const encodeUnsealed = (header: Header): Uint8Array => {
  const rlp = header.rlp
  const payloadStart = 1 + rlp[0]! - 0xf7
  return Rlp.encodeList([rlp.subarray(payloadStart, rlp.length - sealFieldsBytes)])
}

/** Re-encodes a header from its fields (not from its cached bytes). */
export const encode = (header: Fields): Uint8Array => Rlp.encodeList(encodeFields(header))

/** The names of the 15 fields, in wire order, for error messages. */
const fieldNames = [
  "parentHash", "uncleHash", "coinbase", "stateRoot", "transactionsRoot", "receiptsRoot", "logsBloom",
  "difficulty", "number", "gasLimit", "gasUsed", "timestamp", "extraData", "mixHash", "nonce"
] as const

/**
 * Decodes the header list item at `item` of `bytes`. `path` names it in errors (`header`,
 * `uncles[3]`). Never throws: malformed input gives a BlockDecodeError naming the field.
 */
export const decodeItem = (bytes: Uint8Array, item: Rlp.Item, path: string): Header | BlockDecodeError => {
  if (!item.isList) return new BlockDecodeError({ field: path, reason: "expected a list of 15 fields, got a byte string" })
  const children = Rlp.readChildren(bytes, item)
  if (!Array.isArray(children)) {
    const name = fieldNames[children.index]
    return new BlockDecodeError({ field: name ? `${path}.${name}` : path, reason: children.error.message })
  }
  if (children.length !== 15) {
    return new BlockDecodeError({ field: path, reason: `expected 15 fields, got ${children.length}` })
  }
  const at = (i: number) => children[i]!
  const fixed = (i: number, size: number): Uint8Array | BlockDecodeError => {
    const child = at(i)
    const name = `${path}.${fieldNames[i]}`
    if (child.isList) return new BlockDecodeError({ field: name, reason: "expected bytes, got a list" })
    const value = Rlp.payload(bytes, child)
    if (value.length !== size) return new BlockDecodeError({ field: name, reason: `expected ${size} bytes, got ${value.length}` })
    return value
  }
  const integer = (i: number, maxBytes: number): bigint | BlockDecodeError => {
    const child = at(i)
    const name = `${path}.${fieldNames[i]}`
    if (child.isList) return new BlockDecodeError({ field: name, reason: "expected an integer, got a list" })
    const value = Rlp.payload(bytes, child)
    if (value.length > maxBytes) {
      return new BlockDecodeError({ field: name, reason: `integer of ${value.length} bytes exceeds ${maxBytes}` })
    }
    if (value.length > 0 && value[0] === 0) {
      return new BlockDecodeError({ field: name, reason: "integer is not minimal (leading zero byte)" })
    }
    let out = 0n
    for (const b of value) out = (out << 8n) | BigInt(b)
    return out
  }
  const hash = (i: number): Hash.Hash | BlockDecodeError => {
    const value = fixed(i, 32)
    return value instanceof BlockDecodeError ? value : Hash.makeUnsafe(value)
  }
  const parentHash = hash(0)
  if (parentHash instanceof BlockDecodeError) return parentHash
  const uncleHash = hash(1)
  if (uncleHash instanceof BlockDecodeError) return uncleHash
  const coinbase = fixed(2, 20)
  if (coinbase instanceof BlockDecodeError) return coinbase
  const stateRoot = hash(3)
  if (stateRoot instanceof BlockDecodeError) return stateRoot
  const transactionsRoot = hash(4)
  if (transactionsRoot instanceof BlockDecodeError) return transactionsRoot
  const receiptsRoot = hash(5)
  if (receiptsRoot instanceof BlockDecodeError) return receiptsRoot
  const logsBloom = fixed(6, 256)
  if (logsBloom instanceof BlockDecodeError) return logsBloom
  const difficulty = integer(7, 32)
  if (difficulty instanceof BlockDecodeError) return difficulty
  const number = integer(8, 8)
  if (number instanceof BlockDecodeError) return number
  if (number > BigInt(Number.MAX_SAFE_INTEGER)) {
    return new BlockDecodeError({ field: `${path}.number`, reason: `block number ${number} is beyond 2^53 - 1` })
  }
  const gasLimit = integer(9, 8)
  if (gasLimit instanceof BlockDecodeError) return gasLimit
  const gasUsed = integer(10, 8)
  if (gasUsed instanceof BlockDecodeError) return gasUsed
  const timestamp = integer(11, 8)
  if (timestamp instanceof BlockDecodeError) return timestamp
  const extra = at(12)
  if (extra.isList) return new BlockDecodeError({ field: `${path}.extraData`, reason: "expected bytes, got a list" })
  const extraData = Rlp.payload(bytes, extra)
  if (extraData.length > maxExtraData) {
    return new BlockDecodeError({ field: `${path}.extraData`, reason: `${extraData.length} bytes exceeds ${maxExtraData}` })
  }
  const mixHash = hash(13)
  if (mixHash instanceof BlockDecodeError) return mixHash
  const nonce = fixed(14, 8)
  if (nonce instanceof BlockDecodeError) return nonce
  return new Header({
    parentHash, uncleHash, coinbase, stateRoot, transactionsRoot, receiptsRoot, logsBloom, difficulty,
    number: Number(number), gasLimit, gasUsed, timestamp, extraData, mixHash, nonce
  }, Rlp.raw(bytes, item))
}

/** Decodes a header from exactly its RLP bytes. */
export const decode = (bytes: Uint8Array): Header | BlockDecodeError => {
  const item = Rlp.readSingle(bytes)
  if (item instanceof Rlp.RlpError) return new BlockDecodeError({ field: "header", reason: item.message })
  return decodeItem(bytes, item, "header")
}
