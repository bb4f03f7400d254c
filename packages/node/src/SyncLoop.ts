/**
 * The node's sync loop around the downloader, as geth's eth/sync.go runs it: pick the connected
 * peer that advertises the highest total difficulty and, if it claims more than our head,
 * synchronise with it; the downloader drops it if the sync's error is its fault. Again and again,
 * until the chain's head is the block we want or no peer is left to try.
 *
 * @since 0.1.0
 */
import { type ChainStore, type Downloader, Hash, type Network, type SyncError } from "@ethsync/core"
import { Data, Effect } from "effect"

/** No connected peer advertises more than our head, or every one that does failed to move it. */
export class NoPeerLeft extends Data.TaggedError("NoPeerLeft")<{
  /** The number of the chain's head when the loop gave up. */
  readonly head: number
  /** The number of the block the loop was to reach. */
  readonly goal: number
}> {
  override get message() {
    return `no peer left to sync from: the chain's head is block ${this.head}, short of block ${this.goal}`
  }
}

/** The block the loop syncs to. */
export interface Goal {
  /** Its number. */
  readonly number: number
  /** Its hash: the loop is done when the chain's head has it. */
  readonly hash: Hash.Hash
}

/** One sync the loop ran. */
export interface Attempt {
  /** The peer synchronised with. */
  readonly peer: string
  /** The error that ended it, if any. */
  readonly error: SyncError.SyncError | undefined
  /** Whether the peer was dropped by the end of it. */
  readonly dropped: boolean
  /** The number of the chain's head after it. */
  readonly head: number
}

/** What the loop works with. */
export interface Options {
  /** The downloader. */
  readonly downloader: Downloader.Shape
  /** The chain it imports into. */
  readonly store: ChainStore.ChainStore["Service"]
  /** The connected peers; the downloader disconnects through it. */
  readonly network: Network.Shape
  /** Where to stop. */
  readonly goal: Goal
  /** Told of every sync as it ends. */
  readonly onAttempt: (attempt: Attempt) => Effect.Effect<void>
}

/**
 * Syncs until the chain's head is the goal; returns the syncs it ran. A peer whose sync ends
 * without moving the head, and that was not dropped, is passed over until the head moves, so a
 * peer that keeps failing cannot hold the loop. Fails with NoPeerLeft when no peer is left to
 * try, and with the StoreError of a sync that the chain store ended.
 */
export const run = Effect.fnUntraced(function*(options: Options) {
  const { downloader, store, network, goal } = options
  /** The syncs run so far. */
  const attempts: Array<Attempt> = []
  /** Peers that failed to move the head since it last moved. */
  const passedOver = new Set<string>()
  while (true) {
    const head = yield* store.head
    if (Hash.equals(head.block.hash, goal.hash)) return attempts
    // A dropped peer may still be connected while its connection closes (over RLPx): never again.
    const dropped = new Set((yield* network.drops).map((drop) => drop.peer))
    const candidates = (yield* network.peers).filter((peer) =>
      peer.td > head.td && !passedOver.has(peer.id) && !dropped.has(peer.id)
    )
    const best = candidates.reduce<Network.Connected | undefined>((a, b) => a === undefined || b.td > a.td ? b : a, undefined)
    if (best === undefined) return yield* new NoPeerLeft({ head: head.block.number, goal: goal.number })
    const error = yield* downloader.synchroniseOrDrop(best.id, best.head)
    if (error?._tag === "StoreError") return yield* error
    const after = yield* store.head
    const gone = (yield* network.drops).some((drop) => drop.peer === best.id) ||
      !(yield* network.peers).some((peer) => peer.id === best.id)
    if (after.td > head.td) passedOver.clear()
    else if (!gone) passedOver.add(best.id)
    const attempt: Attempt = { peer: best.id, error, dropped: gone, head: after.block.number }
    attempts.push(attempt)
    yield* options.onAttempt(attempt)
  }
})
