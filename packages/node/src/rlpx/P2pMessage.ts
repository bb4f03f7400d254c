/**
 * The p2p base protocol's messages (codes 0x00..0x0f): Hello
 * `[version, clientId, [[name, version]…], listenPort, nodeId]`, Disconnect `[reason]`, Ping and
 * Pong. Decoding is strict about what it needs and ignores extra list items, as EIP-8 asks.
 *
 * @since 0.2.0
 */
import { Rlp } from "@ethsync/core"
import type * as Capability from "./Capability.ts"
import * as NodeKey from "./NodeKey.ts"

/** The message codes of the p2p base protocol. */
export const Code = {
  /** The first message on each side: who we are and what we speak. */
  hello: 0x00,
  /** The last message: why we close. */
  disconnect: 0x01,
  /** Asks for a pong (liveness). */
  ping: 0x02,
  /** Answers a ping. */
  pong: 0x03
} as const

/** What a hello says. */
export interface Hello {
  /** The p2p protocol version (4 in 2015; 5 adds snappy compression). */
  readonly version: number
  /** The client's name and version, free text. */
  readonly clientId: string
  /** The subprotocols and versions the node speaks. */
  readonly capabilities: ReadonlyArray<Capability.Named>
  /** The TCP port the node listens on (0 when it does not say). */
  readonly listenPort: number
  /** The node's 64-byte id. */
  readonly nodeId: Uint8Array
}

/** The payload of Ping and of Pong: an empty list. */
export const emptyList = Uint8Array.of(0xc0)

/** Encodes a hello's payload. */
export const encodeHello = (hello: Hello): Uint8Array =>
  Rlp.encodeList([
    Rlp.encodeInteger(hello.version),
    Rlp.encodeBytes(new TextEncoder().encode(hello.clientId)),
    Rlp.encodeList(hello.capabilities.map((c) =>
      Rlp.encodeList([Rlp.encodeBytes(new TextEncoder().encode(c.name)), Rlp.encodeInteger(c.version)])
    )),
    Rlp.encodeInteger(hello.listenPort),
    Rlp.encodeBytes(hello.nodeId)
  ])

/** An RLP byte string as an unsigned integer of at most 6 bytes, or `undefined` when it is not one. */
const integer = (bytes: Uint8Array, item: Rlp.Item): number | undefined => {
  if (item.isList) return undefined
  const digits = Rlp.payload(bytes, item)
  if (digits.length > 6 || digits[0] === 0) return undefined
  let value = 0
  for (const digit of digits) value = value * 256 + digit
  return value
}

/** The children of a list item, or `undefined` when it is not a well-formed list. */
const list = (bytes: Uint8Array, item: Rlp.Item | undefined): Array<Rlp.Item> | undefined => {
  if (item === undefined || !item.isList) return undefined
  const items = Rlp.readList(bytes, item)
  return items instanceof Rlp.RlpError ? undefined : items
}

/** Decodes a hello's payload; a string says what is wrong with it. */
export const decodeHello = (payload: Uint8Array): Hello | string => {
  const top = Rlp.readSingle(payload)
  if (top instanceof Rlp.RlpError) return `the hello is not RLP (${top.reason})`
  const fields = list(payload, top)
  if (fields === undefined || fields.length < 5) return "the hello is not a list of at least 5 items"
  const version = integer(payload, fields[0]!)
  if (version === undefined) return "the hello's version is not an integer"
  if (fields[1]!.isList) return "the hello's client id is not a string"
  const clientId = new TextDecoder().decode(Rlp.payload(payload, fields[1]!))
  const capabilityItems = list(payload, fields[2])
  if (capabilityItems === undefined) return "the hello's capabilities are not a list"
  const capabilities: Array<Capability.Named> = []
  for (const item of capabilityItems) {
    const pair = list(payload, item)
    const capabilityVersion = pair?.[1] === undefined ? undefined : integer(payload, pair[1])
    if (pair === undefined || pair[0]!.isList || capabilityVersion === undefined) {
      return "a capability of the hello is not [name, version]"
    }
    capabilities.push({ name: new TextDecoder().decode(Rlp.payload(payload, pair[0]!)), version: capabilityVersion })
  }
  const listenPort = integer(payload, fields[3]!)
  if (listenPort === undefined) return "the hello's listen port is not an integer"
  const nodeId = Rlp.payload(payload, fields[4]!)
  if (fields[4]!.isList || nodeId.length !== NodeKey.idLength) return "the hello's node id is not 64 bytes"
  return { version, clientId, capabilities, listenPort, nodeId: Uint8Array.from(nodeId) }
}

/** Encodes a Disconnect's payload: `[reason]`. */
export const encodeDisconnect = (reason: number): Uint8Array => Rlp.encodeList([Rlp.encodeInteger(reason)])

/**
 * Decodes a Disconnect's payload: `[reason]`, or a bare reason as some clients sent it; an empty
 * list is reason 0x00, as go-ethereum 2015 read it.
 */
export const decodeDisconnect = (payload: Uint8Array): number | string => {
  const top = Rlp.readSingle(payload)
  if (top instanceof Rlp.RlpError) return `the disconnect is not RLP (${top.reason})`
  const items = top.isList ? list(payload, top) : [top]
  if (items === undefined) return "the disconnect's list is malformed"
  if (items.length === 0) return 0
  return integer(payload, items[0]!) ?? "the disconnect's reason is not a number"
}
