/**
 * Our RLPx against `@ethereumjs/devp2p` (an independent implementation) over loopback: our
 * dialler (EIP-8, as it reads no plain auth) against its listener, and its dialler against our
 * listener. Its hello says p2p version 5, so with our default version 4 nothing is compressed,
 * and with our version 5 both sides compress.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Capabilities, type Peer, RLPx, type RLPxOptions } from "@ethereumjs/devp2p"
import { Effect, Queue } from "effect"
import * as Compression from "../../src/rlpx/Compression.ts"
import * as Dial from "../../src/rlpx/Dial.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"
import { bounded, bytes, nodeOptions, testCapability, testListener, text } from "./Peers.ts"

/** A message its side of the test capability received. */
interface Received {
  /** The code within the capability. */
  readonly code: number
  /** The payload as it handed it over (decompressed). */
  readonly payload: Uint8Array
}

/** The test capability on its side: a sender for each peer, and what arrives. */
interface TheirProtocol {
  /** Sends a message of the test capability (compressing it when the peer's hello asks). */
  readonly send: (code: number, payload: Uint8Array) => void
}

/** A devp2p node speaking the test capability, destroyed with the scope. */
const theirNode = Effect.gen(function*() {
  const key = NodeKey.generate()
  const received = yield* Queue.unbounded<Received>()
  const protocols = yield* Queue.unbounded<TheirProtocol>()
  class TestProtocol implements TheirProtocol {
    readonly peer: Peer
    readonly rawSend: (code: number, payload: Uint8Array) => void
    constructor(_version: number, peer: Peer, send: (code: number, payload: Uint8Array) => void) {
      this.peer = peer
      this.rawSend = send
      Queue.offerUnsafe(protocols, this)
    }
    send(code: number, payload: Uint8Array) {
      const version = this.peer.getHelloMessage()?.protocolVersion ?? 0
      this.rawSend(code, version >= Compression.fromVersion ? Compression.compress(payload) : payload)
    }
    _handleMessage(code: number, payload: Uint8Array) {
      Queue.offerUnsafe(received, { code, payload })
    }
  }
  const capability = { ...testCapability, constructor: TestProtocol } as unknown as Capabilities
  const rlpx = yield* Effect.acquireRelease(
    Effect.sync(() =>
      // It reads only optional crypto overrides from `common`, so none is needed.
      new RLPx(key.secret, { capabilities: [capability], common: undefined as unknown as RLPxOptions["common"], maxPeers: 5 })
    ),
    (rlpx) => Effect.sync(() => rlpx.destroy())
  )
  return { key, rlpx, received, protocols }
})

describe("our RLPx against @ethereumjs/devp2p", () => {
  for (const p2pVersion of [4, 5]) {
    it.live(`our dialler (EIP-8, p2p ${p2pVersion}) against its listener: hellos, and a message each way`, () =>
      Effect.gen(function*() {
        const theirs = yield* theirNode
        theirs.rlpx.listen(0, "127.0.0.1")
        yield* bounded(Effect.callback<void>((resume) => {
          theirs.rlpx.events.once("listening", () => resume(Effect.void))
        }))
        const address = theirs.rlpx["_server"]!.address()
        if (address === null || typeof address === "string") return yield* Effect.die("no address")
        const connection = yield* Dial.dial({
          ...nodeOptions({ p2pVersion }),
          remote: { id: theirs.key.id, host: "127.0.0.1", port: address.port },
          handshake: "eip8"
        })
        expect(connection.hello.version).toBe(5)
        expect(connection.compressed).toBe(p2pVersion >= 5)
        expect(connection.capabilities.map((c) => `${c.name}/${c.version}`)).toEqual(["test/1"])
        yield* connection.send("test", 2, bytes("from ethsync"))
        expect(yield* bounded(Queue.take(theirs.received))).toEqual({ code: 2, payload: bytes("from ethsync") })
        const protocol = yield* bounded(Queue.take(theirs.protocols))
        protocol.send(1, bytes("from devp2p"))
        const message = yield* bounded(connection.receive)
        expect([message.code, text(message.payload)]).toEqual([1, "from devp2p"])
      }))

    it.live(`its dialler (EIP-8) against our listener (p2p ${p2pVersion}): hellos, and a message each way`, () =>
      Effect.gen(function*() {
        const server = yield* testListener(nodeOptions({ p2pVersion }))
        const theirs = yield* theirNode
        yield* Effect.promise(() =>
          theirs.rlpx.connect({ id: server.options.key.id, address: "127.0.0.1", tcpPort: server.listener.port })
        )
        const connection = yield* bounded(Queue.take(server.accepted))
        expect(connection.remoteId).toEqual(theirs.key.id)
        expect(connection.compressed).toBe(p2pVersion >= 5)
        const protocol = yield* bounded(Queue.take(theirs.protocols))
        protocol.send(3, bytes("from devp2p"))
        const message = yield* bounded(connection.receive)
        expect([message.code, text(message.payload)]).toEqual([3, "from devp2p"])
        yield* connection.send("test", 0, bytes("from ethsync"))
        expect(yield* bounded(Queue.take(theirs.received))).toEqual({ code: 0, payload: bytes("from ethsync") })
      }))
  }
})
