/**
 * `@ethereumjs/devp2p`'s ECIES as an independent oracle for our handshake bytes: it reads our
 * auth and ack in both forms, we read its own, and frames sealed on one side open on the other
 * (which checks our secrets, AES streams and MAC states against another implementation), also
 * frames we seal from two parts.
 */
import { describe, expect, it } from "@effect/vitest"
import { ECIES } from "@ethereumjs/devp2p"
import * as Ecies from "../../src/rlpx/Ecies.ts"
import * as FrameCipher from "../../src/rlpx/FrameCipher.ts"
import * as HandshakeMessage from "../../src/rlpx/HandshakeMessage.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"

/** A message body of some length, every byte different from its neighbour. */
const sample = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff)

/** Checks frames both ways: ours opened by theirs, theirs opened by ours. */
const exchangeFrames = (ours: FrameCipher.FrameCipher, theirs: ECIES) => {
  for (const size of [1, 16, 17, 1000]) {
    const frame = ours.seal(sample(size))
    expect(theirs.parseHeader(frame.subarray(0, 32))).toBe(size)
    expect(theirs.parseBody(frame.subarray(32))).toEqual(sample(size))
    // Sealed from two parts: the same frame as from their concatenation (the oracle opens it alike).
    const split = ours.seal(sample(size).subarray(0, size >> 1), sample(size).subarray(size >> 1))
    expect(theirs.parseHeader(split.subarray(0, 32))).toBe(size)
    expect(theirs.parseBody(split.subarray(32))).toEqual(sample(size))
    const header = theirs.createBlockHeader(size)!
    const body = theirs.createBody(sample(size))!
    expect(ours.openHeader(header)).toBe(size)
    expect(ours.openBody(body, size)).toEqual(sample(size))
  }
}

describe("our handshake against @ethereumjs/devp2p's ECIES", () => {
  for (const form of ["plain", "eip8"] as const) {
    it(`it reads our ${form} auth, we read its ${form} ack, and frames pass both ways`, () => {
      const ourKey = NodeKey.generate()
      const theirKey = NodeKey.generate()
      // A recipient does not know the initiator yet: give it another id, which the auth must replace.
      const theirs = new ECIES(theirKey.secret, theirKey.id, NodeKey.generate().id)
      const ephemeral = NodeKey.generate()
      const nonce = HandshakeMessage.makeNonce()
      const auth = HandshakeMessage.makeAuth({ key: ourKey, ephemeral, nonce, remoteId: theirKey.id, form })
      expect(auth.length === HandshakeMessage.plainAuthSize).toBe(form === "plain")
      if (form === "eip8") {
        theirs["_gotEIP8Auth"] = true
        theirs.parseAuthEIP8(auth)
      } else {
        theirs.parseAuthPlain(auth)
      }
      expect(theirs["_remotePublicKey"]).toEqual(NodeKey.withPrefix(ourKey.id))
      expect(theirs["_remoteNonce"]).toEqual(nonce)
      expect(theirs["_remoteEphemeralPublicKey"]).toEqual(NodeKey.withPrefix(ephemeral.id))
      const ack = form === "eip8" ? theirs.createAckEIP8()! : theirs.createAckOld()!
      expect(ack.length === HandshakeMessage.plainAckSize).toBe(form === "plain")
      const body = form === "eip8"
        ? Ecies.decrypt(ourKey, ack.subarray(2), ack.subarray(0, 2))
        : Ecies.decrypt(ourKey, ack)
      if (typeof body === "string") throw new Error(body)
      const read = HandshakeMessage.readAck(body, form)
      if (typeof read === "string") throw new Error(read)
      expect(read.nonce).toEqual(theirs["_nonce"])
      expect(NodeKey.withPrefix(read.ephemeralId)).toEqual(theirs["_ephemeralPublicKey"])
      const cipher = FrameCipher.make({
        initiator: true,
        ephemeral,
        remoteEphemeralId: read.ephemeralId,
        initiatorNonce: nonce,
        recipientNonce: read.nonce,
        auth,
        ack
      })
      exchangeFrames(cipher, theirs)
    })

    it(`we read its ${form} auth, it reads our ${form} ack, and frames pass both ways`, () => {
      const ourKey = NodeKey.generate()
      const theirKey = NodeKey.generate()
      // Its plain auth does not zero-pad r and s (about one in 128 is 193 bytes long): take a well-formed one.
      let theirs: ECIES
      let auth: Uint8Array
      let body: Uint8Array | string
      do {
        theirs = new ECIES(theirKey.secret, theirKey.id, ourKey.id)
        auth = form === "eip8" ? theirs.createAuthEIP8()! : theirs.createAuthNonEIP8()!
        body = form === "eip8"
          ? Ecies.decrypt(ourKey, auth.subarray(2), auth.subarray(0, 2))
          : Ecies.decrypt(ourKey, auth)
      } while (form === "plain" && typeof body !== "string" && body.length !== 194)
      if (typeof body === "string") throw new Error(body)
      const read = HandshakeMessage.readAuth(ourKey, body, form)
      if (typeof read === "string") throw new Error(read)
      expect(read.initiatorId).toEqual(theirKey.id)
      expect(read.nonce).toEqual(theirs["_nonce"])
      expect(NodeKey.withPrefix(read.ephemeralId)).toEqual(theirs["_ephemeralPublicKey"])
      const ephemeral = NodeKey.generate()
      const nonce = HandshakeMessage.makeNonce()
      const ack = HandshakeMessage.makeAck({ ephemeral, nonce, remoteId: theirKey.id, form })
      if (form === "eip8") {
        theirs["_gotEIP8Ack"] = true
        theirs.parseAckEIP8(ack)
      } else {
        theirs.parseAckPlain(ack)
      }
      expect(theirs["_remoteNonce"]).toEqual(nonce)
      const cipher = FrameCipher.make({
        initiator: false,
        ephemeral,
        remoteEphemeralId: read.ephemeralId,
        initiatorNonce: read.nonce,
        recipientNonce: nonce,
        auth,
        ack
      })
      exchangeFrames(cipher, theirs)
    })
  }

  it("a frame altered in its header or body fails its MAC check", () => {
    const ourKey = NodeKey.generate()
    const theirKey = NodeKey.generate()
    const theirs = new ECIES(theirKey.secret, theirKey.id, ourKey.id)
    const auth = theirs.createAuthEIP8()!
    const body = Ecies.decrypt(ourKey, auth.subarray(2), auth.subarray(0, 2))
    if (typeof body === "string") throw new Error(body)
    const read = HandshakeMessage.readAuth(ourKey, body, "eip8")
    if (typeof read === "string") throw new Error(read)
    const ephemeral = NodeKey.generate()
    const nonce = HandshakeMessage.makeNonce()
    const ack = HandshakeMessage.makeAck({ ephemeral, nonce, remoteId: theirKey.id, form: "eip8" })
    theirs["_gotEIP8Ack"] = true
    theirs.parseAckEIP8(ack)
    const make = () =>
      FrameCipher.make({
        initiator: false,
        ephemeral,
        remoteEphemeralId: read.ephemeralId,
        initiatorNonce: read.nonce,
        recipientNonce: nonce,
        auth,
        ack
      })
    const header = theirs.createBlockHeader(5)!
    const frameBody = theirs.createBody(sample(5))!
    const alteredHeader = Uint8Array.from(header)
    alteredHeader[3]! ^= 1
    expect(make().openHeader(alteredHeader)).toBe("the frame header MAC does not match")
    const cipher = make()
    expect(cipher.openHeader(header)).toBe(5)
    const alteredBody = Uint8Array.from(frameBody)
    alteredBody[0]! ^= 1
    expect(cipher.openBody(alteredBody, 5)).toBe("the frame body MAC does not match")
  })
})
