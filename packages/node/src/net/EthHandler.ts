/**
 * The eth/60-61 protocol handler, one per connection: the Status exchange within a deadline and
 * its check, then the peer joins the network registry, the downloader and the node's sessions
 * for as long as the connection lasts; its answers go to the downloader, its requests are served
 * from the ChainStore, its announcements update its head. A peer that breaks the protocol is
 * disconnected with go-ethereum 1.0's reason and a logged explanation. Nothing a peer sends can
 * make it throw: every message is decoded strictly first.
 *
 * @since 0.2.0
 */
import { ChainStore, type Downloader, type Hash, Hex, type Network, type PeerHandle } from "@ethsync/core"
import { Deferred, Duration, Effect, Result } from "effect"
import * as EthMessage from "../eth/EthMessage.ts"
import * as EthVersion from "../eth/EthVersion.ts"
import * as Serving from "../eth/Serving.ts"
import * as StatusCheck from "../eth/StatusCheck.ts"
import type * as Connection from "../rlpx/Connection.ts"
import { DisconnectReason, describeReason } from "../rlpx/DisconnectReason.ts"
import * as EthSessions from "./EthSessions.ts"
import * as NetMetrics from "./NetMetrics.ts"
import * as PeerFault from "./PeerFault.ts"

/** What a handler works with: the node's chain, network, downloader and sessions. */
export interface Options {
  /** The chain we announce in our Status and serve from. */
  readonly store: ChainStore.ChainStore["Service"]
  /** The network registry the peer joins. */
  readonly registry: Network.Registry
  /** The downloader the peer is registered with and its answers delivered to. */
  readonly downloader: Downloader.Shape
  /** The node's sessions, for announcements. */
  readonly sessions: EthSessions.EthSessions
  /** Our node id, to choose the same of two connections with a node as it does. */
  readonly nodeId: Uint8Array
  /** Our network id (1 for mainnet). */
  readonly networkId: number
  /** Hashes asked for per GetBlockHashes (the downloader's maxHashFetch). */
  readonly maxHashFetch: number
  /** How long the peer has to send its Status. */
  readonly statusTimeout: Duration.Input
  /** Told of each peer refused before it joined the registry (those after are in its drops), and why. */
  readonly onRefused: (peer: string, reason: string) => Effect.Effect<void>
}

/** A peer's id: its node id in hex, as in its enode URL. */
export const peerId = (connection: Connection.Connection): string => Hex.fromBytes(connection.remoteId).slice(2)

/** The downloader's view of the peer: requests become GetBlockHashes(FromNumber) and GetBlocks messages. */
const handle = (session: EthSessions.Session, version: EthVersion.EthVersion, head: Hash.Hash, maxHashFetch: number): PeerHandle.PeerHandle => ({
  id: session.id,
  head,
  version,
  requestHashes: (from) => session.send(EthMessage.GetBlockHashes({ hash: from, max: maxHashFetch })),
  requestHashesFromNumber: (number, amount) => session.send(EthMessage.GetBlockHashesFromNumber({ number, amount })),
  requestBlocks: (hashes) => session.send(EthMessage.GetBlocks({ hashes }))
})

/** The words of how the connection ended, or that the node is closing it if it has not ended yet. */
const endOf = (connection: Connection.Connection): Effect.Effect<string> =>
  Effect.timeoutOrElse(Effect.map(connection.closed, (error) => error.message), {
    duration: "100 millis",
    orElse: () => Effect.succeed("the node closed the connection")
  })

/**
 * The handler for a node's connections (`dialled`: whether we dialled it): runs until the
 * connection ends or the peer is disconnected.
 */
export const make = (options: Options) => (connection: Connection.Connection, dialled: boolean): Effect.Effect<void> => {
  const id = peerId(connection)
  const { store, registry, downloader, sessions } = options
  const ours = Hex.fromBytes(options.nodeId).slice(2)
  const statusMillis = Duration.toMillis(Duration.fromInputUnsafe(options.statusTimeout))

  /** Disconnects a peer that has not joined, logging why. */
  const refuse = (fault: PeerFault.PeerFault) => {
    const reason = PeerFault.disconnectReason(fault)
    return Effect.all([
      Effect.logInfo(`eth: refused: ${fault.message} (${describeReason(reason)})`),
      NetMetrics.disconnect(fault._tag),
      options.onRefused(id, fault.message),
      connection.disconnect(reason)
    ], { discard: true })
  }

  /** Our Status and the peer's, checked: the peer's Status, or why it is refused. */
  const exchangeStatus = (version: EthVersion.EthVersion) =>
    Effect.gen(function*() {
      const head = yield* store.head
      const ours = EthMessage.Status({
        protocolVersion: version,
        networkId: options.networkId,
        td: head.td,
        bestHash: head.block.hash,
        genesisHash: store.genesis.hash
      })
      yield* EthSessions.sendOver(connection, id)(ours)
      const first = yield* Effect.timeoutOrElse(connection.receive, {
        duration: statusMillis,
        orElse: () => Effect.fail(new PeerFault.NoStatus({ millis: statusMillis }))
      })
      yield* NetMetrics.message("in", first.code, first.payload.length)
      const decoded = EthMessage.decode(version, first.code, first.payload)
      if (Result.isFailure(decoded)) return yield* PeerFault.badStatus(decoded.failure)
      if (decoded.success._tag !== "Status") {
        return yield* new PeerFault.BadStatus({ reason: `${decoded.success._tag} came before the Status` })
      }
      const checked = StatusCheck.check(ours, decoded.success)
      return Result.isFailure(checked) ? yield* PeerFault.badStatus(checked.failure) : checked.success
    })

  /** Acts on one message of a peer that has joined; fails with the fault that must disconnect it. */
  const dispatch = (session: EthSessions.Session, message: EthMessage.EthMessage): Effect.Effect<void, PeerFault.PeerFault> => {
    switch (message._tag) {
      case "Status":
        return Effect.fail(new PeerFault.SecondStatus())
      case "BlockHashes":
        return Effect.ignore(downloader.deliverHashes(id, message.hashes))
      case "Blocks":
        return Effect.ignore(downloader.deliverBlocks(id, message.blocks))
      case "GetBlockHashes":
      case "GetBlockHashesFromNumber":
      case "GetBlocks":
        return Serving.answer(message).pipe(
          Effect.provideService(ChainStore.ChainStore, store),
          Effect.flatMap(EthSessions.sendEncoded(connection, id)),
          Effect.catchTag("StoreError", (error) => Effect.logWarning(`eth: cannot answer ${message._tag}: ${error.message}`)),
          Effect.ignore
        )
      case "NewBlock":
        session.learn(message.block.hash)
        return registry.announce(id, message.block.hash, message.td, message.block)
      case "NewBlockHashes": {
        const last = message.hashes[message.hashes.length - 1]
        if (last === undefined) return Effect.void
        for (const hash of message.hashes) session.learn(hash)
        return Effect.flatMap(registry.peers, (peers) => {
          const peer = peers.find((p) => p.id === id)
          return peer === undefined ? Effect.void : registry.announce(id, last, peer.td, undefined)
        })
      }
      case "Transactions":
        return Effect.void
    }
  }

  /** The peer's session from its Status on: joined, registered, reading messages until it ends. */
  const joined = (version: EthVersion.EthVersion, status: EthMessage.Status) =>
    Effect.gen(function*() {
      const session = EthSessions.session(connection, id)
      /**
       * Set when the session must end: the registry disconnects the peer (the downloader dropped
       * it, a string), or the same node is connected again on the connection both keep. The
       * handler's own fiber then sends the Disconnect, so the connection is not torn down before
       * it goes out.
       */
      const kicked = yield* Deferred.make<string | PeerFault.AlreadyConnected>()
      /** Logs why and disconnects with `reason`. */
      const hangUp = (why: string, reason: DisconnectReason) =>
        Effect.andThen(Effect.logInfo(`eth: disconnected: ${why} (${describeReason(reason)})`), connection.disconnect(reason))
      /** Disconnects this connection as the other of two with the same node, which itself stays connected. */
      const duplicate = (fault: PeerFault.AlreadyConnected) =>
        Effect.andThen(NetMetrics.disconnect(fault._tag), hangUp(fault.message, PeerFault.disconnectReason(fault)))
      yield* Effect.addFinalizer(() => sessions.remove(session))
      const added = yield* sessions.add(session, {
        preferred: EthSessions.preferred(ours, id, dialled),
        close: Effect.asVoid(Deferred.succeed(kicked, new PeerFault.AlreadyConnected()))
      })
      if (!added) return yield* duplicate(new PeerFault.AlreadyConnected())
      yield* registry.join(
        { id, version, head: status.bestHash, td: status.td },
        (reason) => Effect.asVoid(Deferred.succeed(kicked, reason))
      )
      yield* Effect.addFinalizer(() => Effect.flatMap(endOf(connection), (reason) => registry.leave(id, reason)))
      session.learn(status.bestHash)
      const registered = yield* Effect.result(downloader.registerPeer(handle(session, version, status.bestHash, options.maxHashFetch)))
      if (Result.isFailure(registered)) {
        yield* NetMetrics.disconnect(registered.failure._tag)
        yield* registry.disconnect(id, registered.failure.message)
        return yield* hangUp(registered.failure.message, DisconnectReason.uselessPeer)
      }
      yield* Effect.addFinalizer(() => Effect.ignore(downloader.unregisterPeer(id)))
      yield* Effect.logDebug(`eth: joined on eth/${version}`)
      const reading = Effect.flip(Effect.forever(Effect.gen(function*() {
        const message = yield* connection.receive
        yield* NetMetrics.message("in", message.code, message.payload.length)
        const decoded = EthMessage.decode(version, message.code, message.payload)
        if (Result.isFailure(decoded)) return yield* new PeerFault.BadMessage({ error: decoded.failure })
        yield* dispatch(session, decoded.success)
      })))
      const ended = yield* Effect.raceFirst(reading, Deferred.await(kicked))
      if (typeof ended === "string") {
        yield* NetMetrics.disconnect("Downloader")
        return yield* hangUp(ended, DisconnectReason.uselessPeer)
      }
      if (ended._tag === "AlreadyConnected") return yield* duplicate(ended)
      if (PeerFault.isPeerFault(ended)) {
        yield* NetMetrics.disconnect(ended._tag)
        yield* registry.disconnect(id, ended.message)
        return yield* hangUp(ended.message, PeerFault.disconnectReason(ended))
      }
      yield* Effect.logDebug(`eth: ended: ${ended.message}`)
    }).pipe(Effect.scoped)

  return Effect.gen(function*() {
    const version = EthVersion.highestShared(
      connection.capabilities.filter((capability) => capability.name === "eth").map((capability) => capability.version)
    )
    if (version === undefined) return yield* refuse(new PeerFault.NoSharedVersion())
    const status = yield* Effect.result(exchangeStatus(version))
    if (Result.isSuccess(status)) return yield* joined(version, status.success)
    const error = status.failure
    if (PeerFault.isPeerFault(error)) return yield* refuse(error)
    if (error._tag === "StoreError") return yield* Effect.logError(`eth: cannot send our Status: ${error.message}`)
    yield* Effect.logDebug(`eth: ended before the Status: ${error.message}`)
  }).pipe(
    Effect.catchDefect((defect) => Effect.logError("eth: the handler failed", defect)),
    Effect.annotateLogs({ peer: id.slice(0, 16) })
  )
}
