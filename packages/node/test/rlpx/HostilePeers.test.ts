/**
 * Hostile peers written with raw `node:net` sockets (and our own primitives where they must get
 * a step right to reach the next one): each gets a tagged error naming what it did wrong, its
 * connection is closed, and the listener goes on serving a good peer. Also a dialler facing a
 * listener that answers garbage or nothing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Bytes, Rlp } from "@ethsync/core"
import { type Duration, Effect, Fiber, Queue, type Scope } from "effect"
import { TestClock } from "effect/testing"
import { connect, createServer, type Socket } from "node:net"
import * as Connection from "../../src/rlpx/Connection.ts"
import type { ConnectionError } from "../../src/rlpx/ConnectionError.ts"
import * as Dial from "../../src/rlpx/Dial.ts"
import { DisconnectReason } from "../../src/rlpx/DisconnectReason.ts"
import type * as FrameCipher from "../../src/rlpx/FrameCipher.ts"
import { headerSize, sealedBodySize } from "../../src/rlpx/FrameCipher.ts"
import * as Handshake from "../../src/rlpx/Handshake.ts"
import * as HandshakeMessage from "../../src/rlpx/HandshakeMessage.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"
import * as P2pMessage from "../../src/rlpx/P2pMessage.ts"
import * as SocketChannel from "../../src/rlpx/SocketChannel.ts"
import { bigMessageLimit, bounded, bytes, nodeOptions, patientTiming, testListener, text } from "./Peers.ts"

type TestServer = Effect.Success<ReturnType<typeof testListener>>

/** A socket and our channel over it. */
interface Raw {
  /** The socket. */
  readonly socket: Socket
  /** Our channel over it. */
  readonly channel: SocketChannel.SocketChannel
}

/** A raw TCP connection to a port, destroyed with the scope. */
const rawConnection = (port: number): Effect.Effect<Raw, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<Raw>((resume) => {
      const socket = connect({ host: "127.0.0.1", port })
      const channel = SocketChannel.make(socket, "5 seconds")
      socket.once("connect", () => resume(Effect.succeed({ socket, channel })))
    }),
    ({ socket }) => Effect.sync(() => socket.destroy())
  )

/** Waits (bounded) until the other side has closed the socket. */
const closedByPeer = (socket: Socket) =>
  bounded(Effect.callback<void>((resume) => {
    if (socket.readableEnded || socket.destroyed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
    socket.resume()
  }))

/** A raw peer past a good handshake: it frames what it likes with the session's cipher. */
const handshaken = (server: TestServer, p2pVersion = 4) =>
  Effect.gen(function*() {
    const { socket, channel } = yield* rawConnection(server.listener.port)
    const key = NodeKey.generate()
    const cipher = yield* Handshake.initiate(channel, key, server.enode.id, "plain")
    const frame = (code: number, payload: Uint8Array) => cipher.seal(Bytes.concat([Rlp.encodeInteger(code), payload]))
    const helloPayload = P2pMessage.encodeHello({
      version: p2pVersion,
      clientId: "hostile",
      capabilities: [{ name: "test", version: 1 }],
      listenPort: 0,
      nodeId: key.id
    })
    /** Its hello frame (frames must be sealed in the order they are sent). */
    const hello = () => frame(P2pMessage.Code.hello, helloPayload)
    return { socket, channel, cipher, frame, hello, helloPayload }
  })

/** Reads the next message our side sent: its code and payload. */
const readMessage = (channel: SocketChannel.SocketChannel, cipher: FrameCipher.FrameCipher) =>
  Effect.gen(function*() {
    const size = cipher.openHeader(yield* channel.read(headerSize))
    if (typeof size === "string") return yield* Effect.die(size)
    const body = cipher.openBody(yield* channel.read(sealedBodySize(size)), size)
    if (typeof body === "string") return yield* Effect.die(body)
    const item = Rlp.readItem(body, 0)
    if (item instanceof Rlp.RlpError) return yield* Effect.die(item)
    return { code: Rlp.payload(body, item)[0] ?? 0, payload: body.subarray(item.end) }
  })

/** Checks the listener still serves: a good peer dials and its message arrives. */
const stillServes = (server: TestServer) =>
  Effect.gen(function*() {
    const good = yield* Dial.dial({ ...nodeOptions(), remote: server.enode })
    yield* good.send("test", 1, bytes("good peer"))
    for (;;) {
      const accepted = yield* bounded(Queue.take(server.accepted))
      if (accepted.hello.clientId !== "hostile") {
        expect(text((yield* bounded(accepted.receive)).payload)).toBe("good peer")
        return
      }
    }
  })

/** The next accepted connection that ends, with why. */
const nextEnd = (server: TestServer, limit?: Duration.Input): Failure =>
  Effect.flatMap(bounded(Queue.take(server.accepted)), (connection) => bounded(connection.closed, limit))

/** A plain auth whose third byte is not 0x04, so that it cannot be mistaken for the start of an EIP-8 one. */
const plainAuth = (recipient: Uint8Array): Uint8Array => {
  for (;;) {
    const auth = HandshakeMessage.makeAuth({
      key: NodeKey.generate(),
      ephemeral: NodeKey.generate(),
      nonce: HandshakeMessage.makeNonce(),
      remoteId: recipient,
      form: "plain"
    })
    if (auth[2] !== 4) return auth
  }
}

/** A failure the listener reports: of a handshake, or of an accepted connection that ended. */
type Failure = Effect.Effect<ConnectionError, unknown>

/** The next handshake the listener failed, with why. */
const failedHandshake = (server: TestServer): Failure => bounded(Queue.take(server.failures))

/**
 * The listener refused the peer on `socket`: its `failure` matches `expected` (and its message says
 * `says`), the socket is closed by the listener, and a good peer is still served.
 */
const refused = (server: TestServer, socket: Socket, failure: Failure, expected: Partial<ConnectionError>, says?: string) =>
  Effect.gen(function*() {
    const error = yield* failure
    expect(error).toMatchObject(expected)
    if (says !== undefined) expect(error.message).toContain(says)
    yield* closedByPeer(socket)
    yield* stillServes(server)
  })

describe("hostile peers against our listener", () => {
  it.live("garbage where the auth should be: HandshakeError, closed at once", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const { socket } = yield* rawConnection(server.listener.port)
      socket.write(new Uint8Array(400).fill(0xff))
      yield* refused(server, socket, failedHandshake(server), { _tag: "HandshakeError", step: "auth" }, "not a plain auth")
    }))

  it.live("a plain auth with a bad MAC: HandshakeError naming the MAC", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const { socket } = yield* rawConnection(server.listener.port)
      const auth = plainAuth(server.enode.id)
      auth[auth.length - 1]! ^= 1
      socket.write(auth)
      yield* refused(server, socket, failedHandshake(server), { _tag: "HandshakeError", step: "auth" }, "MAC does not match")
    }))

  it.live("an EIP-8 auth with a bad MAC, and one encrypted to another key: HandshakeError", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      for (const recipient of [server.enode.id, NodeKey.generate().id]) {
        const { socket } = yield* rawConnection(server.listener.port)
        const auth = HandshakeMessage.makeAuth({
          key: NodeKey.generate(),
          ephemeral: NodeKey.generate(),
          nonce: HandshakeMessage.makeNonce(),
          remoteId: recipient,
          form: "eip8"
        })
        if (recipient === server.enode.id) auth[auth.length - 1]! ^= 1
        socket.write(auth)
        const error = yield* bounded(Queue.take(server.failures))
        expect(error).toMatchObject({ _tag: "HandshakeError", step: "auth" })
        expect(error.message).toContain("MAC does not match")
        yield* closedByPeer(socket)
      }
      yield* stillServes(server)
    }))

  it.live("more than 50 unfinished handshakes at once: the extra sockets are closed at once, and once those time out a good peer gets in", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const idle = yield* Effect.forEach(Array.from({ length: 50 }), () => rawConnection(server.listener.port))
      const started = Date.now()
      const extra = yield* rawConnection(server.listener.port)
      yield* closedByPeer(extra.socket)
      // Closed at once, not at the handshake deadline (1 s) as the 50 will be.
      expect(Date.now() - started).toBeLessThan(500)
      // The 50 time out after the (1 s) deadline; then a good peer is served.
      yield* Effect.forEach(idle, ({ socket }) => closedByPeer(socket), { discard: true })
      yield* stillServes(server)
    }))

  it.live("a peer that never completes the handshake is closed after the deadline", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const { socket } = yield* rawConnection(server.listener.port)
      socket.write(plainAuth(server.enode.id).subarray(0, 100))
      const started = Date.now()
      expect(yield* bounded(Queue.take(server.failures))).toMatchObject({ _tag: "HandshakeTimeout", millis: 1000 })
      expect(Date.now() - started).toBeGreaterThanOrEqual(900)
      yield* closedByPeer(socket)
      yield* stillServes(server)
    }))

  it.live("a hello frame with a bad MAC: FrameMacMismatch before the handler runs", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const peer = yield* handshaken(server)
      const hello = peer.hello()
      hello[hello.length - 1]! ^= 1
      peer.socket.write(hello)
      yield* refused(server, peer.socket, failedHandshake(server), { _tag: "FrameMacMismatch", part: "body" })
    }))

  it.live("a hello that is not RLP: ProtocolError", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const peer = yield* handshaken(server)
      peer.socket.write(peer.frame(P2pMessage.Code.hello, Uint8Array.of(0xc5, 1)))
      yield* refused(server, peer.socket, failedHandshake(server), { _tag: "ProtocolError" }, "the hello is not RLP")
    }))

  it.live("messages in the same write as the hello are not lost", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const peer = yield* handshaken(server)
      peer.socket.write(Bytes.concat([
        peer.hello(),
        peer.frame(0x10 + 2, bytes("first")),
        peer.frame(0x10 + 3, bytes("second"))
      ]))
      const connection = yield* bounded(Queue.take(server.accepted))
      expect(yield* bounded(connection.receive)).toMatchObject({ code: 2, payload: bytes("first") })
      expect(yield* bounded(connection.receive)).toMatchObject({ code: 3, payload: bytes("second") })
    }))

  it.live("a frame with a bad MAC after the hellos: FrameMacMismatch, Disconnect, closed", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const peer = yield* handshaken(server)
      const hello = peer.hello()
      const bad = peer.frame(0x11, bytes("tampered"))
      bad[5]! ^= 1
      peer.socket.write(Bytes.concat([hello, bad]))
      yield* refused(server, peer.socket, nextEnd(server), { _tag: "FrameMacMismatch", part: "header" })
    }))

  it.live("a message of 10 MiB + 1 from the peer: MessageTooLarge, closed", () =>
    Effect.gen(function*() {
      const server = yield* testListener(nodeOptions({ timing: patientTiming }))
      const peer = yield* handshaken(server)
      peer.socket.write(peer.hello())
      peer.socket.write(peer.frame(0x11, new Uint8Array(Connection.maxMessageSize + 1)))
      const tooLarge = { _tag: "MessageTooLarge", direction: "in", size: Connection.maxMessageSize + 1 } as const
      yield* refused(server, peer.socket, nextEnd(server, bigMessageLimit), tooLarge)
    }))

  it.live("at p2p version 5, a snappy block announcing over 10 MiB, or a corrupt one: refused, closed", () =>
    Effect.gen(function*() {
      const server = yield* testListener(nodeOptions({ p2pVersion: 5 }))
      const announcing = Uint8Array.of(0x81, 0x80, 0x80, 0x05, 0x00) // the varint of 10 MiB + 1, then nothing
      const cases = [[announcing, "MessageTooLarge"], [Uint8Array.of(0x0a, 0xff, 0xff), "ProtocolError"]] as const
      for (const [block, tag] of cases) {
        const peer = yield* handshaken(server, 5)
        const hello = peer.hello()
        peer.socket.write(Bytes.concat([hello, peer.frame(0x11, block)]))
        const end = yield* nextEnd(server)
        expect(end._tag).toBe(tag)
        yield* closedByPeer(peer.socket)
      }
      yield* stillServes(server)
    }))

  it.live("a message code no shared capability owns, and a second hello: ProtocolError", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      for (const [code, reason] of [[0x40, "belongs to no shared capability"], [0x00, "a second hello"]] as const) {
        const peer = yield* handshaken(server)
        peer.socket.write(Bytes.concat([peer.hello(), peer.frame(code, peer.helloPayload)]))
        const end = yield* nextEnd(server)
        expect(end._tag).toBe("ProtocolError")
        expect(end.message).toContain(reason)
        yield* closedByPeer(peer.socket)
      }
      yield* stillServes(server)
    }))

  it.live("a ping flood is answered, pong for ping, and the connection stays up", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const peer = yield* handshaken(server)
      const pings = 5000
      const ping = () => peer.frame(P2pMessage.Code.ping, P2pMessage.emptyList)
      peer.socket.write(Bytes.concat([peer.hello(), ...Array.from({ length: pings }, ping)]))
      const connection = yield* bounded(Queue.take(server.accepted))
      let pongs = 0
      yield* bounded(Effect.gen(function*() {
        while (pongs < pings) {
          const message = yield* readMessage(peer.channel, peer.cipher)
          if (message.code === P2pMessage.Code.pong) pongs++
        }
      }))
      expect(pongs).toBe(pings)
      expect((yield* connection.stats).in.get("p2p:2")!.messages).toBe(pings)
      peer.socket.write(peer.frame(0x11, bytes("still talking")))
      expect(text((yield* bounded(connection.receive)).payload)).toBe("still talking")
      yield* stillServes(server)
    }))

  it.live("a peer silent past the idle limit: IdleTimeout, Disconnect with read timeout, closed", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const peer = yield* handshaken(server)
      peer.socket.write(peer.hello())
      expect(yield* nextEnd(server)).toMatchObject({ _tag: "IdleTimeout", direction: "read", millis: 1500 })
      let last = yield* readMessage(peer.channel, peer.cipher)
      while (last.code !== P2pMessage.Code.disconnect) last = yield* readMessage(peer.channel, peer.cipher)
      expect(P2pMessage.decodeDisconnect(last.payload)).toBe(DisconnectReason.readTimeout)
      yield* closedByPeer(peer.socket)
      yield* stillServes(server)
    }))
})

describe("liveness on the default durations, on Effect's clock", () => {
  it.effect("pings at 15 s, and drops a peer silent for 30 s with a read timeout", () =>
    Effect.gen(function*() {
      /** Waits on real I/O (the sockets), bounded on the real clock. */
      const live = <A, E>(effect: Effect.Effect<A, E>) => TestClock.withLive(bounded(effect))
      const server = yield* testListener(nodeOptions({ timing: {} }))
      const peer = yield* handshaken(server)
      peer.socket.write(peer.hello())
      const connection = yield* live(Queue.take(server.accepted))
      const ending = yield* Effect.forkChild(connection.closed)
      expect((yield* live(readMessage(peer.channel, peer.cipher))).code).toBe(P2pMessage.Code.hello)
      yield* TestClock.adjust("14 seconds")
      yield* TestClock.withLive(Effect.sleep("50 millis"))
      expect((yield* connection.stats).out.get("p2p:2")).toBeUndefined()
      yield* TestClock.adjust("1 second")
      expect((yield* live(readMessage(peer.channel, peer.cipher))).code).toBe(P2pMessage.Code.ping)
      expect((yield* connection.stats).out.get("p2p:2")).toEqual({ messages: 1, bytes: 1 })
      yield* TestClock.adjust("14 seconds")
      yield* TestClock.withLive(Effect.sleep("50 millis"))
      expect(ending.pollUnsafe()).toBeUndefined()
      yield* TestClock.adjust("1 second")
      expect(yield* live(Fiber.join(ending))).toMatchObject({ _tag: "IdleTimeout", direction: "read", millis: 30_000 })
    }))
})

describe("a hostile listener against our dialler", () => {
  /** A TCP server that answers each connection with `answer` (nothing when empty), closed with the scope. */
  const rawServer = (answer: Uint8Array) =>
    Effect.acquireRelease(
      Effect.callback<import("node:net").Server>((resume) => {
        const server = createServer((socket) => {
          socket.on("error", () => undefined)
          socket.once("data", () => {
            if (answer.length > 0) socket.write(answer)
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) => Effect.sync(() => server.close())
    ).pipe(Effect.map((server) => {
      const address = server.address()
      return typeof address === "object" && address !== null ? address.port : 0
    }))

  it.live("garbage for an ack: HandshakeError", () =>
    Effect.gen(function*() {
      const port = yield* rawServer(new Uint8Array(HandshakeMessage.plainAckSize).fill(0x42))
      const error = yield* Effect.flip(Dial.dial({ ...nodeOptions(), remote: { id: NodeKey.generate().id, host: "127.0.0.1", port } }))
      expect(error).toMatchObject({ _tag: "HandshakeError", step: "ack" })
    }))

  it.live("no answer at all: HandshakeTimeout after the deadline", () =>
    Effect.gen(function*() {
      const port = yield* rawServer(new Uint8Array(0))
      const error = yield* Effect.flip(Dial.dial({ ...nodeOptions(), remote: { id: NodeKey.generate().id, host: "127.0.0.1", port } }))
      expect(error).toMatchObject({ _tag: "HandshakeTimeout", millis: 1000 })
    }))
})
