/**
 * The peers a node is connected to, as its sync loop sees them: each with the head and the total
 * difficulty it advertised. The pool's PeerDropper is the transport's side of a drop: the downloader
 * has already unregistered the peer; the pool forgets it and remembers why.
 *
 * @since 0.1.0
 */
import { type Hash, PeerDropper } from "@ethsync/core"
import { Effect } from "effect"

/** A connected peer as its status message described it. */
export interface Advertised {
  /** The peer's id. */
  readonly id: string
  /** The head hash it advertised. */
  readonly head: Hash.Hash
  /** The total difficulty it claims for that head. */
  readonly td: bigint
}

/** A peer that was disconnected, and why. */
export interface Drop {
  /** The peer's id. */
  readonly peer: string
  /** The reason the downloader gave. */
  readonly reason: string
}

/** The connected peers and the drops so far. */
export interface PeerPool {
  /** Disconnects a peer: forgets it and records the reason (the first one, if dropped twice). */
  readonly dropper: PeerDropper["Service"]
  /** Adds a peer the downloader has registered. */
  readonly connect: (peer: Advertised) => Effect.Effect<void>
  /** The connected peers, in connection order. */
  readonly connected: Effect.Effect<ReadonlyArray<Advertised>>
  /** Whether a peer is connected. */
  readonly isConnected: (id: string) => Effect.Effect<boolean>
  /** Every drop so far, in order. */
  readonly drops: Effect.Effect<ReadonlyArray<Drop>>
}

/** An empty pool. */
export const make: Effect.Effect<PeerPool> = Effect.sync(() => {
  /** Connected peers by id, in connection order. */
  const peers = new Map<string, Advertised>()
  /** Drops in order. */
  const drops: Array<Drop> = []
  return {
    dropper: PeerDropper.of({
      drop: (peer, reason) =>
        Effect.sync(() => {
          if (!drops.some((drop) => drop.peer === peer)) drops.push({ peer, reason })
          peers.delete(peer)
        })
    }),
    connect: (peer) => Effect.sync(() => void peers.set(peer.id, peer)),
    connected: Effect.sync(() => [...peers.values()]),
    isConnected: (id) => Effect.sync(() => peers.has(id)),
    drops: Effect.sync(() => [...drops])
  }
})
