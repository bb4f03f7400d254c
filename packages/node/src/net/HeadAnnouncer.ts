/**
 * Announcing our new head to connected peers as go-ethereum 1.0 propagates a block: the whole
 * block with its TD (NewBlock) to the square root of the peers, its hash (NewBlockHashes) to the
 * rest, never to a peer that has it already (it announced it to us, or was sent it) or that
 * claims as much TD, and not while a sync moves the head block by block. Each peer gets the form
 * of its version: eth/60-61 announce bare hashes, eth/62+ each hash with its number. A 2015 node
 * that hears of a heavier head starts to sync at once instead of waiting for its timer.
 *
 * @since 0.2.0
 */
import { type ChainStore, Hash, type Network } from "@ethsync/core"
import { Effect } from "effect"
import * as EthMessage from "../eth/EthMessage.ts"
import * as HeaderFirstMessage from "../eth/HeaderFirstMessage.ts"
import * as HeaderFirstVersion from "../eth/HeaderFirstVersion.ts"
import type * as EthSessions from "./EthSessions.ts"

/** The announcement of `head` to a peer of `version`: the whole block with its TD, or its hash alone. */
const announcement = (version: number, head: ChainStore.Head, whole: boolean): EthSessions.Encoded => {
  const { block, td } = head
  if (!HeaderFirstVersion.is(version)) {
    return EthMessage.encode(whole ? EthMessage.NewBlock({ block, td }) : EthMessage.NewBlockHashes({ hashes: [block.hash] }))
  }
  return HeaderFirstMessage.encode(
    whole
      ? HeaderFirstMessage.NewBlock({ block, td })
      : HeaderFirstMessage.NewBlockHashes({ announcements: [{ hash: block.hash, number: block.number }] })
  )
}

/** Sends `head` to the sessions that lack it; returns how many peers got the block and how many its hash. */
export const announce = (
  sessions: ReadonlyArray<EthSessions.Session>,
  head: ChainStore.Head
): Effect.Effect<{ readonly blocks: number; readonly hashes: number }> => {
  const { block } = head
  const targets = sessions.filter((session) => !session.knows(block.hash))
  const full = Math.floor(Math.sqrt(targets.length))
  return Effect.forEach(targets, (session, index) => {
    session.learn(block.hash)
    return Effect.ignore(session.send(announcement(session.version, head, index < full)))
    // All at once: a peer that reads slowly (a send waits for its socket) holds nobody else up.
  }, { discard: true, concurrency: "unbounded" }).pipe(Effect.as({ blocks: full, hashes: targets.length - full }))
}

/** Announces the store's head whenever it differs from the last one announced. */
export interface HeadAnnouncer {
  /** Announces the head if it moved since the last announcement and no sync runs; nothing otherwise. */
  readonly announceIfMoved: Effect.Effect<void, ChainStore.StoreError>
}

/** What an announcer watches and tells. */
export interface Options {
  /** The chain whose head is announced. */
  readonly store: ChainStore.ChainStore["Service"]
  /** The peers to tell. */
  readonly sessions: EthSessions.EthSessions
  /** The peers' TDs: a peer that claims at least our head's TD is not told. */
  readonly network: Network.Shape
  /** Whether a sync runs: the head is announced once it is over. */
  readonly synchronising: Effect.Effect<boolean>
}

/** An announcer; the head at creation counts as announced. */
export const make = (options: Options): Effect.Effect<HeadAnnouncer, ChainStore.StoreError> =>
  Effect.gen(function*() {
    const { store, sessions, network } = options
    /** The head announced last (or the one we started with). */
    let last = (yield* store.head).block.hash
    return {
      announceIfMoved: Effect.gen(function*() {
        if (yield* options.synchronising) return
        const head = yield* store.head
        if (Hash.equals(head.block.hash, last)) return
        last = head.block.hash
        const behind = new Set((yield* network.peers).filter((peer) => peer.td < head.td).map((peer) => peer.id))
        const sent = yield* announce((yield* sessions.all).filter((session) => behind.has(session.id)), head)
        yield* Effect.logDebug(`announced block ${head.block.number}: NewBlock to ${sent.blocks} peers, its hash to ${sent.hashes}`)
      })
    }
  })
