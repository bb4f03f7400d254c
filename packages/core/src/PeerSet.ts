/**
 * The peers a sync may download from, each with an idle flag, a capacity (blocks per request)
 * and a reputation. Plain synchronous state owned by the downloader.
 *
 * @since 0.1.0
 */
import type * as Hash from "./Hash.ts"
import type { PeerHandle } from "./PeerHandle.ts"
import { DuplicatePeer, UnknownPeer } from "./SyncError.ts"

/** One peer's download state. */
export class Peer {
  /** The transport's handle: identity and the two requests. */
  readonly handle: PeerHandle
  /** Whether the peer may be given a block request. */
  idle = true
  /** Blocks per request, within 1..maxBlockFetch. */
  capacity = 1
  /** Promoted by good deliveries, halved by bad ones; the best are served first. */
  reputation = 0
  /** Hash keys this peer failed to deliver; it is not asked for them again this sync. */
  readonly ignored = new Set<string>()
  /** When the current block request was sent (Clock millis), to adapt the capacity. */
  started = 0

  constructor(handle: PeerHandle) {
    this.handle = handle
  }

  /** The peer's id. */
  get id(): string {
    return this.handle.id
  }

  /** The head hash the peer advertised. */
  get head(): Hash.Hash {
    return this.handle.head
  }

  /** Marks the peer busy with a request sent at `now`. */
  fetching(now: number): void {
    this.idle = false
    this.started = now
  }

  /**
   * Makes the peer idle again and adapts its capacity to how long its request took: within
   * `softTTL` doubles it, slower halves it, slower than `hardTTL` resets it to 1; landing on 1
   * also demotes the peer.
   */
  setIdle(now: number, softTTL: number, hardTTL: number, maxCapacity: number): void {
    const elapsed = now - this.started
    const next = elapsed > hardTTL ? 1 : elapsed > softTTL ? Math.floor(this.capacity / 2) : this.capacity * 2
    this.capacity = Math.max(1, Math.min(maxCapacity, next))
    if (this.capacity === 1) this.demote()
    this.idle = true
  }

  /** A good delivery: reputation + 1. */
  promote(): void {
    this.reputation++
  }

  /** A bad delivery: reputation halved. */
  demote(): void {
    this.reputation = Math.floor(this.reputation / 2)
  }

  /** Back to a new peer's state for a new sync: idle, capacity 1, nothing ignored. */
  reset(): void {
    this.idle = true
    this.capacity = 1
    this.ignored.clear()
  }
}

/** The registered peers. */
export class PeerSet {
  /** Peers by id, in registration order. */
  #peers = new Map<string, Peer>()

  /** Adds a peer; a DuplicatePeer error if its id is taken. */
  register(handle: PeerHandle): Peer | DuplicatePeer {
    if (this.#peers.has(handle.id)) return new DuplicatePeer({ peer: handle.id })
    const peer = new Peer(handle)
    this.#peers.set(handle.id, peer)
    return peer
  }

  /** Removes a peer; an UnknownPeer error if there is none by that id. */
  unregister(id: string): Peer | UnknownPeer {
    const peer = this.#peers.get(id)
    if (!peer) return new UnknownPeer({ peer: id })
    this.#peers.delete(id)
    return peer
  }

  /** A peer by id. */
  get(id: string): Peer | undefined {
    return this.#peers.get(id)
  }

  /** How many peers there are. */
  get size(): number {
    return this.#peers.size
  }

  /** Every peer, in registration order. */
  all(): Array<Peer> {
    return [...this.#peers.values()]
  }

  /** Idle peers, best reputation first (ties in registration order). */
  idle(): Array<Peer> {
    return this.all().filter((p) => p.idle).sort((a, b) => b.reputation - a.reputation)
  }

  /** Resets every peer for a new sync. */
  reset(): void {
    for (const peer of this.#peers.values()) peer.reset()
  }
}
