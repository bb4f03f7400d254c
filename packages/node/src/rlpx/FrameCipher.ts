/**
 * RLPx frames after the handshake: the session secrets (from the ephemeral ECDH and both
 * nonces), AES-256-CTR over headers and bodies (one key stream per direction), and the running
 * keccak-256 MACs of each direction, seeded through AES-256-ECB with the MAC secret. Every MAC
 * is checked; a mismatch is reported, never ignored.
 *
 * @since 0.2.0
 */
import { Bytes, RunningKeccak } from "@ethsync/core"
import { keccak_256 } from "@noble/hashes/sha3.js"
import { type Cipher, createCipheriv, createDecipheriv, type Decipher, timingSafeEqual } from "node:crypto"
import * as NodeKey from "./NodeKey.ts"

/** What one side knows at the end of the handshake, enough to derive the session secrets. */
export interface HandshakeOutcome {
  /** Whether we sent the auth (the initiator) or the ack (the recipient). */
  readonly initiator: boolean
  /** Our ephemeral key. */
  readonly ephemeral: NodeKey.NodeKey
  /** The other side's ephemeral public key. */
  readonly remoteEphemeralId: Uint8Array
  /** The initiator's nonce. */
  readonly initiatorNonce: Uint8Array
  /** The recipient's nonce. */
  readonly recipientNonce: Uint8Array
  /** The auth exactly as it was on the wire (EIP-8 size prefix included). */
  readonly auth: Uint8Array
  /** The ack exactly as it was on the wire. */
  readonly ack: Uint8Array
}

/** Encrypts outgoing frames and checks and decrypts incoming ones, for one connection. */
export interface FrameCipher {
  /** The whole frame (header, header MAC, padded body, body MAC) carrying `parts`, one after the other (not copied together first). */
  readonly seal: (...parts: ReadonlyArray<Uint8Array>) => Uint8Array
  /** The body size announced by a 32-byte header and its MAC, or a reason when the MAC does not match. */
  readonly openHeader: (header: Uint8Array) => number | string
  /** The body of `size` bytes from its padded ciphertext and MAC, or a reason when the MAC does not match. */
  readonly openBody: (body: Uint8Array, size: number) => Uint8Array | string
}

/** Bytes of a header with its MAC. */
export const headerSize = 32

/** Bytes of a padded body with its MAC, for a body of `size` bytes. */
export const sealedBodySize = (size: number): number => Math.ceil(size / 16) * 16 + 16

/** The header data go-ethereum sends (an RLP list of two zeros: capability id and context id). */
const headerData = Uint8Array.of(0xc2, 0x80, 0x80)

/** The bytes of `a` xor `b`, over the length of `a`. */
const xor = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length)
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!
  return out
}

/** The first 16 bytes of the MAC's current digest, leaving its running state as it is. */
const peek = (mac: RunningKeccak.RunningKeccak): Uint8Array => mac.digest().subarray(0, 16)

/** Derives the session's ciphers and MAC states from what the handshake exchanged. */
export const make = (outcome: HandshakeOutcome): FrameCipher => {
  const ephemeralKey = NodeKey.sharedSecret(outcome.ephemeral, outcome.remoteEphemeralId)
  const sharedSecret = keccak_256(
    Bytes.concat([ephemeralKey, keccak_256(Bytes.concat([outcome.recipientNonce, outcome.initiatorNonce]))])
  )
  const aesSecret = keccak_256(Bytes.concat([ephemeralKey, sharedSecret]))
  const macSecret = keccak_256(Bytes.concat([ephemeralKey, aesSecret]))
  const initiatorMac = RunningKeccak.make().update(xor(macSecret, outcome.recipientNonce)).update(outcome.auth)
  const recipientMac = RunningKeccak.make().update(xor(macSecret, outcome.initiatorNonce)).update(outcome.ack)
  const egressMac = outcome.initiator ? initiatorMac : recipientMac
  const ingressMac = outcome.initiator ? recipientMac : initiatorMac
  const zeroIv = new Uint8Array(16)
  const egressAes: Cipher = createCipheriv("aes-256-ctr", aesSecret, zeroIv)
  const ingressAes: Decipher = createDecipheriv("aes-256-ctr", aesSecret, zeroIv)
  const macSeed: Cipher = createCipheriv("aes-256-ecb", macSecret, null).setAutoPadding(false)

  /** Mixes a header ciphertext into a MAC and returns the header MAC. */
  const headerMac = (mac: RunningKeccak.RunningKeccak, ciphertext: Uint8Array): Uint8Array => {
    mac.update(xor(macSeed.update(peek(mac)), ciphertext))
    return peek(mac)
  }
  /** Mixes a body ciphertext into a MAC and returns the body MAC. */
  const bodyMac = (mac: RunningKeccak.RunningKeccak, ciphertext: Uint8Array): Uint8Array => {
    mac.update(ciphertext)
    const seed = peek(mac)
    mac.update(xor(macSeed.update(seed), seed))
    return peek(mac)
  }

  return {
    seal: (...parts) => {
      let size = 0
      for (const part of parts) size += part.length
      const header = new Uint8Array(16)
      header[0] = size >> 16
      header[1] = (size >> 8) & 0xff
      header[2] = size & 0xff
      header.set(headerData, 3)
      const paddedSize = sealedBodySize(size) - 16
      const out = new Uint8Array(headerSize + paddedSize + 16)
      const headerCiphertext = egressAes.update(header)
      out.set(headerCiphertext, 0)
      out.set(headerMac(egressMac, headerCiphertext), 16)
      // The key stream runs on from part to part and into the zero padding, so each is encrypted in place.
      let at = headerSize
      for (const part of parts) {
        out.set(egressAes.update(part), at)
        at += part.length
      }
      out.set(egressAes.update(new Uint8Array(paddedSize - size)), at)
      out.set(bodyMac(egressMac, out.subarray(headerSize, headerSize + paddedSize)), headerSize + paddedSize)
      return out
    },
    openHeader: (header) => {
      const ciphertext = header.subarray(0, 16)
      if (!timingSafeEqual(headerMac(ingressMac, ciphertext), header.subarray(16, 32))) return "the frame header MAC does not match"
      const plain = ingressAes.update(ciphertext)
      return (plain[0]! << 16) | (plain[1]! << 8) | plain[2]!
    },
    openBody: (body, size) => {
      const macAt = body.length - 16
      const ciphertext = body.subarray(0, macAt)
      if (!timingSafeEqual(bodyMac(ingressMac, ciphertext), body.subarray(macAt))) return "the frame body MAC does not match"
      const plain = ingressAes.update(ciphertext)
      // A plain Uint8Array view (not the Buffer, whose slice does not copy) without copying the body.
      return new Uint8Array(plain.buffer, plain.byteOffset, size)
    }
  }
}
