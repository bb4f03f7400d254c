/**
 * What the eth handlers of both families (eth/60-61 and eth/66-68) share, one connection at a
 * time: our Status out and the peer's within the deadline, a refusal with a logged reason and
 * go-ethereum's Disconnect reason, and, once the Status is accepted, the session: kept once per
 * node, joined to the network registry, registered with its family's sync engine, strictly
 * decoding and acting on every message as the connection reads it (in its reading fiber) until
 * the connection ends or the peer must go. A family gives only its Status exchange, its decoder,
 * its engine and what each message does.
 *
 * @since 0.2.0
 */
import { ChainStore, type Hash, Hex, type Network, type PeerHandle, type SyncError } from "@ethsync/core"
import { Deferred, Duration, Effect, Result } from "effect"
import * as HeaderFirstVersion from "../eth/HeaderFirstVersion.ts"
import type { DecodeError } from "../eth/MessageError.ts"
import type * as Connection from "../rlpx/Connection.ts"
import type { ConnectionError } from "../rlpx/ConnectionError.ts"
import { DisconnectReason, describeReason } from "../rlpx/DisconnectReason.ts"
import * as EthSessions from "./EthSessions.ts"
import * as NetMetrics from "./NetMetrics.ts"
import * as PeerFault from "./PeerFault.ts"

/** What a handler of either family works with: the node's chain, network and sessions. */
export interface Options {
  /** The chain we announce in our Status and serve from. */
  readonly store: ChainStore.ChainStore["Service"]
  /** The network registry the peer joins. */
  readonly registry: Network.Registry
  /** The node's sessions, for announcements. */
  readonly sessions: EthSessions.EthSessions
  /** Our node id, to choose the same of two connections with a node as it does. */
  readonly nodeId: Uint8Array
  /** Our network id (1 for mainnet). */
  readonly networkId: number
  /** How long the peer has to send its Status. */
  readonly statusTimeout: Duration.Input
  /** Told of each peer refused before it joined the registry (those after are in its drops), and why. */
  readonly onRefused: (peer: string, reason: string) => Effect.Effect<void>
}

/** A peer's id: its node id in hex, as in its enode URL. */
export const peerId = (connection: Connection.Connection): string => Hex.fromBytes(connection.remoteId).slice(2)

/** What a peer's accepted Status says about it. */
export interface Accepted {
  /** Its head block hash. */
  readonly head: Hash.Hash
  /** The total difficulty of its head. */
  readonly td: bigint
}

/** How the Status exchange can fail: the peer's fault, our store, or the connection ending. */
export type StatusFailure = PeerFault.PeerFault | ChainStore.StoreError | PeerHandle.PeerTransportError | ConnectionError

/** What a family adds to the shared session. */
export interface Family<Message> {
  /** Our Status out, the peer's in and checked: what it says, or why the peer is refused. */
  readonly exchangeStatus: Effect.Effect<Accepted, StatusFailure>
  /** Decodes one message of the negotiated version, strictly. */
  readonly decode: (code: number, payload: Uint8Array) => Result.Result<Message, DecodeError>
  /** Registers the joined peer with its family's sync engine; a refusal disconnects it. */
  readonly register: (session: EthSessions.Session, accepted: Accepted) => Effect.Effect<void, SyncError.BannedHead | SyncError.DuplicatePeer>
  /** Unregisters the peer from that engine when the session ends. */
  readonly unregister: Effect.Effect<void>
  /** Acts on one message of a joined peer; fails with the fault that must disconnect it. */
  readonly dispatch: (session: EthSessions.Session, message: Message) => Effect.Effect<void, PeerFault.PeerFault>
}

/** The words of how the connection ended, or that the node is closing it if it has not ended yet. */
const endOf = (connection: Connection.Connection): Effect.Effect<string> =>
  Effect.timeoutOrElse(Effect.map(connection.closed, (error) => error.message), {
    duration: "100 millis",
    orElse: () => Effect.succeed("the node closed the connection")
  })

/** The Disconnect reasons' numbering a peer of eth/`version` expects. */
const numberingOf = (version: number): PeerFault.Numbering => HeaderFirstVersion.is(version) ? "today" : "2015"

/** Disconnects a peer that has not joined, logging why (the reason numbered for eth/`version`) and telling `onRefused`. */
export const refuse = (
  options: Options,
  connection: Connection.Connection,
  fault: PeerFault.PeerFault,
  version?: number
): Effect.Effect<void> => {
  const reason = PeerFault.disconnectReason(fault, version === undefined ? "2015" : numberingOf(version))
  return Effect.all([
    Effect.logInfo(`eth: refused: ${fault.message} (${describeReason(reason)})`),
    NetMetrics.disconnect(fault._tag),
    options.onRefused(peerId(connection), fault.message),
    connection.disconnect(reason)
  ], { discard: true })
}

/**
 * Sends our encoded Status on a connection of eth/`version` and waits for the peer's first
 * message, counted; NoStatus when nothing arrives within `options.statusTimeout`.
 */
export const firstMessage = (options: Options, connection: Connection.Connection, version: number, ours: EthSessions.Encoded) =>
  Effect.gen(function*() {
    const millis = Duration.toMillis(Duration.fromInputUnsafe(options.statusTimeout))
    yield* EthSessions.sendEncoded(connection, peerId(connection), version)(ours)
    const first = yield* Effect.timeoutOrElse(connection.receive, {
      duration: millis,
      orElse: () => Effect.fail(new PeerFault.NoStatus({ millis }))
    })
    yield* NetMetrics.message("in", version, first.code, first.payload.length)
    return first
  })

/** A message of either family that is its Status. */
type StatusOf<Message> = Extract<Message, { readonly _tag: "Status" }>

/** Whether a message is a Status. */
const isStatus = <Message extends { readonly _tag: string }>(message: Message): message is StatusOf<Message> => message._tag === "Status"

/** The peer's Status from its decoded first message: BadStatus when it could not be decoded or is not a Status. */
export const statusOf = <Message extends { readonly _tag: string }>(
  decoded: Result.Result<Message, DecodeError>
): Result.Result<StatusOf<Message>, PeerFault.BadStatus> => {
  if (Result.isFailure(decoded)) return Result.fail(PeerFault.badStatus(decoded.failure))
  const message = decoded.success
  return isStatus(message)
    ? Result.succeed(message)
    : Result.fail(new PeerFault.BadStatus({ reason: `${message._tag} came before the Status` }))
}

/** Records a NewBlockHashes: the peer has these blocks, and its head is the last (at the TD it last claimed). */
export const hashesAnnounced = (
  registry: Network.Registry,
  session: EthSessions.Session,
  hashes: ReadonlyArray<Hash.Hash>
): Effect.Effect<void> => {
  const last = hashes[hashes.length - 1]
  if (last === undefined) return Effect.void
  for (const hash of hashes) session.learn(hash)
  return Effect.flatMap(registry.peers, (peers) => {
    const peer = peers.find((p) => p.id === session.id)
    return peer === undefined ? Effect.void : registry.announce(session.id, last, peer.td, undefined)
  })
}

/** Sends the store's answer to a peer's request; a store that cannot answer is logged, not held against the peer. */
export const serve = (
  store: ChainStore.ChainStore["Service"],
  session: EthSessions.Session,
  request: string,
  answer: Effect.Effect<EthSessions.Encoded, ChainStore.StoreError, ChainStore.ChainStore>
): Effect.Effect<void> =>
  answer.pipe(
    Effect.provideService(ChainStore.ChainStore, store),
    Effect.flatMap(session.send),
    Effect.catchTag("StoreError", (error) => Effect.logWarning(`eth: cannot answer ${request}: ${error.message}`)),
    Effect.ignore
  )

/**
 * Runs a connection of eth/`version` (`dialled`: whether we dialled it) with a family's protocol:
 * the Status exchange, then the session until the connection ends or the peer is disconnected.
 * Never fails: every way it ends is logged.
 */
export const run = <Message>(
  options: Options,
  connection: Connection.Connection,
  dialled: boolean,
  version: number,
  family: Family<Message>
): Effect.Effect<void> => {
  const id = peerId(connection)
  const { registry, sessions } = options
  const ours = Hex.fromBytes(options.nodeId).slice(2)

  /** The peer's session from its Status on: joined, registered, reading messages until it ends. */
  const joined = (accepted: Accepted) =>
    Effect.gen(function*() {
      const session = EthSessions.session(connection, id, version)
      /**
       * Set when the session must end: the registry disconnects the peer (its engine dropped it,
       * a string), or the same node is connected again on the connection both keep. The
       * handler's own fiber then sends the Disconnect, so the connection is not torn down before
       * it goes out.
       */
      const kicked = yield* Deferred.make<string | PeerFault.AlreadyConnected>()
      /** Logs why and disconnects with `reason`. */
      const hangUp = (why: string, reason: DisconnectReason) =>
        Effect.andThen(Effect.logInfo(`eth: disconnected: ${why} (${describeReason(reason)})`), connection.disconnect(reason))
      /** Disconnects this connection as the other of two with the same node, which itself stays connected. */
      const duplicate = (fault: PeerFault.AlreadyConnected) =>
        Effect.andThen(NetMetrics.disconnect(fault._tag), hangUp(fault.message, PeerFault.disconnectReason(fault, numberingOf(version))))
      yield* Effect.addFinalizer(() => sessions.remove(session))
      const added = yield* sessions.add(session, {
        preferred: EthSessions.preferred(ours, id, dialled),
        close: Effect.asVoid(Deferred.succeed(kicked, new PeerFault.AlreadyConnected()))
      })
      if (!added) return yield* duplicate(new PeerFault.AlreadyConnected())
      yield* registry.join(
        { id, version, head: accepted.head, td: accepted.td },
        (reason) => Effect.asVoid(Deferred.succeed(kicked, reason))
      )
      yield* Effect.addFinalizer(() => Effect.flatMap(endOf(connection), (reason) => registry.leave(id, reason)))
      session.learn(accepted.head)
      const registered = yield* Effect.result(family.register(session, accepted))
      if (Result.isFailure(registered)) {
        yield* NetMetrics.disconnect(registered.failure._tag)
        yield* registry.disconnect(id, registered.failure.message)
        return yield* hangUp(registered.failure.message, DisconnectReason.uselessPeer)
      }
      yield* Effect.addFinalizer(() => family.unregister)
      yield* Effect.logDebug(`eth: joined on eth/${version}`)
      // Decoded and dispatched as the connection reads each message, in its reading fiber.
      const reading = Effect.flip(connection.handle((message) =>
        Effect.gen(function*() {
          yield* NetMetrics.message("in", version, message.code, message.payload.length)
          const decoded = family.decode(message.code, message.payload)
          if (Result.isFailure(decoded)) return yield* new PeerFault.BadMessage({ error: decoded.failure })
          yield* family.dispatch(session, decoded.success)
        })
      ))
      const ended = yield* Effect.raceFirst(reading, Deferred.await(kicked))
      if (typeof ended === "string") {
        yield* NetMetrics.disconnect("Downloader")
        return yield* hangUp(ended, DisconnectReason.uselessPeer)
      }
      if (ended._tag === "AlreadyConnected") return yield* duplicate(ended)
      if (PeerFault.isPeerFault(ended)) {
        yield* NetMetrics.disconnect(ended._tag)
        yield* registry.disconnect(id, ended.message)
        return yield* hangUp(ended.message, PeerFault.disconnectReason(ended, numberingOf(version)))
      }
      yield* Effect.logDebug(`eth: ended: ${ended.message}`)
    }).pipe(Effect.scoped)

  return Effect.gen(function*() {
    const status = yield* Effect.result(family.exchangeStatus)
    if (Result.isSuccess(status)) return yield* joined(status.success)
    const error = status.failure
    if (PeerFault.isPeerFault(error)) return yield* refuse(options, connection, error, version)
    if (error._tag === "StoreError") return yield* Effect.logError(`eth: cannot send our Status: ${error.message}`)
    yield* Effect.logDebug(`eth: ended before the Status: ${error.message}`)
  }).pipe(
    Effect.catchDefect((defect) => Effect.logError("eth: the handler failed", defect)),
    Effect.annotateLogs({ peer: id.slice(0, 16) })
  )
}
