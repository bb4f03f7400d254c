/**
 * The in-memory transport between a downloader and its simulated peers: it builds peers, connects
 * them to the network registry (so the sync loop sees their head and TD, and a disconnect takes
 * them off), registers them with the downloader, and runs their answers on fibers owned by its
 * scope. A test harness may ask it to remember every hash handed to the downloader, to check that
 * none stays queued once a sync is over; the demo does not, so a long run keeps no history.
 *
 * @since 0.1.0
 */
import type { Downloader, Hash, Network, SyncError } from "@ethsync/core"
import { Effect, FiberSet, type Scope } from "effect"
import * as SimPeer from "./SimPeer.ts"

/** A transport with its peers. */
export interface SimNetwork {
  /** Where its peers answer through; scripted peers of a harness join on it too. */
  readonly wire: SimPeer.Wire
  /** Builds the peer of `spec`, registers it with the downloader and connects it to the network. */
  readonly add: (spec: SimPeer.Spec) => Effect.Effect<SimPeer.SimPeer, SyncError.BannedHead | SyncError.DuplicatePeer>
  /** The hashes delivered to the downloader since the last call, in batches (always empty unless tracking). */
  readonly takeSent: () => ReadonlyArray<ReadonlyArray<Hash.Hash>>
}

/** How to build a network. */
export interface Options {
  /** Remember every hash batch delivered until `takeSent` (for leak checks). */
  readonly track?: boolean
}

/** A transport to `downloader` on `registry`; answers still in flight are interrupted when the scope closes. */
export const make = (
  registry: Network.Registry,
  downloader: Downloader.Shape,
  maxHashFetch: number,
  options: Options = {}
): Effect.Effect<SimNetwork, never, Scope.Scope> =>
  Effect.gen(function*() {
    /** Hash batches delivered since the last `takeSent`, when tracking. */
    let sent: Array<ReadonlyArray<Hash.Hash>> = []
    const wire: SimPeer.Wire = {
      downloader,
      fibers: yield* FiberSet.make(),
      maxHashFetch,
      sent: options.track ? (hashes) => void sent.push(hashes) : () => {}
    }
    return {
      wire,
      add: (spec) => {
        const peer = SimPeer.make(spec, wire)
        const { id, head, version } = peer.handle
        return downloader.registerPeer(peer.handle).pipe(
          Effect.andThen(registry.join({ id, version, head, td: spec.td ?? 0n }, (reason) => registry.leave(id, reason))),
          Effect.as(peer)
        )
      },
      takeSent: () => {
        const batches = sent
        sent = []
        return batches
      }
    }
  })
