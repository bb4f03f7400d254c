/**
 * The eth/62-68 messages as a tagged union, with their strict decoder and their encoder: the
 * header-first family that every client since 2015 speaks. eth/63 adds receipts and node data,
 * eth/64 the fork id in Status, eth/65 the pooled-transaction messages, eth/66 the request id that
 * wraps every request and its answer as `[requestId, payload]`, eth/67 drops node data, and eth/68
 * announces each pooled transaction's type and size.
 *
 * Decoding reads the payload once, in place, as strictly as the eth/60-61 decoder (canonical RLP,
 * exact field counts, 32-byte hashes, bounded integers, headers and blocks hashed from their bytes)
 * and returns a tagged error, never throws. Decoded values are views into the payload.
 *
 * @since 0.2.0
 */
import { Block, type Hash, type Header, Rlp } from "@ethsync/core"
import { Data, Result } from "effect"
import * as FieldReader from "./FieldReader.ts"
import type { ForkId } from "./ForkId.ts"
import * as HeaderFirstVersion from "./HeaderFirstVersion.ts"
import { type DecodeError, MalformedMessage, MessageTooLarge, UnknownMessageCode } from "./MessageError.ts"

/** The id an eth/66+ request carries and its answer repeats; undefined before eth/66, which has none. */
export type RequestId = bigint | undefined

/** One block announced by NewBlockHashes. */
export interface Announcement {
  /** The block's hash. */
  readonly hash: Hash.Hash
  /** Its number. */
  readonly number: number
}

/** A block's body as BlockBodies carries it. */
export interface Body {
  /** Each transaction's complete RLP item, not decoded further. */
  readonly transactions: ReadonlyArray<Uint8Array>
  /** The uncle headers, each hashed from its bytes. */
  readonly uncles: ReadonlyArray<Header.Header>
}

/** What eth/68 adds to each announced pooled transaction. */
export interface TypedAnnouncement {
  /** Each transaction's type, one byte per announced hash. */
  readonly types: Uint8Array
  /** Each transaction's encoded size in bytes, one per announced hash. */
  readonly sizes: ReadonlyArray<number>
}

/** An eth/62-68 message. */
export type HeaderFirstMessage = Data.TaggedEnum<{
  /** The first message both ways: a different version, network, genesis or fork ends the connection. */
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
    /** The sender's EIP-2124 fork id (eth/64 and later); undefined before eth/64. */
    readonly forkId: ForkId | undefined
  }
  /** An announcement of new blocks by hash and number. */
  NewBlockHashes: {
    /** The announced blocks. */
    readonly announcements: ReadonlyArray<Announcement>
  }
  /** Transaction gossip, ignored by ethsync but checked to be well-formed RLP. */
  Transactions: {
    /** Each transaction's complete RLP item, not decoded further. */
    readonly transactions: ReadonlyArray<Uint8Array>
  }
  /** "Send up to `amount` headers from `origin`, every `skip + 1`-th, towards the genesis when `reverse`." */
  GetBlockHeaders: {
    /** The request id (eth/66+). */
    readonly requestId: RequestId
    /** The first header asked for: by hash, or by number on the canonical chain. */
    readonly origin: Hash.Hash | number
    /** How many headers at most. */
    readonly amount: number
    /** How many blocks to leave out between two headers. */
    readonly skip: number
    /** Whether the headers go down towards the genesis rather than up. */
    readonly reverse: boolean
  }
  /** The answer to GetBlockHeaders. */
  BlockHeaders: {
    /** The id of the request answered (eth/66+). */
    readonly requestId: RequestId
    /** The headers, each hashed from its bytes. */
    readonly headers: ReadonlyArray<Header.Header>
  }
  /** "Send the bodies of the blocks with these hashes." */
  GetBlockBodies: {
    /** The request id (eth/66+). */
    readonly requestId: RequestId
    /** The hashes asked for, in the order the answer keeps. */
    readonly hashes: ReadonlyArray<Hash.Hash>
  }
  /** The answer to GetBlockBodies. */
  BlockBodies: {
    /** The id of the request answered (eth/66+). */
    readonly requestId: RequestId
    /** The bodies, in request order, unknown blocks left out. */
    readonly bodies: ReadonlyArray<Body>
  }
  /** The propagation of a new block with the sender's total difficulty for it. */
  NewBlock: {
    /** The block. */
    readonly block: Block.Block
    /** Its total difficulty, as the sender claims it. */
    readonly td: bigint
  }
  /** (eth/65+) An announcement of transactions in the sender's pool. */
  NewPooledTransactionHashes: {
    /** The announced transactions' hashes. */
    readonly hashes: ReadonlyArray<Hash.Hash>
    /** Their types and sizes (eth/68); undefined before eth/68. */
    readonly typed: TypedAnnouncement | undefined
  }
  /** (eth/65+) "Send these transactions from your pool." */
  GetPooledTransactions: {
    /** The request id (eth/66+). */
    readonly requestId: RequestId
    /** The hashes asked for. */
    readonly hashes: ReadonlyArray<Hash.Hash>
  }
  /** (eth/65+) The answer to GetPooledTransactions. */
  PooledTransactions: {
    /** The id of the request answered (eth/66+). */
    readonly requestId: RequestId
    /** Each transaction's complete RLP item, not decoded further. */
    readonly transactions: ReadonlyArray<Uint8Array>
  }
  /** (eth/63-66) "Send the state trie nodes with these hashes." */
  GetNodeData: {
    /** The request id (eth/66). */
    readonly requestId: RequestId
    /** The hashes asked for. */
    readonly hashes: ReadonlyArray<Hash.Hash>
  }
  /** (eth/63-66) The answer to GetNodeData. */
  NodeData: {
    /** The id of the request answered (eth/66). */
    readonly requestId: RequestId
    /** The nodes, as byte strings. */
    readonly values: ReadonlyArray<Uint8Array>
  }
  /** (eth/63+) "Send the receipts of the blocks with these hashes." */
  GetReceipts: {
    /** The request id (eth/66+). */
    readonly requestId: RequestId
    /** The hashes asked for. */
    readonly hashes: ReadonlyArray<Hash.Hash>
  }
  /** (eth/63+) The answer to GetReceipts: one list of receipts per block. */
  Receipts: {
    /** The id of the request answered (eth/66+). */
    readonly requestId: RequestId
    /** Each block's receipts, each receipt's complete RLP item, not decoded further. */
    readonly receipts: ReadonlyArray<ReadonlyArray<Uint8Array>>
  }
}>

/** Constructors of each message, by name. */
export const {
  BlockBodies,
  BlockHeaders,
  GetBlockBodies,
  GetBlockHeaders,
  GetNodeData,
  GetPooledTransactions,
  GetReceipts,
  NewBlock,
  NewBlockHashes,
  NewPooledTransactionHashes,
  NodeData,
  PooledTransactions,
  Receipts,
  Status,
  Transactions
} = Data.taggedEnum<HeaderFirstMessage>()

/** A message's name. */
export type Kind = HeaderFirstMessage["_tag"]
/** The Status message. */
export type Status = Data.TaggedEnum.Value<HeaderFirstMessage, "Status">
/** The GetBlockHeaders message. */
export type GetBlockHeaders = Data.TaggedEnum.Value<HeaderFirstMessage, "GetBlockHeaders">
/** The GetBlockBodies message. */
export type GetBlockBodies = Data.TaggedEnum.Value<HeaderFirstMessage, "GetBlockBodies">
/** The GetReceipts message. */
export type GetReceipts = Data.TaggedEnum.Value<HeaderFirstMessage, "GetReceipts">
/** The GetNodeData message. */
export type GetNodeData = Data.TaggedEnum.Value<HeaderFirstMessage, "GetNodeData">
/** The GetPooledTransactions message. */
export type GetPooledTransactions = Data.TaggedEnum.Value<HeaderFirstMessage, "GetPooledTransactions">

/** Each message's code, relative to where the eth capability starts on the connection (devp2p's caps/eth.md). */
export const codes = {
  Status: 0x00,
  NewBlockHashes: 0x01,
  Transactions: 0x02,
  GetBlockHeaders: 0x03,
  BlockHeaders: 0x04,
  GetBlockBodies: 0x05,
  BlockBodies: 0x06,
  NewBlock: 0x07,
  NewPooledTransactionHashes: 0x08,
  GetPooledTransactions: 0x09,
  PooledTransactions: 0x0a,
  GetNodeData: 0x0d,
  NodeData: 0x0e,
  GetReceipts: 0x0f,
  Receipts: 0x10
} as const satisfies Record<Kind, number>

/** The first and last version that has each message (the codes 0x08-0x0a meant other things before eth/65). */
const versions: Record<Kind, readonly [HeaderFirstVersion.HeaderFirstVersion, HeaderFirstVersion.HeaderFirstVersion]> = {
  Status: [62, 68],
  NewBlockHashes: [62, 68],
  Transactions: [62, 68],
  GetBlockHeaders: [62, 68],
  BlockHeaders: [62, 68],
  GetBlockBodies: [62, 68],
  BlockBodies: [62, 68],
  NewBlock: [62, 68],
  NewPooledTransactionHashes: [65, 68],
  GetPooledTransactions: [65, 68],
  PooledTransactions: [65, 68],
  GetNodeData: [63, 66],
  NodeData: [63, 66],
  GetReceipts: [63, 68],
  Receipts: [63, 68]
}

/** Whether a version has a message. */
export const has = (version: HeaderFirstVersion.HeaderFirstVersion, kind: Kind): boolean =>
  version >= versions[kind][0] && version <= versions[kind][1]

/** Message names by code. */
const kinds: ReadonlyArray<Kind | undefined> = (() => {
  const out: Array<Kind | undefined> = []
  for (const [kind, code] of Object.entries(codes)) out[code] = kind as Kind
  return out
})()

/** The messages that eth/66 and later wrap as `[requestId, payload]`: every request and its answer. */
const requests: ReadonlySet<Kind> = new Set<Kind>([
  "GetBlockHeaders",
  "BlockHeaders",
  "GetBlockBodies",
  "BlockBodies",
  "GetPooledTransactions",
  "PooledTransactions",
  "GetNodeData",
  "NodeData",
  "GetReceipts",
  "Receipts"
])

/** The most bytes a message's payload may have: 10 MiB. */
export const maxPayload = 10 * 1024 * 1024

/** Most bytes of the version and network id fields. */
const uint32Bytes = 4
/** Most bytes of block numbers, counts, request ids and fork numbers (uint64 on the wire). */
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

/** Where a message's fields are read, and the version that decides their shape. */
interface Context extends FieldReader.Source {
  /** The negotiated version. */
  readonly version: HeaderFirstVersion.HeaderFirstVersion
}

/** Reads one message's fields from its payload list (inside the request-id wrapping, if any). */
type Decoder = (context: Context, top: Rlp.Item, requestId: RequestId) => HeaderFirstMessage | MalformedMessage

/**
 * Decodes a message of the negotiated `version` from its code and payload. Fails with
 * UnknownMessageCode for a code that version lacks, MessageTooLarge past 10 MiB, and
 * MalformedMessage naming the field for anything else wrong (a request or answer of eth/66+
 * without its request id included). Linear in the payload's size.
 */
export const decode = (
  version: HeaderFirstVersion.HeaderFirstVersion,
  code: number,
  payload: Uint8Array
): Result.Result<HeaderFirstMessage, DecodeError> => {
  const kind = Number.isInteger(code) && code >= 0 && code < HeaderFirstVersion.codeCount(version) ? kinds[code] : undefined
  if (kind === undefined || !has(version, kind)) return Result.fail(new UnknownMessageCode({ version, code }))
  if (payload.length > maxPayload) return Result.fail(new MessageTooLarge({ code, size: payload.length, limit: maxPayload }))
  const context: Context = { bytes: payload, kind, version }
  const decoded = decodeTop(context, kind)
  return decoded instanceof MalformedMessage ? Result.fail(decoded) : Result.succeed(decoded)
}

/** The payload's list, unwrapped from `[requestId, payload]` where the version and message call for it, then decoded. */
const decodeTop = (context: Context, kind: Kind): HeaderFirstMessage | MalformedMessage => {
  const top = FieldReader.payloadList(context)
  if (top instanceof MalformedMessage) return top
  if (!requests.has(kind) || !HeaderFirstVersion.hasRequestIds(context.version)) return decoders[kind](context, top, undefined)
  const items = FieldReader.fields(context, top, "payload", ["requestId", "message"])
  if (items instanceof MalformedMessage) return items
  const requestId = FieldReader.uint(context, items[0]!, "requestId", uint64Bytes)
  return requestId instanceof MalformedMessage ? requestId : decoders[kind](context, items[1]!, requestId)
}

/** A request whose payload is a list of hashes. */
const hashRequest = (make: (requestId: RequestId, hashes: ReadonlyArray<Hash.Hash>) => HeaderFirstMessage): Decoder =>
(context, top, requestId) => {
  const hashes = FieldReader.hashes(context, top, "hashes")
  return hashes instanceof MalformedMessage ? hashes : make(requestId, hashes)
}

/** A message whose payload is a list of opaque transactions. */
const transactionList = (make: (requestId: RequestId, transactions: ReadonlyArray<Uint8Array>) => HeaderFirstMessage): Decoder =>
(context, top, requestId) => {
  const transactions = FieldReader.opaqueItems(context, top, "transactions")
  return transactions instanceof MalformedMessage ? transactions : make(requestId, transactions)
}

/** The origin of GetBlockHeaders: a 32-byte hash, or a block number of at most 8 bytes. */
const origin = (source: FieldReader.Source, item: Rlp.Item): Hash.Hash | number | MalformedMessage => {
  if (item.isList) return FieldReader.malformed(source, "origin", "expected a hash or a number, got a list")
  const length = item.end - item.payloadStart
  if (length === 32) return FieldReader.hash(source, item, "origin")
  if (length <= uint64Bytes) return FieldReader.safeUint(source, item, "origin", uint64Bytes)
  return FieldReader.malformed(source, "origin", `expected a 32-byte hash or a number of at most 8 bytes, got ${length} bytes`)
}

/** A boolean as RLP writes it: 0 (the empty string) or 1. */
const flag = (source: FieldReader.Source, item: Rlp.Item, field: string): boolean | MalformedMessage => {
  const value = FieldReader.uint(source, item, field, 1)
  if (value instanceof MalformedMessage) return value
  return value <= 1n ? value === 1n : FieldReader.malformed(source, field, `expected 0 or 1, got ${value}`)
}

/** The fork id of an eth/64+ Status: `[hash (4 bytes), next]`. */
const forkId = (source: FieldReader.Source, item: Rlp.Item): ForkId | MalformedMessage => {
  const items = FieldReader.fields(source, item, "forkId", ["hash", "next"])
  if (items instanceof MalformedMessage) return items
  const hash = items[0]!
  if (hash.isList) return FieldReader.malformed(source, "forkId.hash", "expected 4 bytes, got a list")
  const bytes = Rlp.payload(source.bytes, hash)
  if (bytes.length !== 4) return FieldReader.malformed(source, "forkId.hash", `expected 4 bytes, got ${bytes.length}`)
  const next = FieldReader.uint(source, items[1]!, "forkId.next", uint64Bytes)
  return next instanceof MalformedMessage ? next : { hash: bytes, next }
}

/** The fields of every Status; eth/64 and later add the fork id after them. */
const statusFields = ["protocolVersion", "networkId", "td", "bestHash", "genesisHash"]

/** The decoder of each message. */
const decoders: Record<Kind, Decoder> = {
  Status: (context, top) => {
    const withForkId = HeaderFirstVersion.hasForkId(context.version)
    const items = FieldReader.fields(context, top, "payload", withForkId ? [...statusFields, "forkId"] : statusFields)
    if (items instanceof MalformedMessage) return items
    const protocolVersion = FieldReader.safeUint(context, items[0]!, "protocolVersion", uint32Bytes)
    if (protocolVersion instanceof MalformedMessage) return protocolVersion
    const networkId = FieldReader.safeUint(context, items[1]!, "networkId", uint64Bytes)
    if (networkId instanceof MalformedMessage) return networkId
    const td = FieldReader.uint(context, items[2]!, "td", tdBytes)
    if (td instanceof MalformedMessage) return td
    const bestHash = FieldReader.hash(context, items[3]!, "bestHash")
    if (bestHash instanceof MalformedMessage) return bestHash
    const genesisHash = FieldReader.hash(context, items[4]!, "genesisHash")
    if (genesisHash instanceof MalformedMessage) return genesisHash
    const fork = withForkId ? forkId(context, items[5]!) : undefined
    if (fork instanceof MalformedMessage) return fork
    return Status({ protocolVersion, networkId, td, bestHash, genesisHash, forkId: fork })
  },
  NewBlockHashes: (context, top) => {
    const items = FieldReader.children(context, top, "announcements")
    if (items instanceof MalformedMessage) return items
    const announcements: Array<Announcement> = []
    for (let i = 0; i < items.length; i++) {
      const pair = FieldReader.fields(context, items[i]!, `announcements[${i}]`, ["hash", "number"])
      if (pair instanceof MalformedMessage) return pair
      const hash = FieldReader.hash(context, pair[0]!, `announcements[${i}].hash`)
      if (hash instanceof MalformedMessage) return hash
      const number = FieldReader.safeUint(context, pair[1]!, `announcements[${i}].number`, uint64Bytes)
      if (number instanceof MalformedMessage) return number
      announcements.push({ hash, number })
    }
    return NewBlockHashes({ announcements })
  },
  Transactions: transactionList((_, transactions) => Transactions({ transactions })),
  GetBlockHeaders: (context, top, requestId) => {
    const items = FieldReader.fields(context, top, "payload", ["origin", "amount", "skip", "reverse"])
    if (items instanceof MalformedMessage) return items
    const from = origin(context, items[0]!)
    if (from instanceof MalformedMessage) return from
    const amount = FieldReader.safeUint(context, items[1]!, "amount", uint64Bytes)
    if (amount instanceof MalformedMessage) return amount
    const skip = FieldReader.safeUint(context, items[2]!, "skip", uint64Bytes)
    if (skip instanceof MalformedMessage) return skip
    const reverse = flag(context, items[3]!, "reverse")
    return reverse instanceof MalformedMessage ? reverse : GetBlockHeaders({ requestId, origin: from, amount, skip, reverse })
  },
  BlockHeaders: (context, top, requestId) => {
    const items = FieldReader.children(context, top, "headers")
    if (items instanceof MalformedMessage) return items
    const headers: Array<Header.Header> = []
    for (let i = 0; i < items.length; i++) {
      const decoded = FieldReader.header(context, items[i]!, `headers[${i}]`)
      if (decoded instanceof MalformedMessage) return decoded
      headers.push(decoded)
    }
    return BlockHeaders({ requestId, headers })
  },
  GetBlockBodies: hashRequest((requestId, hashes) => GetBlockBodies({ requestId, hashes })),
  BlockBodies: (context, top, requestId) => {
    const items = FieldReader.children(context, top, "bodies")
    if (items instanceof MalformedMessage) return items
    const bodies: Array<Body> = []
    for (let i = 0; i < items.length; i++) {
      const parts = FieldReader.fields(context, items[i]!, `bodies[${i}]`, ["transactions", "uncles"])
      if (parts instanceof MalformedMessage) return parts
      const transactions = FieldReader.opaqueItems(context, parts[0]!, `bodies[${i}].transactions`)
      if (transactions instanceof MalformedMessage) return transactions
      const uncleItems = FieldReader.children(context, parts[1]!, `bodies[${i}].uncles`)
      if (uncleItems instanceof MalformedMessage) return uncleItems
      const uncles: Array<Header.Header> = []
      for (let j = 0; j < uncleItems.length; j++) {
        const uncle = FieldReader.header(context, uncleItems[j]!, `bodies[${i}].uncles[${j}]`)
        if (uncle instanceof MalformedMessage) return uncle
        uncles.push(uncle)
      }
      bodies.push({ transactions, uncles })
    }
    return BlockBodies({ requestId, bodies })
  },
  NewBlock: (context, top) => {
    const items = FieldReader.fields(context, top, "payload", ["block", "td"])
    if (items instanceof MalformedMessage) return items
    const block = FieldReader.block(context, items[0]!, "block")
    if (block instanceof MalformedMessage) return block
    const td = FieldReader.uint(context, items[1]!, "td", tdBytes)
    return td instanceof MalformedMessage ? td : NewBlock({ block, td })
  },
  NewPooledTransactionHashes: (context, top) => {
    if (!HeaderFirstVersion.hasTypedAnnouncements(context.version)) {
      const hashes = FieldReader.hashes(context, top, "hashes")
      return hashes instanceof MalformedMessage ? hashes : NewPooledTransactionHashes({ hashes, typed: undefined })
    }
    const items = FieldReader.fields(context, top, "payload", ["types", "sizes", "hashes"])
    if (items instanceof MalformedMessage) return items
    if (items[0]!.isList) return FieldReader.malformed(context, "types", "expected a byte string, got a list")
    const types = Rlp.payload(context.bytes, items[0]!)
    const sizeItems = FieldReader.children(context, items[1]!, "sizes")
    if (sizeItems instanceof MalformedMessage) return sizeItems
    const sizes: Array<number> = []
    for (let i = 0; i < sizeItems.length; i++) {
      const size = FieldReader.safeUint(context, sizeItems[i]!, `sizes[${i}]`, uint32Bytes)
      if (size instanceof MalformedMessage) return size
      sizes.push(size)
    }
    const hashes = FieldReader.hashes(context, items[2]!, "hashes")
    if (hashes instanceof MalformedMessage) return hashes
    if (types.length !== hashes.length || sizes.length !== hashes.length) {
      return FieldReader.malformed(
        context,
        "payload",
        `${types.length} types and ${sizes.length} sizes for ${hashes.length} hashes`
      )
    }
    return NewPooledTransactionHashes({ hashes, typed: { types, sizes } })
  },
  GetPooledTransactions: hashRequest((requestId, hashes) => GetPooledTransactions({ requestId, hashes })),
  PooledTransactions: transactionList((requestId, transactions) => PooledTransactions({ requestId, transactions })),
  GetNodeData: hashRequest((requestId, hashes) => GetNodeData({ requestId, hashes })),
  NodeData: (context, top, requestId) => {
    const items = FieldReader.children(context, top, "values")
    if (items instanceof MalformedMessage) return items
    const values: Array<Uint8Array> = []
    for (let i = 0; i < items.length; i++) {
      if (items[i]!.isList) return FieldReader.malformed(context, `values[${i}]`, "expected a byte string, got a list")
      values.push(Rlp.payload(context.bytes, items[i]!))
    }
    return NodeData({ requestId, values })
  },
  GetReceipts: hashRequest((requestId, hashes) => GetReceipts({ requestId, hashes })),
  Receipts: (context, top, requestId) => {
    const items = FieldReader.children(context, top, "receipts")
    if (items instanceof MalformedMessage) return items
    const receipts: Array<ReadonlyArray<Uint8Array>> = []
    for (let i = 0; i < items.length; i++) {
      const ofBlock = FieldReader.opaqueItems(context, items[i]!, `receipts[${i}]`)
      if (ofBlock instanceof MalformedMessage) return ofBlock
      receipts.push(ofBlock)
    }
    return Receipts({ requestId, receipts })
  }
}

/** The RLP list of `hashes`. */
const encodeHashes = (hashes: ReadonlyArray<Hash.Hash>): Uint8Array => Rlp.encodeList(hashes.map(Rlp.encodeBytes))

/** The payload of a message, before any request-id wrapping. */
const encodeBody = (message: HeaderFirstMessage): Uint8Array => {
  switch (message._tag) {
    case "Status": {
      const fields = [
        Rlp.encodeInteger(message.protocolVersion),
        Rlp.encodeInteger(message.networkId),
        Rlp.encodeInteger(message.td),
        Rlp.encodeBytes(message.bestHash),
        Rlp.encodeBytes(message.genesisHash)
      ]
      const fork = message.forkId
      return Rlp.encodeList(fork ? [...fields, Rlp.encodeList([Rlp.encodeBytes(fork.hash), Rlp.encodeInteger(fork.next)])] : fields)
    }
    case "NewBlockHashes":
      return Rlp.encodeList(
        message.announcements.map((a) => Rlp.encodeList([Rlp.encodeBytes(a.hash), Rlp.encodeInteger(a.number)]))
      )
    case "Transactions":
    case "PooledTransactions":
      return Rlp.encodeList(message.transactions)
    case "GetBlockHeaders":
      return Rlp.encodeList([
        typeof message.origin === "number" ? Rlp.encodeInteger(message.origin) : Rlp.encodeBytes(message.origin),
        Rlp.encodeInteger(message.amount),
        Rlp.encodeInteger(message.skip),
        Rlp.encodeInteger(message.reverse ? 1 : 0)
      ])
    case "BlockHeaders":
      return Rlp.encodeList(message.headers.map((h) => h.rlp))
    case "GetBlockBodies":
    case "GetPooledTransactions":
    case "GetNodeData":
    case "GetReceipts":
      return encodeHashes(message.hashes)
    case "BlockBodies":
      return Rlp.encodeList(message.bodies.map(Block.bodyRlp))
    case "NewBlock":
      return Rlp.encodeList([message.block.rlp, Rlp.encodeInteger(message.td)])
    case "NewPooledTransactionHashes":
      return message.typed === undefined
        ? encodeHashes(message.hashes)
        : Rlp.encodeList([
          Rlp.encodeBytes(message.typed.types),
          Rlp.encodeList(message.typed.sizes.map(Rlp.encodeInteger)),
          encodeHashes(message.hashes)
        ])
    case "NodeData":
      return Rlp.encodeList(message.values.map(Rlp.encodeBytes))
    case "Receipts":
      return Rlp.encodeList(message.receipts.map((block) => Rlp.encodeList(block)))
  }
}

/** `body` as a payload: wrapped as `[requestId, body]` when there is a request id. */
const wrap = (requestId: RequestId, body: Uint8Array): Uint8Array =>
  requestId === undefined ? body : Rlp.encodeList([Rlp.encodeInteger(requestId), body])

/**
 * Encodes a message: its code and payload (headers and blocks as their exact bytes). A request or
 * answer is wrapped as `[requestId, payload]` when it has a request id, as eth/66+ needs; a Status
 * carries a fork id when it has one, as eth/64+ needs; an announcement its types and sizes, as eth/68 needs.
 */
export const encode = (message: HeaderFirstMessage): Encoded => ({
  code: codes[message._tag],
  payload: wrap("requestId" in message ? message.requestId : undefined, encodeBody(message))
})

/**
 * An answer made straight from stored RLP items (headers or bodies, as a ChainStore's
 * `headerRlps` and `bodyRlp` give them), without decoding them: how a server answers. The items
 * are copied once, into the payload with its request id.
 */
export const encodeStored = (kind: "BlockHeaders" | "BlockBodies", requestId: RequestId, items: ReadonlyArray<Uint8Array>): Encoded => ({
  code: codes[kind],
  payload: Rlp.encodeList(requestId === undefined ? items : [Rlp.encodeInteger(requestId), items])
})
