/**
 * ECIES as RLPx defines it, for the handshake messages: an ephemeral secp256k1 key, the concat
 * KDF (SHA-256) of the ECDH secret giving an AES-128-CTR key and an HMAC-SHA-256 key (itself
 * hashed with SHA-256), and the wire form `R (65 bytes) ‖ iv (16) ‖ ciphertext ‖ mac (32)`.
 * EIP-8 messages authenticate their size prefix as "shared MAC data".
 *
 * @since 0.2.0
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import * as NodeKey from "./NodeKey.ts"

/** Bytes ECIES adds to a plaintext: the ephemeral public key, the IV and the MAC. */
export const overhead = 65 + 16 + 32

/** The AES key and the MAC key derived from an ECDH secret. */
const deriveKeys = (shared: Uint8Array): { readonly encryption: Uint8Array; readonly mac: Uint8Array } => {
  const counter = Uint8Array.of(0, 0, 0, 1)
  const keys = createHash("sha256").update(counter).update(shared).digest()
  return { encryption: keys.subarray(0, 16), mac: createHash("sha256").update(keys.subarray(16, 32)).digest() }
}

/** The HMAC-SHA-256 tag over the IV, the ciphertext and the shared MAC data. */
const tag = (macKey: Uint8Array, ivAndCiphertext: Uint8Array, sharedMacData: Uint8Array): Uint8Array =>
  createHmac("sha256", macKey).update(ivAndCiphertext).update(sharedMacData).digest()

/** Encrypts `plaintext` to the holder of node id `remoteId`. */
export const encrypt = (remoteId: Uint8Array, plaintext: Uint8Array, sharedMacData: Uint8Array = new Uint8Array(0)): Uint8Array => {
  const ephemeral = NodeKey.generate()
  const keys = deriveKeys(NodeKey.sharedSecret(ephemeral, remoteId))
  const iv = randomBytes(16)
  const cipher = createCipheriv("aes-128-ctr", keys.encryption, iv)
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  const out = new Uint8Array(overhead + plaintext.length)
  out.set(NodeKey.withPrefix(ephemeral.id), 0)
  out.set(iv, 65)
  out.set(ciphertext, 81)
  out.set(tag(keys.mac, out.subarray(65, 81 + plaintext.length), sharedMacData), 81 + plaintext.length)
  return out
}

/** Decrypts a message sent to the holder of `key`; a string says why it cannot be decrypted. */
export const decrypt = (
  key: NodeKey.NodeKey,
  message: Uint8Array,
  sharedMacData: Uint8Array = new Uint8Array(0)
): Uint8Array | string => {
  if (message.length < overhead) return `${message.length} bytes are too few for an ECIES message`
  if (message[0] !== 4) return "the ephemeral key is not an uncompressed point"
  const ephemeralId = message.subarray(1, 65)
  if (!NodeKey.isValidId(ephemeralId)) return "the ephemeral key is not on the curve"
  const keys = deriveKeys(NodeKey.sharedSecret(key, ephemeralId))
  const macAt = message.length - 32
  if (!timingSafeEqual(tag(keys.mac, message.subarray(65, macAt), sharedMacData), message.subarray(macAt))) {
    return "the ECIES MAC does not match (not for our key, or altered)"
  }
  const decipher = createDecipheriv("aes-128-ctr", keys.encryption, message.subarray(65, 81))
  return new Uint8Array(Buffer.concat([decipher.update(message.subarray(81, macAt)), decipher.final()]))
}
