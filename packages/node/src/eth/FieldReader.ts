/**
 * Reading an eth message's fields from the RLP items of its payload, strictly: each failure is a
 * MalformedMessage naming the message, the field and what was wrong. Nothing is copied: values
 * are views into the payload.
 *
 * @since 0.2.0
 */
import { Block, BlockDecodeError, Hash, Header, Rlp } from "@ethsync/core"
import { MalformedMessage } from "./MessageError.ts"

/** Where a field is read: the payload, and the message it belongs to (for errors). */
export interface Source {
  /** The whole payload the items point into. */
  readonly bytes: Uint8Array
  /** The message's name, as errors report it. */
  readonly kind: string
}

/** A MalformedMessage about `field` of the source's message. */
export const malformed = (source: Source, field: string, reason: string): MalformedMessage =>
  new MalformedMessage({ kind: source.kind, field, reason })

/** The payload as exactly one list item, nothing after it. */
export const payloadList = (source: Source): Rlp.Item | MalformedMessage => {
  const item = Rlp.readSingle(source.bytes)
  if (item instanceof Rlp.RlpError) return malformed(source, "payload", `not RLP: ${item.message}`)
  if (!item.isList) return malformed(source, "payload", "expected a list, got a byte string")
  return item
}

/** The children of the list item `item` (each well-formed at its own level). */
export const children = (source: Source, item: Rlp.Item, field: string): Array<Rlp.Item> | MalformedMessage => {
  if (!item.isList) return malformed(source, field, "expected a list, got a byte string")
  const read = Rlp.readChildren(source.bytes, item)
  return Array.isArray(read) ? read : malformed(source, `${field}[${read.index}]`, read.error.message)
}

/** The children of the list item `item`, which must be exactly the fields `names`. */
export const fields = (
  source: Source,
  item: Rlp.Item,
  field: string,
  names: ReadonlyArray<string>
): Array<Rlp.Item> | MalformedMessage => {
  const read = children(source, item, field)
  if (read instanceof MalformedMessage) return read
  if (read.length !== names.length) {
    return malformed(source, field, `expected ${names.length} fields (${names.join(", ")}), got ${read.length}`)
  }
  return read
}

/** A 32-byte hash. */
export const hash = (source: Source, item: Rlp.Item, field: string): Hash.Hash | MalformedMessage => {
  if (item.isList) return malformed(source, field, "expected a 32-byte hash, got a list")
  const value = Rlp.payload(source.bytes, item)
  return value.length === 32 ? Hash.makeUnsafe(value) : malformed(source, field, `expected a 32-byte hash, got ${value.length} bytes`)
}

/** A list of 32-byte hashes (possibly empty). */
export const hashes = (source: Source, item: Rlp.Item, field: string): Array<Hash.Hash> | MalformedMessage => {
  const read = children(source, item, field)
  if (read instanceof MalformedMessage) return read
  const out: Array<Hash.Hash> = []
  for (let i = 0; i < read.length; i++) {
    const value = hash(source, read[i]!, `${field}[${i}]`)
    if (value instanceof MalformedMessage) return value
    out.push(value)
  }
  return out
}

/** An unsigned integer of at most `maxBytes` bytes, minimal big-endian (0 is the empty string). */
export const uint = (source: Source, item: Rlp.Item, field: string, maxBytes: number): bigint | MalformedMessage => {
  if (item.isList) return malformed(source, field, "expected an integer, got a list")
  const value = Rlp.payload(source.bytes, item)
  if (value.length > maxBytes) return malformed(source, field, `integer of ${value.length} bytes exceeds ${maxBytes}`)
  if (value.length > 0 && value[0] === 0) return malformed(source, field, "integer is not minimal (leading zero byte)")
  let out = 0n
  for (const byte of value) out = (out << 8n) | BigInt(byte)
  return out
}

/**
 * An unsigned integer of at most `maxBytes` bytes (a uint32 or uint64 on the wire) that must
 * also fit a JavaScript number exactly, as block numbers and counts do.
 */
export const safeUint = (source: Source, item: Rlp.Item, field: string, maxBytes: number): number | MalformedMessage => {
  const value = uint(source, item, field, maxBytes)
  if (value instanceof MalformedMessage) return value
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : malformed(source, field, `${value} is beyond 2^53 - 1`)
}

/** A list of opaque RLP items (transactions, receipts), each checked to be well-formed throughout, kept as their bytes. */
export const opaqueItems = (source: Source, item: Rlp.Item, field: string): Array<Uint8Array> | MalformedMessage => {
  const items = children(source, item, field)
  if (items instanceof MalformedMessage) return items
  const out: Array<Uint8Array> = []
  for (let i = 0; i < items.length; i++) {
    const error = Rlp.validateDeep(source.bytes, items[i]!)
    if (error) return malformed(source, `${field}[${i}]`, error.message)
    out.push(Rlp.raw(source.bytes, items[i]!))
  }
  return out
}

/** A block, decoded and hashed from its bytes; errors name the part at fault under `field` (`blocks[2].header.difficulty`). */
export const block = (source: Source, item: Rlp.Item, field: string): Block.Block | MalformedMessage => {
  const decoded = Block.decodeItem(source.bytes, item)
  if (!(decoded instanceof BlockDecodeError.BlockDecodeError)) return decoded
  return malformed(source, decoded.field === "block" ? field : `${field}.${decoded.field}`, decoded.reason)
}

/** A header, decoded and hashed from its bytes; errors name the field at fault under `field` (`headers[1].difficulty`). */
export const header = (source: Source, item: Rlp.Item, field: string): Header.Header | MalformedMessage => {
  const decoded = Header.decodeItem(source.bytes, item, field)
  return decoded instanceof BlockDecodeError.BlockDecodeError ? malformed(source, decoded.field, decoded.reason) : decoded
}
