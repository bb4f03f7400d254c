/**
 * The peers a node is connected to, as its sync loop sees them: each with the head and the total
 * difficulty it advertised. The pool's PeerDropper disconnects a peer the downloader caught: it
 * forgets it, unregisters it from the downloader and remembers why. The downloader is built with
 * the dropper, so the pool is handed the downloader afterwards (`attach`).
 *
 * @since 0.1.0
 */
import { type Downloader, type Hash, PeerDropper } from "@ethsync/core"
import { Deferred, Effect } from "effect"

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

/** What the pool unregisters dropped peers from: the downloader built with its dropper. */
export type Registry = Pick<Downloader.Shape, "unregisterPeer">

/** The connected peers and the drops so far. */
export interface PeerPool {
  /**
   * Disconnects a peer: forgets it, records the reason (the first one, if dropped twice) and
   * unregisters it from the attached downloader, waiting until one is attached.
   */
  readonly dropper: PeerDropper["Service"]
  /** Hands the pool the downloader built with its dropper; only the first one given counts. */
  readonly attach: (registry: Registry) => Effect.Effect<void>
  /** Adds a peer the downloader has registered. */
  readonly connect: (peer: Advertised) => Effect.Effect<void>
  /** The connected peers, in connection order. */
  readonly connected: Effect.Effect<ReadonlyArray<Advertised>>
  /** Whether a peer is connected. */
  readonly isConnected: (id: string) => Effect.Effect<boolean>
  /** Every drop so far, in order. */
  readonly drops: Effect.Effect<ReadonlyArray<Drop>>
}

/** An empty pool, with no downloader attached yet. */
export const make: Effect.Effect<PeerPool> = Effect.sync(() => {
  /** Connected peers by id, in connection order. */
  const peers = new Map<string, Advertised>()
  /** Drops in order. */
  const drops: Array<Drop> = []
  /** The downloader to unregister dropped peers from, once attached. */
  const attached = Deferred.makeUnsafe<Registry>()
  return {
    dropper: PeerDropper.of({
      drop: (peer, reason) =>
        Effect.suspend(() => {
          if (!drops.some((drop) => drop.peer === peer)) drops.push({ peer, reason })
          peers.delete(peer)
          return Effect.flatMap(Deferred.await(attached), (registry) => Effect.ignore(registry.unregisterPeer(peer)))
        })
    }),
    attach: (registry) => Effect.asVoid(Deferred.succeed(attached, registry)),
    connect: (peer) => Effect.sync(() => void peers.set(peer.id, peer)),
    connected: Effect.sync(() => [...peers.values()]),
    isConnected: (id) => Effect.sync(() => peers.has(id)),
    drops: Effect.sync(() => [...drops])
  }
})
