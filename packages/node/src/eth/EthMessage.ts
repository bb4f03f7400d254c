/**
 * The eth/60 and eth/61 messages as a tagged union, with their strict decoder and their encoder.
 *
 * Decoding reads the payload once, in place (canonical RLP through the core reader, exact field
 * counts, 32-byte hashes, bounded integers, blocks through `Block.decodeItem` so their hashes
 * come from their bytes) and returns a tagged error, never throws. Decoded hashes and blocks are
 * views into the payload: the transport must not reuse a payload's buffer once it is handed over.
 *
 * @since 0.2.0
 */
import { type Block, type Hash, Rlp } from "@ethsync/core"
import { Data, Result } from "effect"
import * as EthVersion from "./EthVersion.ts"
import * as FieldReader from "./FieldReader.ts"
import { type DecodeError, MalformedMessage, MessageTooLarge, UnknownMessageCode } from "./MessageError.ts"

/** An eth/60-61 message. */
export type EthMessage = Data.TaggedEnum<{
  /** The first message both ways: a different version, network or genesis ends the connection. */
  Status: {
    /** The eth version the sender speaks on this connection. */
    readonly protocolVersion: number
    /** The network (1 for mainnet). */
    readonly networkId: number
    /** The total difficulty of the sender's head. */
    readonly td: bigint
    /** The sender's head block hash. */
    readonly bestHash: Hash.Hash
    /** The sender's genesis block hash. */
    readonly genesisHash: Hash.Hash
  }
  /** An announcement of new blocks by hash. */
  NewBlockHashes: {
    /** The announced hashes. */
    readonly hashes: ReadonlyArray<Hash.Hash>
  }
  /** Transaction gossip, ignored by ethsync but checked to be well-formed RLP. */
  Transactions: {
    /** Each transaction's complete RLP item, not decoded further. */
    readonly transactions: ReadonlyArray<Uint8Array>
  }
  /** "Send up to `max` hashes of the ancestors of `hash`, newest first, starting with its parent." */
  GetBlockHashes: {
    /** The block whose ancestors are asked for. */
    readonly hash: Hash.Hash
    /** How many hashes at most. */
    readonly max: number
  }
  /** The answer to GetBlockHashes and GetBlockHashesFromNumber. */
  BlockHashes: {
    /** The hashes, in the order the request defines. */
    readonly hashes: ReadonlyArray<Hash.Hash>
  }
  /** "Send the blocks with these hashes." */
  GetBlocks: {
    /** The hashes asked for, in the order the answer keeps. */
    readonly hashes: ReadonlyArray<Hash.Hash>
  }
  /** The answer to GetBlocks. */
  Blocks: {
    /** The blocks, each with its hash computed from its bytes. */
    readonly blocks: ReadonlyArray<Block.Block>
  }
  /** The propagation of a new block with the sender's total difficulty for it. */
  NewBlock: {
    /** The block. */
    readonly block: Block.Block
    /** Its total difficulty, as the sender claims it. */
    readonly td: bigint
  }
  /** (eth/61 only) "Send the hashes of blocks `number` .. `number + amount - 1`, ascending." */
  GetBlockHashesFromNumber: {
    /** The first block number asked for. */
    readonly number: number
    /** How many hashes at most. */
    readonly amount: number
  }
}>

/** Constructors of each message, by name. */
export const {
  BlockHashes,
  Blocks,
  GetBlockHashes,
  GetBlockHashesFromNumber,
  GetBlocks,
  NewBlock,
  NewBlockHashes,
  Status,
  Transactions
} = Data.taggedEnum<EthMessage>()

/** The Status message. */
export type Status = Data.TaggedEnum.Value<EthMessage, "Status">
/** The NewBlockHashes message. */
export type NewBlockHashes = Data.TaggedEnum.Value<EthMessage, "NewBlockHashes">
/** The Transactions message. */
export type Transactions = Data.TaggedEnum.Value<EthMessage, "Transactions">
/** The GetBlockHashes message. */
export type GetBlockHashes = Data.TaggedEnum.Value<EthMessage, "GetBlockHashes">
/** The BlockHashes message. */
export type BlockHashes = Data.TaggedEnum.Value<EthMessage, "BlockHashes">
/** The GetBlocks message. */
export type GetBlocks = Data.TaggedEnum.Value<EthMessage, "GetBlocks">
/** The Blocks message. */
export type Blocks = Data.TaggedEnum.Value<EthMessage, "Blocks">
/** The NewBlock message. */
export type NewBlock = Data.TaggedEnum.Value<EthMessage, "NewBlock">
/** The GetBlockHashesFromNumber message. */
export type GetBlockHashesFromNumber = Data.TaggedEnum.Value<EthMessage, "GetBlockHashesFromNumber">

/** Each message's code, relative to where the eth capability starts on the connection. */
export const codes = {
  Status: 0x00,
  NewBlockHashes: 0x01,
  Transactions: 0x02,
  GetBlockHashes: 0x03,
  BlockHashes: 0x04,
  GetBlocks: 0x05,
  Blocks: 0x06,
  NewBlock: 0x07,
  GetBlockHashesFromNumber: 0x08
} as const satisfies Record<EthMessage["_tag"], number>

/** Message names by code. */
const kinds: ReadonlyArray<EthMessage["_tag"]> = (() => {
  const out: Array<EthMessage["_tag"]> = []
  for (const [kind, code] of Object.entries(codes)) out[code] = kind as EthMessage["_tag"]
  return out
})()

/** The most bytes a message's payload may have: 10 MiB. */
export const maxPayload = 10 * 1024 * 1024

/** Most bytes of the version and network id fields (uint32, as go-ethereum 1.0 reads them). */
const uint32Bytes = 4
/** Most bytes of block numbers and counts (uint64 on the wire). */
const uint64Bytes = 8
/** Most bytes of a total difficulty (a 256-bit integer). */
const tdBytes = 32

/** A message as the transport carries it: its code (relative to the eth capability) and RLP payload. */
export interface Encoded {
  /** The message code. */
  readonly code: number
  /** The RLP payload. */
  readonly payload: Uint8Array
}

/**
 * Decodes a message of the negotiated `version` from its code and payload. Fails with
 * UnknownMessageCode for a code that version lacks, MessageTooLarge past 10 MiB, and
 * MalformedMessage naming the field for anything else wrong. Linear in the payload's size.
 */
export const decode = (version: EthVersion.EthVersion, code: number, payload: Uint8Array): Result.Result<EthMessage, DecodeError> => {
  const kind = Number.isInteger(code) && code >= 0 && code < EthVersion.codeCount(version) ? kinds[code] : undefined
  if (kind === undefined) return Result.fail(new UnknownMessageCode({ version, code }))
  if (payload.length > maxPayload) return Result.fail(new MessageTooLarge({ code, size: payload.length, limit: maxPayload }))
  const source: FieldReader.Source = { bytes: payload, kind }
  const top = FieldReader.payloadList(source)
  const decoded = top instanceof MalformedMessage ? top : decoders[kind](source, top)
  return decoded instanceof MalformedMessage ? Result.fail(decoded) : Result.succeed(decoded)
}

/** Reads one message's fields from its payload list. */
type Decoder = (source: FieldReader.Source, top: Rlp.Item) => EthMessage | MalformedMessage

/** A list of hashes as the whole payload. */
const hashList = (make: (hashes: ReadonlyArray<Hash.Hash>) => EthMessage): Decoder => (source, top) => {
  const hashes = FieldReader.hashes(source, top, "hashes")
  return hashes instanceof MalformedMessage ? hashes : make(hashes)
}

/** The decoder of each message. */
const decoders: Record<EthMessage["_tag"], Decoder> = {
  Status: (source, top) => {
    const items = FieldReader.fields(source, top, "payload", ["protocolVersion", "networkId", "td", "bestHash", "genesisHash"])
    if (items instanceof MalformedMessage) return items
    const protocolVersion = FieldReader.safeUint(source, items[0]!, "protocolVersion", uint32Bytes)
    if (protocolVersion instanceof MalformedMessage) return protocolVersion
    const networkId = FieldReader.safeUint(source, items[1]!, "networkId", uint32Bytes)
    if (networkId instanceof MalformedMessage) return networkId
    const td = FieldReader.uint(source, items[2]!, "td", tdBytes)
    if (td instanceof MalformedMessage) return td
    const bestHash = FieldReader.hash(source, items[3]!, "bestHash")
    if (bestHash instanceof MalformedMessage) return bestHash
    const genesisHash = FieldReader.hash(source, items[4]!, "genesisHash")
    if (genesisHash instanceof MalformedMessage) return genesisHash
    return Status({ protocolVersion, networkId, td, bestHash, genesisHash })
  },
  NewBlockHashes: hashList((hashes) => NewBlockHashes({ hashes })),
  Transactions: (source, top) => {
    const transactions = FieldReader.opaqueItems(source, top, "transactions")
    return transactions instanceof MalformedMessage ? transactions : Transactions({ transactions })
  },
  GetBlockHashes: (source, top) => {
    const items = FieldReader.fields(source, top, "payload", ["hash", "max"])
    if (items instanceof MalformedMessage) return items
    const hash = FieldReader.hash(source, items[0]!, "hash")
    if (hash instanceof MalformedMessage) return hash
    const max = FieldReader.safeUint(source, items[1]!, "max", uint64Bytes)
    return max instanceof MalformedMessage ? max : GetBlockHashes({ hash, max })
  },
  BlockHashes: hashList((hashes) => BlockHashes({ hashes })),
  GetBlocks: hashList((hashes) => GetBlocks({ hashes })),
  Blocks: (source, top) => {
    const items = FieldReader.children(source, top, "blocks")
    if (items instanceof MalformedMessage) return items
    const blocks: Array<Block.Block> = []
    for (let i = 0; i < items.length; i++) {
      const decoded = FieldReader.block(source, items[i]!, `blocks[${i}]`)
      if (decoded instanceof MalformedMessage) return decoded
      blocks.push(decoded)
    }
    return Blocks({ blocks })
  },
  NewBlock: (source, top) => {
    const items = FieldReader.fields(source, top, "payload", ["block", "td"])
    if (items instanceof MalformedMessage) return items
    const decoded = FieldReader.block(source, items[0]!, "block")
    if (decoded instanceof MalformedMessage) return decoded
    const td = FieldReader.uint(source, items[1]!, "td", tdBytes)
    return td instanceof MalformedMessage ? td : NewBlock({ block: decoded, td })
  },
  GetBlockHashesFromNumber: (source, top) => {
    const items = FieldReader.fields(source, top, "payload", ["number", "amount"])
    if (items instanceof MalformedMessage) return items
    const number = FieldReader.safeUint(source, items[0]!, "number", uint64Bytes)
    if (number instanceof MalformedMessage) return number
    const amount = FieldReader.safeUint(source, items[1]!, "amount", uint64Bytes)
    return amount instanceof MalformedMessage ? amount : GetBlockHashesFromNumber({ number, amount })
  }
}

/** The RLP list of `hashes`, written in one pass (each hash is its 0xa0 prefix and 32 bytes). */
const encodeHashes = (hashes: ReadonlyArray<Hash.Hash>): Uint8Array => {
  const items = new Uint8Array(hashes.length * 33)
  for (let i = 0; i < hashes.length; i++) {
    items[i * 33] = 0xa0
    items.set(hashes[i]!, i * 33 + 1)
  }
  return Rlp.encodeList([items])
}

/** The payload of a message. */
const encodePayload = (message: EthMessage): Uint8Array => {
  switch (message._tag) {
    case "Status":
      return Rlp.encodeList([
        Rlp.encodeInteger(message.protocolVersion),
        Rlp.encodeInteger(message.networkId),
        Rlp.encodeInteger(message.td),
        Rlp.encodeBytes(message.bestHash),
        Rlp.encodeBytes(message.genesisHash)
      ])
    case "NewBlockHashes":
    case "BlockHashes":
    case "GetBlocks":
      return encodeHashes(message.hashes)
    case "Transactions":
      return Rlp.encodeList(message.transactions)
    case "GetBlockHashes":
      return Rlp.encodeList([Rlp.encodeBytes(message.hash), Rlp.encodeInteger(message.max)])
    case "Blocks":
      return Rlp.encodeList(message.blocks.map((b) => b.rlp))
    case "NewBlock":
      return Rlp.encodeList([message.block.rlp, Rlp.encodeInteger(message.td)])
    case "GetBlockHashesFromNumber":
      return Rlp.encodeList([Rlp.encodeInteger(message.number), Rlp.encodeInteger(message.amount)])
  }
}

/** Encodes a message: its code and payload (blocks as their exact bytes, not re-encoded). */
export const encode = (message: EthMessage): Encoded => ({ code: codes[message._tag], payload: encodePayload(message) })

/**
 * A Blocks message made straight from blocks' stored RLP, without decoding them: how a server
 * answers GetBlocks. Each item must be a block's complete RLP, as a ChainStore's `blockRlps` gives.
 */
export const encodeStoredBlocks = (rlps: ReadonlyArray<Uint8Array>): Encoded => ({ code: codes.Blocks, payload: Rlp.encodeList(rlps) })
