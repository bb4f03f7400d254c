/**
 * An RLPx connection once the handshake is done: the hello exchange, then the p2p base protocol
 * handled inside (pings answered, a ping sent every interval, a peer silent for the idle limit
 * dropped, Disconnect in both directions, snappy when both hellos say version 5 or more, a
 * 10 MiB limit on every message) and the subprotocol messages handed to the application.
 * Every connection lives in a Scope: closing it sends Disconnect (client quitting) and closes
 * the socket.
 *
 * @since 0.2.0
 */
import { Hex, Rlp } from "@ethsync/core"
import { Deferred, Duration, Effect, Queue, type Scope, Stream } from "effect"
import * as Capability from "./Capability.ts"
import * as Compression from "./Compression.ts"
import {
  type ConnectionError,
  Disconnected,
  disconnectReasonFor,
  FrameMacMismatch,
  HandshakeTimeout,
  IncompatiblePeer,
  MessageTooLarge,
  ProtocolError,
  SendRefused
} from "./ConnectionError.ts"
import { DisconnectReason } from "./DisconnectReason.ts"
import * as FrameCipher from "./FrameCipher.ts"
import type * as NodeKey from "./NodeKey.ts"
import * as P2pMessage from "./P2pMessage.ts"
import type { SocketChannel } from "./SocketChannel.ts"

/** How long the phases of a connection may take; tests shrink them. */
export interface Timing {
  /** Connect, auth, ack and both hellos must finish within this. */
  readonly handshakeTimeout: Duration.Input
  /** We send a ping this often. */
  readonly pingInterval: Duration.Input
  /** A peer from which nothing arrives (or that takes none of our bytes) for this long is dropped. */
  readonly idleTimeout: Duration.Input
}

/** The durations go-ethereum uses: 5 s handshake, ping every 15 s, drop after 30 s of silence. */
export const defaultTiming: Timing = { handshakeTimeout: "5 seconds", pingInterval: "15 seconds", idleTimeout: "30 seconds" }

/** The largest message payload, compressed or not, in either direction. */
export const maxMessageSize = 10 * 1024 * 1024

/** What we say about ourselves and how we behave, for dialled and accepted connections alike. */
export interface Options {
  /** Our node key: it proves our node id. */
  readonly key: NodeKey.NodeKey
  /** Our client id in the hello, e.g. "ethsync/v0.2.0". */
  readonly clientId: string
  /** The subprotocols we speak; a peer sharing none of them is disconnected as useless. */
  readonly capabilities: ReadonlyArray<Capability.Capability>
  /** The listen port our hello announces (default: the listener's port, or 0 for a dialler). */
  readonly listenPort?: number
  /** The p2p version our hello says (default 4, which every client accepts; 5 and up enables snappy). */
  readonly p2pVersion?: number
  /** Durations, each defaulting to {@link defaultTiming}. */
  readonly timing?: Partial<Timing>
}

/** The p2p version our hello says unless told otherwise. */
export const defaultP2pVersion = 4

/** The lowest p2p version we accept in a peer's hello. */
const minimumP2pVersion = 4

/** A subprotocol message from the peer. */
export interface Message {
  /** The shared capability it belongs to, e.g. "eth". */
  readonly capability: string
  /** The negotiated version of that capability, e.g. 61. */
  readonly version: number
  /** The code within the capability (wire code minus the capability's offset). */
  readonly code: number
  /** The payload, decompressed, not RLP-decoded. */
  readonly payload: Uint8Array
}

/** Messages and bytes of one kind that passed one way. */
export interface Traffic {
  /** How many messages. */
  readonly messages: number
  /** How many payload bytes (as on the wire, so compressed when snappy is on). */
  readonly bytes: number
}

/** Traffic by message kind (`"p2p:2"`, `"eth:3"`: capability name and code within it), in and out. */
export interface Stats {
  /** What the peer sent us. */
  readonly in: ReadonlyMap<string, Traffic>
  /** What we sent the peer. */
  readonly out: ReadonlyMap<string, Traffic>
}

/** A live connection with a peer whose hello we have. */
export interface Connection {
  /** The peer's 64-byte node id, proven by the handshake. */
  readonly remoteId: Uint8Array
  /** `host:port` of the peer's socket. */
  readonly remoteAddress: string
  /** The peer's hello. */
  readonly hello: P2pMessage.Hello
  /** The capabilities both sides speak, at the highest shared version, with their code offsets. */
  readonly capabilities: ReadonlyArray<Capability.Shared>
  /** Whether messages are snappy-compressed (both hellos say version 5 or more). */
  readonly compressed: boolean
  /**
   * Sends a message of a shared capability (`code` within it). Fails with {@link SendRefused} for
   * a capability or code that is not shared, MessageTooLarge above 10 MiB (both leave the
   * connection open), or with the reason the connection ended.
   */
  readonly send: (
    capability: string,
    code: number,
    payload: Uint8Array
  ) => Effect.Effect<void, ConnectionError | SendRefused>
  /**
   * The next subprotocol message; once the connection has ended and none is left, fails with why
   * it ended. Take messages promptly: while 16 wait, the socket is not read (the peer is slowed
   * down, and its pongs wait too).
   */
  readonly receive: Effect.Effect<Message, ConnectionError>
  /** The same messages as a stream (use it or `receive`, not both), failing with why the connection ended. */
  readonly messages: Stream.Stream<Message, ConnectionError>
  /**
   * Hands every subprotocol message to `handler`, those already waiting first: in the fiber that
   * reads the socket (with the caller's context: its log annotations stay), as each is read, so
   * no message waits for another fiber's turn. Fails with the handler's first failure (later
   * messages are then not handled), or with why the connection ended; once interrupted, messages
   * wait for `receive` again. While the handler runs, the socket is not read. One handler at a
   * time, and not beside `receive` or `messages`.
   */
  readonly handle: <E>(handler: (message: Message) => Effect.Effect<void, E>) => Effect.Effect<never, E | ConnectionError>
  /** Sends Disconnect with the reason and closes the connection (nothing happens if it has already ended). */
  readonly disconnect: (reason: DisconnectReason) => Effect.Effect<void>
  /** Waits for the connection to end: a Disconnect (ours or theirs), or the failure that ended it. */
  readonly closed: Effect.Effect<ConnectionError>
  /** A snapshot of the traffic so far. */
  readonly stats: Effect.Effect<Stats>
}

/** Subprotocol messages buffered before the socket is no longer read (backpressure on the peer). */
const inboxCapacity = 16

/** Longest wait to hand the peer our Disconnect before closing anyway. */
const disconnectWriteMillis = 1000

/** The durations of `options`, each defaulting. */
export const timing = (options: Options): Timing => ({ ...defaultTiming, ...options.timing })

/** Fails `effect` with HandshakeTimeout when it outlasts the handshake deadline of `options` (for dial and listen). */
export const withinHandshakeDeadline = (options: Options) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | HandshakeTimeout, R> => {
  const millis = Duration.toMillis(Duration.fromInputUnsafe(timing(options).handshakeTimeout))
  return Effect.timeoutOrElse(effect, { duration: millis, orElse: () => Effect.fail(new HandshakeTimeout({ millis })) })
}

/** A message as it comes off the wire: its wire code and its payload (not yet decompressed). */
interface RawMessage {
  /** The wire code. */
  readonly code: number
  /** The payload as framed. */
  readonly payload: Uint8Array
}

/** Reads the next frame and splits it into code and payload. */
const readRaw = (channel: SocketChannel, cipher: FrameCipher.FrameCipher): Effect.Effect<RawMessage, ConnectionError> =>
  Effect.gen(function*() {
    const size = cipher.openHeader(yield* channel.read(FrameCipher.headerSize))
    if (typeof size === "string") return yield* new FrameMacMismatch({ part: "header" })
    if (size > maxMessageSize + 9) return yield* new MessageTooLarge({ direction: "in", size, limit: maxMessageSize })
    const body = cipher.openBody(yield* channel.read(FrameCipher.sealedBodySize(size)), size)
    if (typeof body === "string") return yield* new FrameMacMismatch({ part: "body" })
    const item = Rlp.readItem(body, 0)
    if (item instanceof Rlp.RlpError || item.isList || item.end - item.payloadStart > 6) {
      return yield* new ProtocolError({ reason: "a frame does not start with a message code" })
    }
    let code = 0
    for (const digit of Rlp.payload(body, item)) code = code * 256 + digit
    const payload = body.subarray(item.end)
    if (payload.length > maxMessageSize) {
      return yield* new MessageTooLarge({ direction: "in", size: payload.length, limit: maxMessageSize })
    }
    return { code, payload }
  })

/** Decompresses a payload within the size limit. */
const decompress = (payload: Uint8Array): Effect.Effect<Uint8Array, MessageTooLarge | ProtocolError> => {
  const length = Compression.announcedLength(payload)
  if (length !== undefined && length > maxMessageSize) {
    return Effect.fail(new MessageTooLarge({ direction: "in", size: length, limit: maxMessageSize }))
  }
  const plain = Compression.decompress(payload, maxMessageSize)
  return typeof plain === "string" ? Effect.fail(new ProtocolError({ reason: plain })) : Effect.succeed(plain)
}

/** Adds one message of `bytes` to the traffic of `kind`. */
const count = (traffic: Map<string, Traffic>, kind: string, bytes: number): void => {
  const before = traffic.get(kind) ?? { messages: 0, bytes: 0 }
  traffic.set(kind, { messages: before.messages + 1, bytes: before.bytes + bytes })
}

/** Checks the peer's hello against ours and the identity the handshake proved. */
const checkHello = (
  hello: P2pMessage.Hello,
  remoteId: Uint8Array,
  options: Options
): ReadonlyArray<Capability.Shared> | IncompatiblePeer => {
  if (hello.version < minimumP2pVersion) {
    return new IncompatiblePeer({
      reason: `p2p version ${hello.version} is below ${minimumP2pVersion}`,
      disconnect: DisconnectReason.incompatibleVersion
    })
  }
  if (!Hex.equals(hello.nodeId, remoteId)) {
    return new IncompatiblePeer({
      reason: "the hello names another node than the handshake proved",
      disconnect: DisconnectReason.unexpectedIdentity
    })
  }
  if (Hex.equals(remoteId, options.key.id)) {
    return new IncompatiblePeer({ reason: "connected to ourselves", disconnect: DisconnectReason.self })
  }
  const shared = Capability.match(options.capabilities, hello.capabilities)
  if (shared.length === 0) {
    const offered = hello.capabilities.map((c) => `${c.name}/${c.version}`).join(", ")
    return new IncompatiblePeer({
      reason: `no capability in common (the peer offers ${offered || "none"})`,
      disconnect: DisconnectReason.uselessPeer
    })
  }
  return shared
}

/**
 * Exchanges hellos over a channel whose handshake gave `cipher`, then runs the connection in the
 * current Scope (`dial` and `listen` call it; applications use those). On failure the peer gets
 * a Disconnect where one is due and the socket is closed.
 */
export const open = (
  channel: SocketChannel,
  cipher: FrameCipher.FrameCipher,
  remoteId: Uint8Array,
  options: Options
): Effect.Effect<Connection, ConnectionError, Scope.Scope> => {
  /** Traffic from the peer, by message kind. */
  const statsIn = new Map<string, Traffic>()
  /** Traffic to the peer, by message kind. */
  const statsOut = new Map<string, Traffic>()
  /** Whether payloads after the hellos are snappy-compressed (decided by both hellos). */
  let compressed = false

  /** Frames and writes one message (compressing it when the connection does). */
  const write = (code: number, kind: string, payload: Uint8Array): Effect.Effect<void, ConnectionError> =>
    Effect.suspend((): Effect.Effect<void, ConnectionError> => {
      if (payload.length > maxMessageSize) {
        return Effect.fail(new MessageTooLarge({ direction: "out", size: payload.length, limit: maxMessageSize }))
      }
      const data = compressed ? Compression.compress(payload) : payload
      if (data.length > maxMessageSize) {
        return Effect.fail(new MessageTooLarge({ direction: "out", size: data.length, limit: maxMessageSize }))
      }
      count(statsOut, kind, data.length)
      const codeRlp = Rlp.encodeInteger(code)
      return channel.write(() => cipher.seal(codeRlp, data))
    })

  /** Sends a Disconnect if one is due for `error`, then closes the socket. */
  const hangUp = (error: ConnectionError): Effect.Effect<void> => {
    const reason = error._tag === "Disconnected" ? (error.by === "us" ? error.reason : undefined) : disconnectReasonFor(error)
    const notice = reason === undefined
      ? Effect.void
      : write(P2pMessage.Code.disconnect, "p2p:1", P2pMessage.encodeDisconnect(reason)).pipe(
        Effect.timeoutOrElse({ duration: disconnectWriteMillis, orElse: () => Effect.void }),
        Effect.ignore
      )
    return Effect.andThen(notice, channel.close)
  }

  /** The payload of a received message, decompressed when the connection compresses. */
  const unpack = (raw: RawMessage) => compressed ? decompress(raw.payload) : Effect.succeed(raw.payload)

  /** Sends our hello and reads theirs: their hello and the capabilities both speak. */
  const exchangeHellos = Effect.gen(function*() {
    const ours: P2pMessage.Hello = {
      version: options.p2pVersion ?? defaultP2pVersion,
      clientId: options.clientId,
      capabilities: options.capabilities.map(({ name, version }) => ({ name, version })),
      listenPort: options.listenPort ?? 0,
      nodeId: options.key.id
    }
    yield* write(P2pMessage.Code.hello, "p2p:0", P2pMessage.encodeHello(ours))
    const first = yield* readRaw(channel, cipher)
    count(statsIn, `p2p:${first.code}`, first.payload.length)
    if (first.code === P2pMessage.Code.disconnect) {
      const reason = P2pMessage.decodeDisconnect(first.payload)
      return yield* typeof reason === "string"
        ? new ProtocolError({ reason })
        : new Disconnected({ by: "peer", reason })
    }
    if (first.code !== P2pMessage.Code.hello) {
      return yield* new ProtocolError({ reason: `message code 0x${first.code.toString(16)} came before the hello` })
    }
    const theirs = P2pMessage.decodeHello(first.payload)
    if (typeof theirs === "string") return yield* new ProtocolError({ reason: theirs })
    const shared = checkHello(theirs, remoteId, options)
    if (shared instanceof IncompatiblePeer) return yield* shared
    compressed = ours.version >= Compression.fromVersion && theirs.version >= Compression.fromVersion
    return { hello: theirs, shared }
  })

  return Effect.gen(function*() {
    const { hello, shared } = yield* exchangeHellos.pipe(Effect.tapError(hangUp))
    const { pingInterval } = timing(options)
    /** Why the connection ended, once it has. */
    const ended = yield* Deferred.make<ConnectionError>()
    /** Subprotocol messages waiting for the application; failed with the end reason when the connection ends. */
    const inbox = yield* Queue.bounded<Message, ConnectionError>(inboxCapacity)

    /** The application's handler while one is installed ({@link Connection.handle}): the read loop calls it instead of queueing. */
    let handler: ((message: Message) => Effect.Effect<void>) | undefined

    /** Ends the connection once, for the first reason given. */
    const finish = (end: ConnectionError): Effect.Effect<void> =>
      Effect.uninterruptible(Effect.gen(function*() {
        if (!(yield* Deferred.succeed(ended, end))) return
        yield* Queue.fail(inbox, end)
        yield* hangUp(end)
      }))

    /** Acts on one message from the peer. */
    const dispatch = (raw: RawMessage): Effect.Effect<void, ConnectionError> =>
      Effect.gen(function*() {
        const owner = Capability.owner(shared, raw.code)
        count(statsIn, owner ? `${owner.name}:${raw.code - owner.offset}` : `p2p:${raw.code}`, raw.payload.length)
        const payload = yield* unpack(raw)
        if (owner !== undefined) {
          const message = { capability: owner.name, version: owner.version, code: raw.code - owner.offset, payload }
          return yield* handler === undefined ? Queue.offer(inbox, message) : handler(message)
        }
        switch (raw.code) {
          case P2pMessage.Code.hello:
            return yield* new ProtocolError({ reason: "a second hello" })
          case P2pMessage.Code.disconnect: {
            const reason = P2pMessage.decodeDisconnect(payload)
            return yield* typeof reason === "string" ? new ProtocolError({ reason }) : new Disconnected({ by: "peer", reason })
          }
          case P2pMessage.Code.ping:
            return yield* write(P2pMessage.Code.pong, "p2p:3", P2pMessage.emptyList)
          default:
            if (raw.code < Capability.firstOffset) return
            return yield* new ProtocolError({ reason: `message code 0x${raw.code.toString(16)} belongs to no shared capability` })
        }
      })

    /** Reads and acts on the peer's messages until one ends the connection. */
    const readLoop = Effect.forever(Effect.flatMap(readRaw(channel, cipher), dispatch))
    /** Pings the peer every interval. */
    const pingLoop = Effect.forever(
      Effect.andThen(Effect.sleep(pingInterval), write(P2pMessage.Code.ping, "p2p:2", P2pMessage.emptyList))
    )
    yield* Effect.raceFirst(readLoop, pingLoop).pipe(
      Effect.catch(finish),
      Effect.catchDefect((defect) => finish(new ProtocolError({ reason: `internal failure: ${String(defect)}` }))),
      Effect.forkScoped
    )
    yield* Effect.addFinalizer(() => finish(new Disconnected({ by: "us", reason: DisconnectReason.quitting })))

    /** Sends a subprotocol message (see {@link Connection.send}). */
    const send = (capability: string, code: number, payload: Uint8Array): Effect.Effect<void, ConnectionError | SendRefused> =>
      Effect.suspend((): Effect.Effect<void, ConnectionError | SendRefused> => {
        if (Deferred.isDoneUnsafe(ended)) return Effect.flatMap(Deferred.await(ended), Effect.fail)
        const target = shared.find((c) => c.name === capability)
        if (target === undefined) return Effect.fail(new SendRefused({ reason: `capability ${capability} is not shared` }))
        if (!Number.isInteger(code) || code < 0 || code >= target.length) {
          return Effect.fail(new SendRefused({ reason: `${capability}/${target.version} has no message code ${code}` }))
        }
        return write(target.offset + code, `${capability}:${code}`, payload)
      })

    /** Runs `f` on every message in the reading fiber (see {@link Connection.handle}). */
    const handle = <E>(f: (message: Message) => Effect.Effect<void, E>): Effect.Effect<never, E | ConnectionError> =>
      Effect.gen(function*() {
        /** The handler's first failure or defect: later messages are dropped, as the application ends the session. */
        const stopped = yield* Deferred.make<never, E>()
        /** The caller's context (its services, log annotations and level), which the handler keeps in the reading fiber. */
        const context = yield* Effect.context<never>()
        // Those queued before, in order, here; when none is left, the reader takes over in the same step.
        while (true) {
          const waiting = Queue.takeUnsafe(inbox)
          if (waiting === undefined) break
          if (waiting._tag === "Failure") return yield* Effect.failCause(waiting.cause)
          yield* f(waiting.value)
        }
        handler = (message) =>
          Deferred.isDoneUnsafe(stopped) ? Effect.void : f(message).pipe(
            Effect.provideContext(context),
            Effect.catch((error) => Deferred.fail(stopped, error)),
            Effect.catchDefect((defect) => Deferred.die(stopped, defect)),
            Effect.asVoid
          )
        return yield* Effect.raceFirst(Deferred.await(stopped), Effect.flatMap(Deferred.await(ended), Effect.fail))
      }).pipe(Effect.ensuring(Effect.sync(() => {
        handler = undefined
      })))

    return {
      remoteId,
      remoteAddress: channel.remoteAddress,
      hello,
      capabilities: shared,
      compressed,
      send,
      receive: Queue.take(inbox),
      messages: Stream.fromQueue(inbox),
      handle,
      disconnect: (reason) => finish(new Disconnected({ by: "us", reason })),
      closed: Deferred.await(ended),
      stats: Effect.sync(() => ({ in: new Map(statsIn), out: new Map(statsOut) }))
    } satisfies Connection
  })
}

/**
 * Runs `handler` with the connection until either ends: a connection that ends interrupts the
 * handler; a handler that returns ends the connection (Disconnect "requested" if still open).
 */
export const serve = <R>(
  connection: Connection,
  handler: (connection: Connection) => Effect.Effect<void, never, R>
): Effect.Effect<void, never, R> =>
  Effect.raceFirst(handler(connection), Effect.asVoid(connection.closed)).pipe(
    Effect.andThen(connection.disconnect(DisconnectReason.requested))
  )
