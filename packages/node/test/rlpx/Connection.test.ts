/**
 * Two of our nodes over loopback: dial and listen in both handshake forms, subprotocol messages
 * both ways, a handler in the reading fiber, nothing lost around the hello, the 10 MiB limit,
 * snappy at p2p version 5, liveness, Disconnect reasons, and scopes that close connections and
 * interrupt handlers.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Queue, References, Schedule, Scope, Stream } from "effect"
import { Bytes } from "@ethsync/core"
import { connect, createServer } from "node:net"
import * as Connection from "../../src/rlpx/Connection.ts"
import * as Dial from "../../src/rlpx/Dial.ts"
import { DisconnectReason } from "../../src/rlpx/DisconnectReason.ts"
import * as Ecies from "../../src/rlpx/Ecies.ts"
import * as HandshakeMessage from "../../src/rlpx/HandshakeMessage.ts"
import * as Listen from "../../src/rlpx/Listen.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"
import * as SocketChannel from "../../src/rlpx/SocketChannel.ts"
import {
  bigMessageLimit,
  bounded,
  bytes,
  nodeOptions,
  parseEnode,
  patientTiming,
  testCapability,
  testListener,
  text
} from "./Peers.ts"

describe("RLPx between two of our nodes", () => {
  for (const form of ["plain", "eip8"] as const) {
    it.live(`dials with a ${form} auth: hellos exchanged, messages pass both ways`, () =>
      Effect.gen(function*() {
        const server = yield* testListener()
        const dialler = nodeOptions({ clientId: "dialler/1" })
        const ours = yield* Dial.dial({ ...dialler, remote: server.enode, handshake: form })
        const theirs = yield* bounded(Queue.take(server.accepted))
        expect(ours.remoteId).toEqual(server.options.key.id)
        expect(theirs.remoteId).toEqual(dialler.key.id)
        expect(theirs.hello.clientId).toBe("dialler/1")
        expect(ours.hello.listenPort).toBe(server.listener.port)
        expect(ours.capabilities).toEqual([{ ...testCapability, offset: 0x10 }])
        expect(ours.compressed).toBe(false)
        yield* ours.send("test", 3, bytes("ping from the dialler"))
        const received = yield* bounded(theirs.receive)
        expect(received).toEqual({ capability: "test", version: 1, code: 3, payload: bytes("ping from the dialler") })
        yield* theirs.send("test", 0, bytes("answer"))
        expect(text((yield* bounded(ours.receive)).payload)).toBe("answer")
        const stats = yield* ours.stats
        expect(stats.out.get("test:3")).toEqual({ messages: 1, bytes: 21 })
        expect(stats.in.get("test:0")).toEqual({ messages: 1, bytes: 6 })
      }))
  }

  it.live("handle: messages that waited go first, then each as it is read; a failure ends it; after it, and once interrupted, receive has them", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const ours = yield* Dial.dial({ ...nodeOptions(), remote: server.enode })
      const theirs = yield* bounded(Queue.take(server.accepted))
      yield* ours.send("test", 1, bytes("waited 1"))
      yield* ours.send("test", 1, bytes("waited 2"))
      yield* ours.send("test", 2, bytes("ping"))
      expect(text((yield* bounded(theirs.receive)).payload)).toBe("waited 1")
      // The other two have been read (and counted) before the handler comes: they wait in the inbox.
      yield* bounded(Effect.repeat(theirs.stats, { until: (stats) => stats.in.get("test:2")?.messages === 1, schedule: Schedule.spaced("5 millis") }))
      const seen: Array<string> = []
      /** A handler noting each message's text and the log annotation `peer` it runs with; "bad" fails it. */
      const noting = (message: Connection.Message) =>
        text(message.payload) === "bad"
          ? Effect.fail(`bad at code ${message.code}`)
          : Effect.gen(function*() {
            const annotations = yield* References.CurrentLogAnnotations
            seen.push(`${text(message.payload)} (${String(annotations.peer)})`)
          })
      /** Waits until `n` messages were noted. */
      const noted = (n: number) => bounded(Effect.repeat(Effect.sync(() => seen.length), { until: (length) => length === n, schedule: Schedule.spaced("5 millis") }))
      const handling = yield* Effect.forkChild(Effect.annotateLogs(theirs.handle(noting), { peer: "dialler" }))
      yield* noted(2)
      // Handled from here on in the connection's reading fiber, with the caller's log annotations.
      yield* ours.send("test", 1, bytes("read 1"))
      yield* ours.send("test", 3, bytes("bad"))
      yield* ours.send("test", 1, bytes("after the failure"))
      expect(yield* bounded(Effect.flip(Fiber.join(handling)))).toBe("bad at code 3")
      expect(seen).toEqual(["waited 2 (dialler)", "ping (dialler)", "read 1 (dialler)"])
      // Not handled after the failure: it waits for the next reader.
      expect(text((yield* bounded(theirs.receive)).payload)).toBe("after the failure")
      const again = yield* Effect.forkChild(theirs.handle(noting))
      yield* ours.send("test", 1, bytes("handled again"))
      yield* noted(4)
      yield* Fiber.interrupt(again)
      yield* ours.send("test", 1, bytes("for receive"))
      expect(text((yield* bounded(theirs.receive)).payload)).toBe("for receive")
      expect(seen.slice(3)).toEqual(["handled again (undefined)"])
      yield* ours.disconnect(DisconnectReason.tooManyPeers)
      const ended = yield* bounded(Effect.flip(theirs.handle(() => Effect.void)))
      expect(ended).toMatchObject({ _tag: "Disconnected", by: "peer", reason: DisconnectReason.tooManyPeers })
    }))

  it.live("as a 2015 node needs: our dialler sends a plain 307-byte auth, our listener answers it with a plain ack", () =>
    Effect.gen(function*() {
      const key = NodeKey.generate()
      const authBytes = yield* Deferred.make<Uint8Array>()
      const rawServer = createServer((socket) => {
        let received: Uint8Array = new Uint8Array(0)
        socket.on("data", (chunk: Buffer) => {
          received = Bytes.concat([received, chunk])
          if (received.length >= HandshakeMessage.plainAuthSize) {
            Deferred.doneUnsafe(authBytes, Exit.succeed(received))
            socket.destroy()
          }
        })
      })
      yield* Effect.acquireRelease(
        Effect.callback<void>((resume) => {
          rawServer.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () => Effect.sync(() => rawServer.close())
      )
      const address = rawServer.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      yield* Effect.forkChild(Effect.exit(Dial.dial({ ...nodeOptions(), remote: { id: key.id, host: "127.0.0.1", port } })))
      const auth = yield* bounded(Deferred.await(authBytes))
      expect(auth.length).toBe(HandshakeMessage.plainAuthSize)
      const body = Ecies.decrypt(key, auth)
      if (typeof body === "string") return yield* Effect.die(body)
      expect(HandshakeMessage.readAuth(key, body, "plain")).toBeTypeOf("object")

      const server = yield* testListener()
      const socket = connect({ host: "127.0.0.1", port: server.listener.port })
      yield* Effect.addFinalizer(() => Effect.sync(() => socket.destroy()))
      const channel = SocketChannel.make(socket, "5 seconds")
      const initiator = NodeKey.generate()
      yield* channel.write(() =>
        HandshakeMessage.makeAuth({
          key: initiator,
          ephemeral: NodeKey.generate(),
          nonce: HandshakeMessage.makeNonce(),
          remoteId: server.enode.id,
          form: "plain"
        })
      )
      const ack = Ecies.decrypt(initiator, yield* bounded(channel.read(HandshakeMessage.plainAckSize)))
      if (typeof ack === "string") return yield* Effect.die(ack)
      expect(HandshakeMessage.readAck(ack, "plain")).toBeTypeOf("object")
    }))

  it.live("messages sent at once after the hello arrive, in order, as a stream that fails with the end", () =>
    Effect.gen(function*() {
      const server = yield* Listen.listen({
        ...nodeOptions(),
        handler: (connection) =>
          Effect.forEach([1, 2, 3], (n) => connection.send("test", 1, bytes(`early ${n}`))).pipe(
            Effect.andThen(connection.disconnect(DisconnectReason.requested)),
            Effect.ignore
          )
      })
      const connection = yield* Dial.dial({ ...nodeOptions(), remote: parseEnode(server.enode) })
      const texts: Array<string> = []
      const collect = Stream.runForEach(connection.messages, (m) => Effect.sync(() => texts.push(text(m.payload))))
      const end = yield* bounded(Effect.flip(collect))
      expect(texts).toEqual(["early 1", "early 2", "early 3"])
      expect(end).toMatchObject({ _tag: "Disconnected", by: "peer", reason: DisconnectReason.requested })
    }))

  it.live("a 10 MiB message passes; 10 MiB + 1 is refused and the connection stays open", () =>
    Effect.gen(function*() {
      const server = yield* testListener(nodeOptions({ timing: patientTiming }))
      const ours = yield* Dial.dial({ ...nodeOptions({ timing: patientTiming }), remote: server.enode })
      const theirs = yield* bounded(Queue.take(server.accepted))
      const big = new Uint8Array(Connection.maxMessageSize).fill(7)
      yield* ours.send("test", 2, big)
      const received = yield* bounded(theirs.receive, bigMessageLimit)
      expect(received.payload.length).toBe(Connection.maxMessageSize)
      expect(received.payload.every((b) => b === 7)).toBe(true)
      const refused = yield* Effect.flip(ours.send("test", 2, new Uint8Array(Connection.maxMessageSize + 1)))
      expect(refused._tag).toBe("MessageTooLarge")
      yield* ours.send("test", 1, bytes("still here"))
      expect(text((yield* bounded(theirs.receive)).payload)).toBe("still here")
    }))

  it.live("p2p version 5 on both sides compresses with snappy; 5 against 4 does not", () =>
    Effect.gen(function*() {
      const server = yield* testListener(nodeOptions({ p2pVersion: 5 }))
      const five = yield* Dial.dial({ ...nodeOptions({ p2pVersion: 5 }), remote: server.enode })
      const theirs = yield* bounded(Queue.take(server.accepted))
      expect([five.compressed, theirs.compressed]).toEqual([true, true])
      const repetitive = bytes("abcd".repeat(10_000))
      yield* five.send("test", 1, repetitive)
      expect((yield* bounded(theirs.receive)).payload).toEqual(repetitive)
      expect((yield* five.stats).out.get("test:1")!.bytes).toBeLessThan(repetitive.length / 10)
      const four = yield* Dial.dial({ ...nodeOptions(), remote: server.enode })
      expect(four.compressed).toBe(false)
      yield* four.send("test", 1, repetitive)
      expect((yield* bounded((yield* bounded(Queue.take(server.accepted))).receive)).payload).toEqual(repetitive)
    }))

  it.live("pings keep an idle but live connection open past the idle limit", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const ours = yield* Dial.dial({ ...nodeOptions(), remote: server.enode })
      yield* Effect.sleep("2 seconds")
      yield* ours.send("test", 1, bytes("after two quiet seconds"))
      const theirs = yield* bounded(Queue.take(server.accepted))
      expect(text((yield* bounded(theirs.receive)).payload)).toBe("after two quiet seconds")
      expect((yield* ours.stats).in.get("p2p:3")!.messages).toBeGreaterThan(10)
    }))

  it.live("disconnect sends its reason: the peer sees it as theirs, we see it as ours", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const ours = yield* Dial.dial({ ...nodeOptions(), remote: server.enode })
      const theirs = yield* bounded(Queue.take(server.accepted))
      yield* ours.disconnect(DisconnectReason.tooManyPeers)
      const seen = yield* bounded(theirs.closed)
      expect(seen).toMatchObject({ _tag: "Disconnected", by: "peer", reason: DisconnectReason.tooManyPeers })
      expect(yield* ours.closed).toMatchObject({ _tag: "Disconnected", by: "us", reason: DisconnectReason.tooManyPeers })
      expect((yield* Effect.flip(ours.send("test", 1, bytes("late"))))._tag).toBe("Disconnected")
      expect((yield* Effect.flip(bounded(theirs.receive)))._tag).toBe("Disconnected")
    }))

  it.live("a peer sharing no capability is refused as useless", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const error = yield* Effect.flip(
        Dial.dial({ ...nodeOptions({ capabilities: [{ name: "other", version: 1, length: 1 }] }), remote: server.enode })
      )
      expect(error).toMatchObject({ _tag: "IncompatiblePeer", disconnect: DisconnectReason.uselessPeer })
      expect(yield* bounded(Queue.take(server.failures))).toMatchObject({ _tag: "IncompatiblePeer" })
    }))

  it.live("dialling a node with another key than the enode says fails the handshake", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const error = yield* Effect.flip(
        Dial.dial({ ...nodeOptions(), remote: { ...server.enode, id: NodeKey.generate().id } })
      )
      expect(error._tag).toBe("SocketFailure")
      expect(yield* bounded(Queue.take(server.failures))).toMatchObject({ _tag: "HandshakeError", step: "auth" })
    }))

  it.live("dialling a port where nothing listens fails with a socket failure", () =>
    Effect.gen(function*() {
      const port = yield* Effect.scoped(Effect.map(testListener(), (server) => server.listener.port))
      const error = yield* Effect.flip(
        Dial.dial({ ...nodeOptions(), remote: { id: NodeKey.generate().id, host: "127.0.0.1", port } })
      )
      expect(error._tag).toBe("SocketFailure")
    }))

  it.live("closing the listener's scope disconnects every connection as quitting", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* Scope.provide(testListener(), scope)
      const first = yield* Dial.dial({ ...nodeOptions(), remote: server.enode })
      const second = yield* Dial.dial({ ...nodeOptions(), remote: server.enode })
      yield* bounded(Queue.take(server.accepted))
      yield* bounded(Queue.take(server.accepted))
      yield* Scope.close(scope, Exit.void)
      for (const connection of [first, second]) {
        expect(yield* bounded(connection.closed)).toMatchObject({ by: "peer", reason: DisconnectReason.quitting })
      }
    }))

  it.live("a connection that ends interrupts its handler; a handler that returns ends its connection", () =>
    Effect.gen(function*() {
      const interrupted = yield* Deferred.make<void>()
      const server = yield* Listen.listen({
        ...nodeOptions(),
        handler: (connection) =>
          connection.hello.clientId === "returns"
            ? Effect.void
            : Effect.onInterrupt(Effect.never, () => Deferred.succeed(interrupted, undefined))
      })
      const remote = parseEnode(server.enode)
      const staying = yield* Dial.dial({ ...nodeOptions(), remote })
      yield* Effect.sleep("50 millis")
      yield* staying.disconnect(DisconnectReason.requested)
      yield* bounded(Deferred.await(interrupted))
      const returning = yield* Dial.dial({ ...nodeOptions({ clientId: "returns" }), remote })
      expect(yield* bounded(returning.closed)).toMatchObject({ by: "peer", reason: DisconnectReason.requested })
    }))

  it.live("closing the dialler's scope sends quitting to the peer", () =>
    Effect.gen(function*() {
      const server = yield* testListener()
      const scope = yield* Scope.make()
      yield* Scope.provide(Dial.dial({ ...nodeOptions(), remote: server.enode }), scope)
      const theirs = yield* bounded(Queue.take(server.accepted))
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      expect(yield* bounded(theirs.closed)).toMatchObject({ by: "peer", reason: DisconnectReason.quitting })
      yield* Fiber.join(closing)
    }))
})
