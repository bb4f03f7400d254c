/**
 * The eth sessions of a node, of either family (eth/60-61 or eth/66-68): one per peer whose Status
 * we accepted, with its version, how to send it an encoded message and which blocks it already
 * has (it announced them to us, or we sent them), so an announcement never goes back to where it
 * came from. A node connected twice (we dialled each other at once) keeps one session, the same
 * one on both sides: the connection dialled by the node with the lower id.
 *
 * @since 0.2.0
 */
import { Hash, PeerHandle } from "@ethsync/core"
import { Deferred, Effect, Metric } from "effect"
import type * as Connection from "../rlpx/Connection.ts"
import * as NetMetrics from "./NetMetrics.ts"

/** Blocks remembered per peer as known to it, as go-ethereum 1.0 keeps (oldest forgotten first). */
export const maxKnownBlocks = 1024

/** One peer's eth session. */
export interface Session {
  /** The peer's id (its node id in hex). */
  readonly id: string
  /** The eth version negotiated with it, which decides the form of what it is sent. */
  readonly version: number
  /** Sends it an encoded message of its version; a failed send is a PeerTransportError. */
  readonly send: (message: Encoded) => Effect.Effect<void, PeerHandle.PeerTransportError>
  /** Whether the peer has the block (it announced it, or we sent it). */
  readonly knows: (hash: Hash.Hash) => boolean
  /** Records that the peer has the block. */
  readonly learn: (hash: Hash.Hash) => void
  /** The connection's traffic so far, by message kind, in and out. */
  readonly traffic: Effect.Effect<Connection.Stats>
}

/** An eth message as it goes on the wire: its code within the capability and its RLP payload (either family). */
export interface Encoded {
  /** The message code. */
  readonly code: number
  /** The RLP payload. */
  readonly payload: Uint8Array
}

/** The part of a connection a session uses. */
export type Link = Pick<Connection.Connection, "send" | "stats">

/** Sends an encoded eth message of `version` over a connection, counting it; any failure is a PeerTransportError for `id`. */
export const sendEncoded = (connection: Link, id: string, version: number) =>
({ code, payload }: Encoded): Effect.Effect<void, PeerHandle.PeerTransportError> =>
  connection.send("eth", code, payload).pipe(
    Effect.mapError((error) => new PeerHandle.PeerTransportError({ peer: id, reason: error.message })),
    Effect.andThen(NetMetrics.message("out", version, code, payload.length))
  )

/** A session for a peer on `connection` speaking eth/`version`. */
export const session = (connection: Link, id: string, version: number): Session => {
  /** Blocks the peer has, by hash key, oldest first. */
  const known = new Set<string>()
  return {
    id,
    version,
    send: sendEncoded(connection, id, version),
    knows: (hash) => known.has(Hash.key(hash)),
    learn: (hash) => {
      const key = Hash.key(hash)
      known.delete(key)
      known.add(key)
      if (known.size > maxKnownBlocks) known.delete(known.values().next().value!)
    },
    traffic: connection.stats
  }
}

/**
 * Whether a connection is the one to keep when a node is connected to us twice (we dialled each
 * other at once): the one dialled by the node with the lower id, so that both nodes keep the same.
 */
export const preferred = (ours: string, theirs: string, dialledByUs: boolean): boolean => dialledByUs === (ours < theirs)

/** What decides between two sessions with the same peer. */
export interface Claim {
  /** Whether the session's connection is the one to keep (see `preferred`). */
  readonly preferred: boolean
  /** Ends the session for another on the preferred connection; its `remove` follows. */
  readonly close: Effect.Effect<void>
}

/** The sessions of a node. */
export interface EthSessions {
  /**
   * Adds a session; when one with its id exists (the same node connected twice), only the one on
   * the preferred connection stays: an existing one not on it is closed and the new one added once
   * it is removed, else the new one is refused (false). Counted in the peers gauge.
   */
  readonly add: (session: Session, claim: Claim) => Effect.Effect<boolean>
  /** Removes the session with this id, if it is the one given. */
  readonly remove: (session: Session) => Effect.Effect<void>
  /** The sessions, in the order they were added. */
  readonly all: Effect.Effect<ReadonlyArray<Session>>
}

/** A session in the table. */
interface Entry {
  /** The session. */
  readonly session: Session
  /** What decides between it and another with the same peer. */
  readonly claim: Claim
  /** Done when it is removed, for a session waiting to take its place. */
  readonly removed: Deferred.Deferred<void>
}

/** An empty table of sessions. */
export const make = (): EthSessions => {
  /** Sessions by peer id. */
  const entries = new Map<string, Entry>()
  /** Sets the peers gauge to the sessions' count. */
  const count = Effect.suspend(() => Metric.update(NetMetrics.peersConnected, entries.size))
  /** Adds a session, or refuses it, or waits for the one it replaces to be removed and tries again. */
  const add = (session: Session, claim: Claim): Effect.Effect<boolean> =>
    Effect.suspend(() => {
      const existing = entries.get(session.id)
      if (existing === undefined) {
        entries.set(session.id, { session, claim, removed: Deferred.makeUnsafe() })
        return Effect.as(count, true)
      }
      if (existing.claim.preferred || !claim.preferred) return Effect.succeed(false)
      return existing.claim.close.pipe(
        Effect.andThen(Deferred.await(existing.removed)),
        Effect.andThen(add(session, claim))
      )
    })
  return {
    add,
    remove: (session) =>
      Effect.suspend(() => {
        const entry = entries.get(session.id)
        if (entry?.session !== session) return Effect.void
        entries.delete(session.id)
        return Effect.andThen(Deferred.succeed(entry.removed, undefined), count)
      }),
    all: Effect.sync(() => Array.from(entries.values(), (entry) => entry.session))
  }
}
