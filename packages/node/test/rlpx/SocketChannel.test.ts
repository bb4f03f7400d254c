/**
 * The socket channel's writes over loopback: a write the system takes at once completes (the bytes
 * reach the peer, in the order written), and writes to a peer that reads nothing fail with a write
 * IdleTimeout once the system stops taking our bytes for the idle limit.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect, createServer, type Server, type Socket } from "node:net"
import * as SocketChannel from "../../src/rlpx/SocketChannel.ts"
import { bounded } from "./Peers.ts"

/** A connected pair of sockets on 127.0.0.1 (ours dialled, theirs accepted), closed with the scope. */
const socketPair = Effect.acquireRelease(
  Effect.callback<{ readonly server: Server; readonly ours: Socket; readonly theirs: Socket }>((resume) => {
    const server = createServer((theirs) => resume(Effect.succeed({ server, ours, theirs })))
    let ours: Socket
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      ours = connect({ host: "127.0.0.1", port: typeof address === "object" && address ? address.port : 0 })
    })
  }),
  ({ server, ours, theirs }) =>
    Effect.sync(() => {
      ours.destroy()
      theirs.destroy()
      server.close()
    })
)

describe("SocketChannel writes", () => {
  it.live("small writes complete, and the peer reads their bytes in the order written", () =>
    Effect.gen(function*() {
      const { ours, theirs } = yield* socketPair
      const channel = SocketChannel.make(ours, "1 second")
      const peer = SocketChannel.make(theirs, "1 second")
      for (let i = 0; i < 100; i++) yield* bounded(channel.write(() => Uint8Array.of(i, i + 1)))
      const received = yield* bounded(peer.read(200))
      expect(Array.from(received)).toEqual(Array.from({ length: 100 }, (_, i) => [i, i + 1]).flat())
    }))

  it.live("writes to a peer that reads nothing fail with a write IdleTimeout once the system takes no more", () =>
    Effect.gen(function*() {
      const { ours, theirs } = yield* socketPair
      theirs.pause()
      const channel = SocketChannel.make(ours, "300 millis")
      const chunk = new Uint8Array(1024 * 1024)
      const failure = yield* bounded(Effect.flip(Effect.forever(channel.write(() => chunk))), "20 seconds")
      expect(failure).toMatchObject({ _tag: "IdleTimeout", direction: "write", millis: 300 })
    }))
})
