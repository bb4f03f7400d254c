/**
 * The p2p base protocol's pieces: capability matching and code offsets, hello and disconnect
 * encoding, snappy limits, and disconnect reasons in words.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Capability from "../../src/rlpx/Capability.ts"
import * as Compression from "../../src/rlpx/Compression.ts"
import { describeReason, DisconnectReason } from "../../src/rlpx/DisconnectReason.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"
import * as P2pMessage from "../../src/rlpx/P2pMessage.ts"

describe("Capability.match", () => {
  it("takes the highest shared version of each name and lays codes out by name from 0x10", () => {
    const ours = [
      { name: "eth", version: 60, length: 8 },
      { name: "eth", version: 61, length: 9 },
      { name: "abc", version: 1, length: 3 },
      { name: "zzz", version: 1, length: 2 }
    ]
    const theirs = [
      { name: "zzz", version: 1 },
      { name: "eth", version: 60 },
      { name: "eth", version: 61 },
      { name: "abc", version: 1 }
    ]
    expect(Capability.match(ours, theirs).map((c) => [c.name, c.version, c.offset])).toEqual([
      ["abc", 1, 0x10],
      ["eth", 61, 0x13],
      ["zzz", 1, 0x1c]
    ])
    expect(Capability.match(ours, [{ name: "eth", version: 60 }])).toEqual([{ name: "eth", version: 60, length: 8, offset: 0x10 }])
    expect(Capability.match(ours, [{ name: "eth", version: 62 }])).toEqual([])
  })
})

describe("P2pMessage", () => {
  it("encodes and decodes a hello", () => {
    const hello: P2pMessage.Hello = {
      version: 4,
      clientId: "Geth/v1.0.2",
      capabilities: [{ name: "eth", version: 61 }, { name: "eth", version: 60 }],
      listenPort: 30303,
      nodeId: NodeKey.generate().id
    }
    expect(P2pMessage.decodeHello(P2pMessage.encodeHello(hello))).toEqual(hello)
  })

  it("says what is wrong with a bad hello", () => {
    expect(P2pMessage.decodeHello(Uint8Array.of(0xc1))).toMatch(/^the hello is not RLP/)
    expect(P2pMessage.decodeHello(Uint8Array.of(0xc2, 0x04, 0x80))).toBe("the hello is not a list of at least 5 items")
    const shortId = P2pMessage.encodeHello({ version: 4, clientId: "x", capabilities: [], listenPort: 0, nodeId: new Uint8Array(63) })
    expect(P2pMessage.decodeHello(shortId)).toBe("the hello's node id is not 64 bytes")
  })

  it("reads a disconnect as [reason], a bare reason, or an empty list", () => {
    expect(P2pMessage.decodeDisconnect(P2pMessage.encodeDisconnect(DisconnectReason.subprotocolError))).toBe(0x0c)
    expect(P2pMessage.decodeDisconnect(Uint8Array.of(0x04))).toBe(DisconnectReason.tooManyPeers)
    expect(P2pMessage.decodeDisconnect(Uint8Array.of(0xc0))).toBe(0)
    expect(P2pMessage.decodeDisconnect(Uint8Array.of(0xc1, 0xc0))).toBe("the disconnect's reason is not a number")
  })
})

describe("Compression", () => {
  it("round-trips, and refuses a block announcing more than the limit or a corrupt one", () => {
    const payload = new TextEncoder().encode("hello ".repeat(100))
    const block = Compression.compress(payload)
    expect(Compression.decompress(block, 1000)).toEqual(payload)
    expect(Compression.announcedLength(block)).toBe(600)
    expect(Compression.announcedLength(Uint8Array.of(0x80, 0x80))).toBeUndefined()
    expect(Compression.decompress(block, 599)).toMatch(/^the snappy block is corrupt/)
    expect(Compression.decompress(Uint8Array.of(10, 0xff, 0xff), 1000)).toMatch(/^the snappy block is corrupt/)
  })
})

describe("DisconnectReason", () => {
  it("names reasons in 2015's numbering, and the later subprotocol error", () => {
    expect(describeReason(DisconnectReason.subprotocolError)).toBe("subprotocol error (0x0c)")
    expect(describeReason(DisconnectReason.quitting)).toBe("client quitting (0x08)")
    expect(describeReason(0x10)).toBe("subprotocol error (0x10, post-2015 numbering)")
    expect(describeReason(0x20)).toBe("unknown reason (0x20)")
  })
})
