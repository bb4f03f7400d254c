/**
 * Dialling a node: TCP connect, the RLPx handshake as initiator (plain by default, which a 2015
 * node needs; EIP-8 on request) and the hello exchange, all within the handshake deadline. The
 * connection lives in the caller's Scope.
 *
 * @since 0.2.0
 */
import { Effect, Exit, type Scope } from "effect"
import { connect } from "node:net"
import * as Connection from "./Connection.ts"
import { type ConnectionError, SocketFailure } from "./ConnectionError.ts"
import type * as Enode from "./Enode.ts"
import * as Handshake from "./Handshake.ts"
import type * as HandshakeMessage from "./HandshakeMessage.ts"
import * as SocketChannel from "./SocketChannel.ts"

/** What to dial, and how we present ourselves. */
export interface DialOptions extends Connection.Options {
  /** The node to dial; its id is the key it must prove. */
  readonly remote: Enode.Enode
  /** The form of our auth: "plain" (default; the only one a 2015 node reads) or "eip8". */
  readonly handshake?: HandshakeMessage.Form
}

/**
 * Dials a node and returns the connection once both hellos are exchanged. The Scope keeps only
 * a connection that opened: a failed dial has closed its socket before it returns.
 */
export const dial = (options: DialOptions): Effect.Effect<Connection.Connection, ConnectionError, Scope.Scope> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      const timing = Connection.timing(options)
      const socket = connect({ host: options.remote.host, port: options.remote.port })
      const channel = SocketChannel.make(socket, timing.idleTimeout)
      const connected = Effect.callback<void, SocketFailure>((resume) => {
        const onConnect = () => resume(Effect.void)
        const onError = (error: Error) => resume(Effect.fail(new SocketFailure({ reason: error.message })))
        socket.once("connect", onConnect)
        socket.once("error", onError)
        return Effect.sync(() => {
          socket.off("connect", onConnect)
          socket.off("error", onError)
        })
      })
      const opening = Effect.gen(function*() {
        yield* connected
        const cipher = yield* Handshake.initiate(channel, options.key, options.remote.id, options.handshake ?? "plain")
        return yield* Connection.open(channel, cipher, options.remote.id, options)
      })
      return yield* restore(Connection.withinHandshakeDeadline(options)(opening)).pipe(
        Effect.onExit((exit) => Exit.isSuccess(exit) ? Effect.void : Effect.sync(() => socket.destroy()))
      )
    })
  )
