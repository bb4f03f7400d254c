/**
 * Strict RLP reading by offsets, and the few encoders blocks need.
 *
 * Reading walks item boundaries in place (no copies), so a block's header bytes can be hashed
 * exactly as they arrived and concatenated files can be split in linear time. It accepts only
 * canonical RLP, as go-ethereum does: a single byte below 0x80 must stand alone, a length under
 * 56 must use the short form, a long length has no leading zero.
 *
 * @since 0.1.0
 */
import { RLP } from "@ethereumjs/rlp"
import { Data } from "effect"

/** RLP bytes that are not canonical or run past the end of the input. */
export class RlpError extends Data.TaggedError("RlpError")<{
  /** Byte offset in the input where the bad item starts. */
  readonly offset: number
  /** What is wrong, in words. */
  readonly reason: string
}> {
  override get message() {
    return `invalid RLP at byte ${this.offset}: ${this.reason}`
  }
}

/** One item found in the input: where its payload lies and where the next item starts. */
export interface Item {
  /** A list or a byte string. */
  readonly isList: boolean
  /** Offset of the item's first byte (its prefix). */
  readonly start: number
  /** Offset of the payload's first byte. */
  readonly payloadStart: number
  /** Offset just past the payload, which is also the end of the item. */
  readonly end: number
}

/**
 * Reads the item whose prefix is at `offset`, checking canonical form and bounds against `limit`
 * (the end of the enclosing list, or of the input). Returns an RlpError instead of throwing.
 */
export const readItem = (bytes: Uint8Array, offset: number, limit: number = bytes.length): Item | RlpError => {
  if (offset >= limit) return new RlpError({ offset, reason: "input ends where an item should start" })
  const prefix = bytes[offset]!
  if (prefix < 0x80) return { isList: false, start: offset, payloadStart: offset, end: offset + 1 }
  const isList = prefix >= 0xc0
  const base = isList ? 0xc0 : 0x80
  const short = prefix - base
  let payloadStart: number
  let length: number
  if (short <= 55) {
    payloadStart = offset + 1
    length = short
    if (!isList && length === 1) {
      if (payloadStart >= limit) return new RlpError({ offset, reason: "input ends inside a byte string" })
      if (bytes[payloadStart]! < 0x80) return new RlpError({ offset, reason: "a single byte below 0x80 must not have a prefix" })
    }
  } else {
    const lengthOfLength = short - 55
    payloadStart = offset + 1 + lengthOfLength
    if (payloadStart > limit) return new RlpError({ offset, reason: "input ends inside a length" })
    if (bytes[offset + 1] === 0) return new RlpError({ offset, reason: "a length has a leading zero byte" })
    if (lengthOfLength > 6) return new RlpError({ offset, reason: `a length of ${lengthOfLength} bytes is beyond any input` })
    length = 0
    for (let i = offset + 1; i < payloadStart; i++) length = length * 256 + bytes[i]!
    if (length < 56) return new RlpError({ offset, reason: "a length under 56 must use the short form" })
  }
  const end = payloadStart + length
  if (end > limit) {
    return new RlpError({ offset, reason: `item of ${length} bytes runs ${end - limit} bytes past the end of its container` })
  }
  return { isList, start: offset, payloadStart, end }
}

/** Where reading a list's children stopped: the index of the malformed child and its error. */
export interface ChildError {
  /** Index of the malformed child in its list (the children before it are well-formed). */
  readonly index: number
  /** What is wrong with it. */
  readonly error: RlpError
}

/** Reads the children of a list item like {@link readList}, but a failure says which child is malformed. */
export const readChildren = (bytes: Uint8Array, list: Item): Array<Item> | ChildError => {
  const children: Array<Item> = []
  let at = list.payloadStart
  while (at < list.end) {
    const child = readItem(bytes, at, list.end)
    if (child instanceof RlpError) return { index: children.length, error: child }
    children.push(child)
    at = child.end
  }
  return children
}

/** Reads the children of a list item, each checked; an RlpError if any is malformed. */
export const readList = (bytes: Uint8Array, list: Item): Array<Item> | RlpError => {
  const children = readChildren(bytes, list)
  return Array.isArray(children) ? children : children.error
}

/** Reads a whole input as exactly one item, with nothing after it. */
export const readSingle = (bytes: Uint8Array): Item | RlpError => {
  const item = readItem(bytes, 0)
  if (item instanceof RlpError) return item
  if (item.end !== bytes.length) {
    return new RlpError({ offset: item.end, reason: `${bytes.length - item.end} bytes follow the item` })
  }
  return item
}

/**
 * Checks an item and everything nested in it, without building anything. It keeps its own stack
 * of lists to visit, so no nesting depth a peer can send exhausts the call stack.
 */
export const validateDeep = (bytes: Uint8Array, item: Item): RlpError | undefined => {
  const pending: Array<Item> = [item]
  for (let list = pending.pop(); list !== undefined; list = pending.pop()) {
    if (!list.isList) continue
    const children = readList(bytes, list)
    if (children instanceof RlpError) return children
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!)
  }
  return undefined
}

/** The payload of a byte-string item, as a view into the input. */
export const payload = (bytes: Uint8Array, item: Item): Uint8Array => bytes.subarray(item.payloadStart, item.end)

/** The whole item (prefix and payload), as a view into the input. */
export const raw = (bytes: Uint8Array, item: Item): Uint8Array => bytes.subarray(item.start, item.end)

/** Encodes a byte string. */
export const encodeBytes = (bytes: Uint8Array): Uint8Array => RLP.encode(bytes)

/** Encodes an unsigned integer as a minimal big-endian byte string (0 is the empty string). */
export const encodeInteger = (value: bigint | number): Uint8Array => RLP.encode(BigInt(value))

/** Already-encoded items, as {@link encodeList} takes them: bytes kept as they are, arrays wrapped as lists of their own. */
export type Items = ReadonlyArray<Uint8Array | Items>

/**
 * Wraps already-encoded items in a list header; an array among them becomes a list inside it, and
 * so on. Every item's bytes are copied once, into the one buffer returned: nothing is re-encoded.
 */
export const encodeList = (items: Items): Uint8Array => {
  const length = payloadLength(items)
  const out = new Uint8Array(prefixLength(length) + length)
  write(out, 0, items, length)
  return out
}

/**
 * Encodes each of `lists` as {@link encodeList} does, all into one buffer: one allocation for them
 * all, each list a view into it.
 */
export const encodeLists = (lists: ReadonlyArray<Items>): Array<Uint8Array> => {
  const lengths = lists.map(payloadLength)
  let total = 0
  for (const length of lengths) total += prefixLength(length) + length
  const out = new Uint8Array(total)
  const views: Array<Uint8Array> = []
  let at = 0
  for (let i = 0; i < lists.length; i++) {
    const end = write(out, at, lists[i]!, lengths[i]!)
    views.push(out.subarray(at, end))
    at = end
  }
  return views
}

/** The bytes of the payload of the list of `items`. */
const payloadLength = (items: Items): number => {
  let length = 0
  for (const item of items) {
    if (item instanceof Uint8Array) length += item.length
    else {
      const inner = payloadLength(item)
      length += prefixLength(inner) + inner
    }
  }
  return length
}

/** Bytes of the prefix of a list whose payload is `length` bytes. */
const prefixLength = (length: number): number => {
  if (length <= 55) return 1
  let bytes = 1
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes++
  return bytes
}

/** Writes the list of `items` (its payload `length` bytes) into `out` at `at`; returns where it ends. */
const write = (out: Uint8Array, at: number, items: Items, length: number): number => {
  const digits = prefixLength(length) - 1
  if (digits === 0) out[at++] = 0xc0 + length
  else {
    out[at] = 0xf7 + digits
    for (let i = digits, rest = length; i > 0; i--, rest = Math.floor(rest / 256)) out[at + i] = rest % 256
    at += digits + 1
  }
  for (const item of items) {
    if (item instanceof Uint8Array) {
      out.set(item, at)
      at += item.length
    } else at = write(out, at, item, payloadLength(item))
  }
  return at
}
