/**
 * Reading handshake bodies that decrypt but say something wrong: each is refused with what is
 * wrong, in both forms.
 */
import { describe, expect, it } from "@effect/vitest"
import { Rlp } from "@ethsync/core"
import * as Ecies from "../../src/rlpx/Ecies.ts"
import * as HandshakeMessage from "../../src/rlpx/HandshakeMessage.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"

/** A fresh auth to `recipient` in `form`, decrypted back to its body. */
const authBody = (recipient: NodeKey.NodeKey, form: HandshakeMessage.Form): Uint8Array => {
  const wire = HandshakeMessage.makeAuth({
    key: NodeKey.generate(),
    ephemeral: NodeKey.generate(),
    nonce: HandshakeMessage.makeNonce(),
    remoteId: recipient.id,
    form
  })
  const body = form === "plain"
    ? Ecies.decrypt(recipient, wire)
    : Ecies.decrypt(recipient, wire.subarray(2), wire.subarray(0, 2))
  if (typeof body === "string") throw new Error(body)
  return body
}

describe("HandshakeMessage", () => {
  const recipient = NodeKey.generate()

  it("refuses a plain auth whose ephemeral key hash or signature is wrong", () => {
    const hashed = authBody(recipient, "plain")
    hashed[70]! ^= 1
    expect(HandshakeMessage.readAuth(recipient, hashed, "plain")).toBe("the ephemeral key hash does not match the signature")
    const signed = authBody(recipient, "plain")
    signed[64] = 7
    expect(HandshakeMessage.readAuth(recipient, signed, "plain")).toBe("the auth signature is invalid")
    expect(HandshakeMessage.readAuth(recipient, authBody(recipient, "plain").subarray(0, 193), "plain"))
      .toBe("a plain auth body has 194 bytes, not 193")
  })

  it("refuses an EIP-8 auth that is not an RLP list of the right byte strings", () => {
    expect(HandshakeMessage.readAuth(recipient, Uint8Array.of(0x85, 1), "eip8")).toMatch(/^the body is not RLP/)
    expect(HandshakeMessage.readAuth(recipient, Uint8Array.of(0x01), "eip8")).toBe("the body is not an RLP list")
    const short = Rlp.encodeList([Rlp.encodeBytes(new Uint8Array(65)), Rlp.encodeBytes(new Uint8Array(64))])
    expect(HandshakeMessage.readAuth(recipient, short, "eip8")).toBe("the body's list has 2 items, expected at least 3")
    const offCurve = Rlp.encodeList([
      Rlp.encodeBytes(new Uint8Array(65)),
      Rlp.encodeBytes(new Uint8Array(64).fill(1)),
      Rlp.encodeBytes(new Uint8Array(32))
    ])
    expect(HandshakeMessage.readAuth(recipient, offCurve, "eip8")).toBe("the initiator id is not a secp256k1 public key")
    const wrongSize = Rlp.encodeList([64, 64, 32].map((size) => Rlp.encodeBytes(new Uint8Array(size))))
    expect(HandshakeMessage.readAuth(recipient, wrongSize, "eip8")).toBe("item 0 of the body is not a 65-byte string")
  })

  it("reads an EIP-8 auth with extra list items and padding, as EIP-8 asks", () => {
    const body = authBody(recipient, "eip8")
    const list = Rlp.readItem(body, 0) as Rlp.Item
    const items = Rlp.readList(body, list) as Array<Rlp.Item>
    const extended = Rlp.encodeList([...items.map((item) => Rlp.raw(body, item)), Rlp.encodeInteger(99)])
    expect(HandshakeMessage.readAuth(recipient, extended, "eip8")).toBeTypeOf("object")
  })

  it("refuses an ack with a key off the curve or of the wrong size", () => {
    expect(HandshakeMessage.readAck(new Uint8Array(97), "plain")).toBe("the ephemeral key is not a secp256k1 public key")
    expect(HandshakeMessage.readAck(new Uint8Array(96), "plain")).toBe("a plain ack body has 97 bytes, not 96")
  })
})
