/**
 * Listening for nodes: a TCP server (127.0.0.1 by default; port 0 picks a free one) that runs
 * the RLPx handshake as recipient (either form, answered in kind) and the hello exchange within
 * the deadline, then hands each connection to a handler on its own fiber, in that connection's
 * own Scope. A connection that ends interrupts its handler; a handler that returns ends its
 * connection; closing the listener's Scope closes every connection.
 *
 * @since 0.2.0
 */
import { Data, Effect, FiberSet, type Scope } from "effect"
import { createServer, type Socket } from "node:net"
import * as Connection from "./Connection.ts"
import type { ConnectionError } from "./ConnectionError.ts"
import * as Enode from "./Enode.ts"
import * as Handshake from "./Handshake.ts"
import * as SocketChannel from "./SocketChannel.ts"

/** The listener could not bind its address. */
export class ListenFailed extends Data.TaggedError("ListenFailed")<{
  /** The address asked for. */
  readonly host: string
  /** The port asked for. */
  readonly port: number
  /** What the system said. */
  readonly reason: string
}> {
  override get message() {
    return `cannot listen on ${this.host}:${this.port}: ${this.reason}`
  }
}

/** Where to listen, how we present ourselves, and what to do with each connection. */
export interface ListenOptions<R> extends Connection.Options {
  /** The address to bind (default 127.0.0.1). */
  readonly host?: string
  /** The port to bind (default 0: a free one). */
  readonly port?: number
  /** Runs for each connection whose hellos are exchanged; interrupted when the connection ends. */
  readonly handler: (connection: Connection.Connection) => Effect.Effect<void, never, R>
  /** Told of each peer that did not complete the handshake (default: a debug log line). */
  readonly onHandshakeFailure?: (error: ConnectionError, remoteAddress: string) => Effect.Effect<void>
}

/** A bound listener. */
export interface Listener {
  /** The bound address. */
  readonly host: string
  /** The bound port. */
  readonly port: number
  /** Our enode URL at this address. */
  readonly enode: string
}

/** Handshakes in progress at once, as go-ethereum allows; sockets beyond are closed at once. */
const maxPendingHandshakes = 50

/** The address bound unless told otherwise: loopback only. */
export const defaultHost = "127.0.0.1"

/** Binds and serves until the Scope closes. */
export const listen = <R>(options: ListenOptions<R>): Effect.Effect<Listener, ListenFailed, Scope.Scope | R> =>
  Effect.gen(function*() {
    const host = options.host ?? defaultHost
    const timing = Connection.timing(options)
    const onHandshakeFailure = options.onHandshakeFailure ??
      ((error, remoteAddress) => Effect.logDebug(`rlpx: ${remoteAddress} failed the handshake: ${error.message}`))
    const run = yield* FiberSet.makeRuntime<R, void, never>()
    const server = createServer()
    yield* Effect.addFinalizer(() => Effect.sync(() => server.close()))
    const port = yield* Effect.callback<number, ListenFailed>((resume) => {
      server.once("error", (error) => resume(Effect.fail(new ListenFailed({ host, port: options.port ?? 0, reason: error.message }))))
      server.listen(options.port ?? 0, host, () => {
        const address = server.address()
        resume(Effect.succeed(typeof address === "object" && address !== null ? address.port : 0))
      })
    })
    // After the bind, a server error (EMFILE when the process runs out of descriptors, say) refuses
    // one connection, not the listener: it is logged, and the listener goes on.
    server.on("error", (error) => run(Effect.logWarning("rlpx: the listener refused a connection", error.message)))
    const connectionOptions: Connection.Options = { ...options, listenPort: options.listenPort ?? port }

    /** One accepted socket: handshake, hellos, then the handler, all in the connection's scope. */
    const session = (socket: Socket, channel: SocketChannel.SocketChannel, handshakeDone: () => void) =>
      Effect.scoped(Effect.gen(function*() {
        yield* Effect.addFinalizer(() => Effect.sync(() => socket.destroy()))
        const accepted = yield* Effect.gen(function*() {
          const { remoteId, cipher } = yield* Handshake.respond(channel, options.key)
          return yield* Connection.open(channel, cipher, remoteId, connectionOptions)
        }).pipe(
          Connection.withinHandshakeDeadline(options),
          Effect.result,
          Effect.ensuring(Effect.sync(handshakeDone))
        )
        if (accepted._tag === "Failure") return yield* onHandshakeFailure(accepted.failure, channel.remoteAddress)
        yield* Connection.serve(accepted.success, options.handler)
      })).pipe(Effect.catchDefect((defect) => Effect.logError("rlpx: a connection's fiber failed", defect)))

    /** Sockets accepted whose handshake has not finished: capped, so half-open peers cannot exhaust descriptors. */
    let handshaking = 0
    server.on("connection", (socket) => {
      if (handshaking >= maxPendingHandshakes) return void socket.destroy()
      handshaking++
      const channel = SocketChannel.make(socket, timing.idleTimeout)
      run(session(socket, channel, () => void handshaking--))
    })
    return { host, port, enode: Enode.format({ id: options.key.id, host, port }) }
  })
