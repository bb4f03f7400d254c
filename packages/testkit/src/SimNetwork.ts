/**
 * The in-memory transport between a downloader and its simulated peers: it builds and registers
 * peers, runs their answers on fibers owned by its scope, and remembers every hash handed to the
 * downloader so a test can check that none stays queued once a sync is over.
 *
 * @since 0.1.0
 */
import type { Downloader, Hash, SyncError } from "@ethsync/core"
import { Effect, FiberSet, type Scope } from "effect"
import * as ScriptedPeer from "./ScriptedPeer.ts"
import * as SimPeer from "./SimPeer.ts"

/** A transport with its peers. */
export interface SimNetwork {
  /** Builds the peer of `spec` and registers it with the downloader. */
  readonly add: (spec: SimPeer.Spec) => Effect.Effect<SimPeer.SimPeer, SyncError.BannedHead | SyncError.DuplicatePeer>
  /** Builds a scripted peer advertising `head` and registers it. */
  readonly addScripted: (
    id: string,
    head: Hash.Hash
  ) => Effect.Effect<ScriptedPeer.ScriptedPeer, SyncError.BannedHead | SyncError.DuplicatePeer>
  /** The hashes delivered to the downloader since the last call, in batches. */
  readonly takeSent: () => ReadonlyArray<ReadonlyArray<Hash.Hash>>
}

/** A transport to `downloader`; answers still in flight are interrupted when the scope closes. */
export const make = (downloader: Downloader.Shape, maxHashFetch: number): Effect.Effect<SimNetwork, never, Scope.Scope> =>
  Effect.gen(function*() {
    /** Hash batches delivered since the last `takeSent`. */
    let sent: Array<ReadonlyArray<Hash.Hash>> = []
    const wire: SimPeer.Wire = {
      downloader,
      fibers: yield* FiberSet.make(),
      maxHashFetch,
      sent: (hashes) => void sent.push(hashes)
    }
    return {
      add: (spec) => {
        const peer = SimPeer.make(spec, wire)
        return Effect.as(downloader.registerPeer(peer.handle), peer)
      },
      addScripted: (id, head) => {
        const peer = ScriptedPeer.make(id, head, wire)
        return Effect.as(downloader.registerPeer(peer.handle), peer)
      },
      takeSent: () => {
        const batches = sent
        sent = []
        return batches
      }
    }
  })
