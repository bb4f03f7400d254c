/**
 * The two RLPx handshake messages, auth (initiator to recipient) and ack (the answer), in both
 * wire forms: plain (pre-EIP-8: fixed-size bodies, 307 and 210 bytes on the wire, the only form a
 * 2015 node understands) and EIP-8 (an RLP list plus random padding, behind a 2-byte size prefix
 * that the ECIES MAC covers). Building and reading only; the exchange is in `Handshake.ts`.
 *
 * @since 0.2.0
 */
import { Bytes, Hex, Rlp } from "@ethsync/core"
import { keccak_256 } from "@noble/hashes/sha3.js"
import { randomBytes, randomInt } from "node:crypto"
import * as Ecies from "./Ecies.ts"
import * as NodeKey from "./NodeKey.ts"

/** The two wire forms of the handshake messages. */
export type Form = "plain" | "eip8"

/** Bytes of a plain auth on the wire. */
export const plainAuthSize = 307

/** Bytes of a plain ack on the wire. */
export const plainAckSize = 210

/** The largest EIP-8 message (size prefix excluded) we accept, as go-ethereum. */
export const maxEip8Size = 2048

/** The handshake version both EIP-8 messages carry. */
const version = 4

/** What an auth tells the recipient. */
export interface Auth {
  /** The initiator's node id. */
  readonly initiatorId: Uint8Array
  /** The initiator's random 32-byte nonce. */
  readonly nonce: Uint8Array
  /** The initiator's ephemeral public key, recovered from the signature. */
  readonly ephemeralId: Uint8Array
}

/** What an ack tells the initiator. */
export interface Ack {
  /** The recipient's ephemeral public key. */
  readonly ephemeralId: Uint8Array
  /** The recipient's random 32-byte nonce. */
  readonly nonce: Uint8Array
}

/** The 32 bytes the auth signature covers: the static ECDH secret xor the initiator nonce. */
const signedValue = (staticShared: Uint8Array, nonce: Uint8Array): Uint8Array => {
  const out = new Uint8Array(32)
  for (let i = 0; i < 32; i++) out[i] = staticShared[i]! ^ nonce[i]!
  return out
}

/** A random 32-byte nonce. */
export const makeNonce = (): Uint8Array => new Uint8Array(randomBytes(32))

/** Encrypts a body to `remoteId` in the given form, with the EIP-8 size prefix and padding. */
const seal = (remoteId: Uint8Array, body: Uint8Array, form: Form): Uint8Array => {
  if (form === "plain") return Ecies.encrypt(remoteId, body)
  const padded = new Uint8Array(body.length + randomInt(100, 300))
  padded.set(body, 0)
  const size = padded.length + Ecies.overhead
  const prefix = Uint8Array.of(size >> 8, size & 0xff)
  const sealed = Ecies.encrypt(remoteId, padded, prefix)
  const out = new Uint8Array(2 + sealed.length)
  out.set(prefix, 0)
  out.set(sealed, 2)
  return out
}

/** Builds the auth message on the wire. */
export const makeAuth = (options: {
  /** Our static key. */
  readonly key: NodeKey.NodeKey
  /** Our ephemeral key for this connection. */
  readonly ephemeral: NodeKey.NodeKey
  /** Our nonce for this connection. */
  readonly nonce: Uint8Array
  /** The recipient's node id. */
  readonly remoteId: Uint8Array
  /** The wire form. */
  readonly form: Form
}): Uint8Array => {
  const signature = NodeKey.sign(
    options.ephemeral.secret,
    signedValue(NodeKey.sharedSecret(options.key, options.remoteId), options.nonce)
  )
  const body = options.form === "plain"
    ? Bytes.concat([signature, keccak_256(options.ephemeral.id), options.key.id, options.nonce, Uint8Array.of(0)])
    : Rlp.encodeList([
      Rlp.encodeBytes(signature),
      Rlp.encodeBytes(options.key.id),
      Rlp.encodeBytes(options.nonce),
      Rlp.encodeInteger(version)
    ])
  return seal(options.remoteId, body, options.form)
}

/** Builds the ack message on the wire. */
export const makeAck = (options: {
  /** Our ephemeral key for this connection. */
  readonly ephemeral: NodeKey.NodeKey
  /** Our nonce for this connection. */
  readonly nonce: Uint8Array
  /** The initiator's node id. */
  readonly remoteId: Uint8Array
  /** The wire form (the one the auth came in). */
  readonly form: Form
}): Uint8Array => {
  const body = options.form === "plain"
    ? Bytes.concat([options.ephemeral.id, options.nonce, Uint8Array.of(0)])
    : Rlp.encodeList([Rlp.encodeBytes(options.ephemeral.id), Rlp.encodeBytes(options.nonce), Rlp.encodeInteger(version)])
  return seal(options.remoteId, body, options.form)
}

/** The byte-string fields at the start of an EIP-8 body's list (later fields and the padding are ignored). */
const eip8Fields = (body: Uint8Array, sizes: ReadonlyArray<number>): Array<Uint8Array> | string => {
  const list = Rlp.readItem(body, 0)
  if (list instanceof Rlp.RlpError) return `the body is not RLP (${list.reason})`
  if (!list.isList) return "the body is not an RLP list"
  const items = Rlp.readList(body, list)
  if (items instanceof Rlp.RlpError) return `the body's list is malformed (${items.reason})`
  if (items.length < sizes.length) return `the body's list has ${items.length} items, expected at least ${sizes.length}`
  const fields: Array<Uint8Array> = []
  for (const [index, size] of sizes.entries()) {
    const item = items[index]!
    const bytes = Rlp.payload(body, item)
    if (item.isList || bytes.length !== size) return `item ${index} of the body is not a ${size}-byte string`
    fields.push(bytes)
  }
  return fields
}

/** Where the fields of a plain body lie, and its size. */
interface PlainLayout {
  /** The body's size in bytes. */
  readonly size: number
  /** Each field's [start, end) offsets, in the order of the EIP-8 list. */
  readonly spans: ReadonlyArray<readonly [number, number]>
}

/** A plain auth body: signature, (hash of the ephemeral key), initiator id, nonce, (token flag). */
const plainAuth: PlainLayout = { size: 194, spans: [[0, 65], [97, 161], [161, 193]] }

/** A plain ack body: ephemeral key, nonce, (token flag). */
const plainAck: PlainLayout = { size: 97, spans: [[0, 64], [64, 96]] }

/** The fields of a body in either form; a string says what is wrong with it. */
const fieldsOf = (body: Uint8Array, form: Form, layout: PlainLayout, what: string): Array<Uint8Array> | string => {
  if (form === "eip8") return eip8Fields(body, layout.spans.map(([start, end]) => end - start))
  if (body.length !== layout.size) return `a plain ${what} body has ${layout.size} bytes, not ${body.length}`
  return layout.spans.map(([start, end]) => body.subarray(start, end))
}

/** Reads a decrypted auth body; a string says what is wrong with it. */
export const readAuth = (key: NodeKey.NodeKey, body: Uint8Array, form: Form): Auth | string => {
  const fields = fieldsOf(body, form, plainAuth, "auth")
  if (typeof fields === "string") return fields
  const [signature, initiatorId, nonce] = fields as [Uint8Array, Uint8Array, Uint8Array]
  if (!NodeKey.isValidId(initiatorId)) return "the initiator id is not a secp256k1 public key"
  const ephemeralId = NodeKey.recover(signature, signedValue(NodeKey.sharedSecret(key, initiatorId), nonce))
  if (ephemeralId === undefined) return "the auth signature is invalid"
  if (form === "plain" && !Hex.equals(keccak_256(ephemeralId), body.subarray(65, 97))) {
    return "the ephemeral key hash does not match the signature"
  }
  return { initiatorId: Uint8Array.from(initiatorId), nonce: Uint8Array.from(nonce), ephemeralId }
}

/** Reads a decrypted ack body; a string says what is wrong with it. */
export const readAck = (body: Uint8Array, form: Form): Ack | string => {
  const fields = fieldsOf(body, form, plainAck, "ack")
  if (typeof fields === "string") return fields
  const [ephemeralId, nonce] = fields as [Uint8Array, Uint8Array]
  if (!NodeKey.isValidId(ephemeralId)) return "the ephemeral key is not a secp256k1 public key"
  return { ephemeralId: Uint8Array.from(ephemeralId), nonce: Uint8Array.from(nonce) }
}
