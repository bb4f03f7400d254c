/**
 * A node's secp256k1 key as RLPx uses it: the node id (the 64-byte public key without its
 * 0x04 prefix), ECDH shared secrets (the x coordinate), and recoverable signatures of a 32-byte
 * hash in the wire form r‖s‖v (always 65 bytes, v last; `@noble/curves` would pre-hash with
 * sha256 and put the recovery byte first unless told otherwise). Public keys and ECDH run on
 * Node's OpenSSL (about twice as fast as `@noble/curves` here: four of each per handshake and
 * side, on the path of every connection's start), ECDH from keys imported with their public
 * half, so that OpenSSL does not compute it again (an ECDH context does, before each agreement:
 * docs/PERFORMANCE.md, "R1, fourth round"); signatures on `@noble/curves`, as OpenSSL gives no recovery id.
 *
 * @since 0.2.0
 */
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { createECDH, createPrivateKey, createPublicKey, diffieHellman, type ECDH } from "node:crypto"

/** A node's private key and the id derived from it. */
export interface NodeKey {
  /** The 32-byte secret scalar. */
  readonly secret: Uint8Array
  /** The 64-byte node id: the uncompressed public key without its 0x04 prefix. */
  readonly id: Uint8Array
}

/** Bytes of a node id. */
export const idLength = 64

/** Bytes of a wire signature r‖s‖v. */
export const signatureLength = 65

/** An OpenSSL ECDH context holding `secret` (a valid scalar). */
const ecdhOf = (secret: Uint8Array): ECDH => {
  const ecdh = createECDH("secp256k1")
  ecdh.setPrivateKey(secret)
  return ecdh
}

/** The key for a 32-byte secret, or `undefined` when the bytes are not a valid secp256k1 scalar. */
export const fromSecret = (secret: Uint8Array): NodeKey | undefined => {
  if (secret.length !== 32 || !secp256k1.utils.isValidSecretKey(secret)) return undefined
  return { secret: Uint8Array.from(secret), id: new Uint8Array(ecdhOf(secret).getPublicKey().subarray(1)) }
}

/** A fresh random key, from the system's CSPRNG. */
export const generate = (): NodeKey => fromSecret(secp256k1.utils.randomSecretKey())!

/** Whether 64 bytes are a point on the curve, so that they can be a node id. */
export const isValidId = (id: Uint8Array): boolean =>
  id.length === idLength && secp256k1.utils.isValidPublicKey(withPrefix(id), false)

/** A field of a JSON web key: base64url. */
const jwkField = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64url")

/** The JSON web key of the point `id`: its x and y coordinates. */
const jwkPoint = (id: Uint8Array) => ({ kty: "EC", crv: "secp256k1", x: jwkField(id.subarray(0, 32)), y: jwkField(id.subarray(32)) })

/**
 * The x coordinate of `key`'s secret times the point `id`: the ECDH secret RLPx uses (32 bytes).
 * Throws when `id` is not a point on the curve (callers check a peer's with {@link isValidId}).
 */
export const sharedSecret = (key: NodeKey, id: Uint8Array): Uint8Array =>
  new Uint8Array(diffieHellman({
    privateKey: createPrivateKey({ key: { ...jwkPoint(key.id), d: jwkField(key.secret) }, format: "jwk" }),
    publicKey: createPublicKey({ key: jwkPoint(id), format: "jwk" })
  }))

/** Signs a 32-byte hash as is (no pre-hash): r‖s‖v, 65 bytes, r and s zero-padded to 32 bytes. */
export const sign = (secret: Uint8Array, hash: Uint8Array): Uint8Array => {
  const recovered = secp256k1.sign(hash, secret, { prehash: false, format: "recovered" })
  const out = new Uint8Array(signatureLength)
  out.set(recovered.subarray(1), 0)
  out[64] = recovered[0]!
  return out
}

/** The node id that signed `hash` with the r‖s‖v signature, or `undefined` when it is not a valid signature. */
export const recover = (signature: Uint8Array, hash: Uint8Array): Uint8Array | undefined => {
  if (signature.length !== signatureLength || signature[64]! > 1) return undefined
  const recovered = new Uint8Array(signatureLength)
  recovered[0] = signature[64]!
  recovered.set(signature.subarray(0, 64), 1)
  try {
    const point = secp256k1.Point.fromBytes(secp256k1.recoverPublicKey(recovered, hash, { prehash: false }))
    return point.toBytes(false).subarray(1)
  } catch {
    return undefined
  }
}

/** The uncompressed SEC1 encoding of a node id (0x04 in front). */
export const withPrefix = (id: Uint8Array): Uint8Array => {
  const out = new Uint8Array(65)
  out[0] = 4
  out.set(id, 1)
  return out
}
