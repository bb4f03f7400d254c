/**
 * The eth/66-68 protocol handler, one per connection: the Status exchange with the EIP-2124 fork
 * id within a deadline and its check, then the peer joins the network registry, the header-first
 * engine and the node's sessions for as long as the connection lasts. The engine's requests go
 * out as GetBlockHeaders and GetBlockBodies with the engine's request ids, and the answers go back
 * to it by id; the peer's requests (headers, bodies, receipts, node data, pooled transactions) are
 * served from the ChainStore; NewBlock and NewBlockHashes update its head and TD. Every message is
 * decoded strictly first; a peer that breaks the protocol is disconnected with a logged reason.
 * The session around it is SessionLifecycle's, shared with the eth/60-61 handler.
 *
 * @since 0.2.0
 */
import { type HeaderDownloader, type HeaderPeer } from "@ethsync/core"
import { Effect, Result } from "effect"
import * as ForkId from "../eth/ForkId.ts"
import * as HeaderFirstMessage from "../eth/HeaderFirstMessage.ts"
import * as HeaderFirstServing from "../eth/HeaderFirstServing.ts"
import * as HeaderFirstStatusCheck from "../eth/HeaderFirstStatusCheck.ts"
import * as HeaderFirstVersion from "../eth/HeaderFirstVersion.ts"
import type * as Connection from "../rlpx/Connection.ts"
import type * as EthSessions from "./EthSessions.ts"
import * as PeerFault from "./PeerFault.ts"
import * as SessionLifecycle from "./SessionLifecycle.ts"

/** What an eth/66-68 handler works with: the shared options and the header-first engine. */
export interface Options extends SessionLifecycle.Options {
  /** The header-first engine the peer is registered with and its answers delivered to. */
  readonly engine: HeaderDownloader.Shape
}

/**
 * The id an answer is delivered under when it carries none. Only eth/62-65 answers lack one, and
 * the node offers none of those, so such an answer answers no request and counts as unrequested.
 */
const noRequest = -1n

/** The engine's view of the peer: its requests become GetBlockHeaders and GetBlockBodies with their ids. */
const headerPeer = (session: EthSessions.Session, accepted: SessionLifecycle.Accepted): HeaderPeer.HeaderPeer => ({
  id: session.id,
  head: accepted.head,
  requestHeaders: (requestId, request) =>
    session.send(HeaderFirstMessage.encode(HeaderFirstMessage.GetBlockHeaders({ requestId, ...request }))),
  requestBodies: (requestId, hashes) => session.send(HeaderFirstMessage.encode(HeaderFirstMessage.GetBlockBodies({ requestId, hashes })))
})

/**
 * The handler for a node's connections on eth/`version` (`dialled`: whether we dialled it): runs
 * until the connection ends or the peer is disconnected.
 */
export const make = (options: Options) =>
(connection: Connection.Connection, dialled: boolean, version: HeaderFirstVersion.HeaderFirstVersion): Effect.Effect<void> => {
  const id = SessionLifecycle.peerId(connection)
  const { store, registry, engine } = options

  /** Our Status (with our fork id from eth/64 on) and the peer's, checked: what it says, or why it is refused. */
  const exchangeStatus = Effect.gen(function*() {
    const head = yield* store.head
    const height = BigInt(head.block.number)
    const ours = HeaderFirstMessage.Status({
      protocolVersion: version,
      networkId: options.networkId,
      td: head.td,
      bestHash: head.block.hash,
      genesisHash: store.genesis.hash,
      forkId: HeaderFirstVersion.hasForkId(version) ? ForkId.make(store.genesis.hash, height) : undefined
    })
    const first = yield* SessionLifecycle.firstMessage(options, connection, version, HeaderFirstMessage.encode(ours))
    const theirs = SessionLifecycle.statusOf(HeaderFirstMessage.decode(version, first.code, first.payload))
    if (Result.isFailure(theirs)) return yield* theirs.failure
    const checked = HeaderFirstStatusCheck.check(ours, theirs.success, height)
    if (Result.isFailure(checked)) return yield* PeerFault.badStatus(checked.failure)
    return { head: checked.success.bestHash, td: checked.success.td }
  })

  /** Acts on one message of a peer that has joined; fails with the fault that must disconnect it. */
  const dispatch = (
    session: EthSessions.Session,
    message: HeaderFirstMessage.HeaderFirstMessage
  ): Effect.Effect<void, PeerFault.PeerFault> => {
    switch (message._tag) {
      case "Status":
        return Effect.fail(new PeerFault.SecondStatus())
      case "BlockHeaders":
        return Effect.ignore(engine.deliverHeaders(id, message.requestId ?? noRequest, message.headers))
      case "BlockBodies":
        return Effect.ignore(engine.deliverBodies(id, message.requestId ?? noRequest, message.bodies))
      case "GetBlockHeaders":
      case "GetBlockBodies":
      case "GetReceipts":
      case "GetNodeData":
      case "GetPooledTransactions":
        return SessionLifecycle.serve(store, session, message._tag, HeaderFirstServing.answer(message))
      case "NewBlock":
        session.learn(message.block.hash)
        return registry.announce(id, message.block.hash, message.td, message.block)
      case "NewBlockHashes":
        return SessionLifecycle.hashesAnnounced(registry, session, message.announcements.map((announced) => announced.hash))
      // Gossip and answers to requests we never make (we keep no pool, state or receipts): read, checked, ignored.
      case "Transactions":
      case "NewPooledTransactionHashes":
      case "PooledTransactions":
      case "NodeData":
      case "Receipts":
        return Effect.void
    }
  }

  return SessionLifecycle.run(options, connection, dialled, version, {
    exchangeStatus,
    decode: (code, payload) => HeaderFirstMessage.decode(version, code, payload),
    register: (session, accepted) => engine.registerPeer(headerPeer(session, accepted)),
    unregister: Effect.ignore(engine.unregisterPeer(id)),
    dispatch
  })
}
