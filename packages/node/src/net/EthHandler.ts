/**
 * The eth/60-61 protocol handler, one per connection: the Status exchange within a deadline and
 * its check, then the peer joins the network registry, the hash-chain downloader and the node's
 * sessions for as long as the connection lasts; its answers go to the downloader, its requests
 * are served from the ChainStore, its announcements update its head. A peer that breaks the
 * protocol is disconnected with go-ethereum 1.0's reason and a logged explanation. Nothing a peer
 * sends can make it throw: every message is decoded strictly first. The session around it is
 * SessionLifecycle's, shared with the eth/66-68 handler.
 *
 * @since 0.2.0
 */
import { type Downloader, type Hash, type PeerHandle } from "@ethsync/core"
import { Effect, Result } from "effect"
import * as EthMessage from "../eth/EthMessage.ts"
import type * as EthVersion from "../eth/EthVersion.ts"
import * as Serving from "../eth/Serving.ts"
import * as StatusCheck from "../eth/StatusCheck.ts"
import type * as Connection from "../rlpx/Connection.ts"
import * as EthSessions from "./EthSessions.ts"
import * as PeerFault from "./PeerFault.ts"
import * as SessionLifecycle from "./SessionLifecycle.ts"

/** What an eth/60-61 handler works with: the shared options and the hash-chain downloader. */
export interface Options extends SessionLifecycle.Options {
  /** The downloader the peer is registered with and its answers delivered to. */
  readonly downloader: Downloader.Shape
  /** Hashes asked for per GetBlockHashes (the downloader's maxHashFetch). */
  readonly maxHashFetch: number
}

/** The downloader's view of the peer: requests become GetBlockHashes(FromNumber) and GetBlocks messages. */
const handle = (session: EthSessions.Session, version: EthVersion.EthVersion, head: Hash.Hash, maxHashFetch: number): PeerHandle.PeerHandle => ({
  id: session.id,
  head,
  version,
  requestHashes: (from) => session.send(EthMessage.encode(EthMessage.GetBlockHashes({ hash: from, max: maxHashFetch }))),
  requestHashesFromNumber: (number, amount) => session.send(EthMessage.encode(EthMessage.GetBlockHashesFromNumber({ number, amount }))),
  requestBlocks: (hashes) => session.send(EthMessage.encode(EthMessage.GetBlocks({ hashes })))
})

/**
 * The handler for a node's connections on eth/`version` (`dialled`: whether we dialled it): runs
 * until the connection ends or the peer is disconnected.
 */
export const make = (options: Options) =>
(connection: Connection.Connection, dialled: boolean, version: EthVersion.EthVersion): Effect.Effect<void> => {
  const id = SessionLifecycle.peerId(connection)
  const { store, registry, downloader } = options

  /** Our Status and the peer's, checked: what it says, or why it is refused. */
  const exchangeStatus = Effect.gen(function*() {
    const head = yield* store.head
    const ours = EthMessage.Status({
      protocolVersion: version,
      networkId: options.networkId,
      td: head.td,
      bestHash: head.block.hash,
      genesisHash: store.genesis.hash
    })
    const first = yield* SessionLifecycle.firstMessage(options, connection, version, EthMessage.encode(ours))
    const theirs = SessionLifecycle.statusOf(EthMessage.decode(version, first.code, first.payload))
    if (Result.isFailure(theirs)) return yield* theirs.failure
    const checked = StatusCheck.check(ours, theirs.success)
    if (Result.isFailure(checked)) return yield* PeerFault.badStatus(checked.failure)
    return { head: checked.success.bestHash, td: checked.success.td }
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
        return SessionLifecycle.serve(store, session, message._tag, Serving.answer(message))
      case "NewBlock":
        session.learn(message.block.hash)
        return registry.announce(id, message.block.hash, message.td, message.block)
      case "NewBlockHashes":
        return SessionLifecycle.hashesAnnounced(registry, session, message.hashes)
      case "Transactions":
        return Effect.void
    }
  }

  return SessionLifecycle.run(options, connection, dialled, version, {
    exchangeStatus,
    decode: (code, payload) => EthMessage.decode(version, code, payload),
    register: (session, accepted) => downloader.registerPeer(handle(session, version, accepted.head, options.maxHashFetch)),
    unregister: Effect.ignore(downloader.unregisterPeer(id)),
    dispatch
  })
}
