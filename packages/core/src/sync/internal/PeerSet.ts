/**
 * The peers a sync may download from, each with an idle flag, a capacity (blocks per request)
 * sized from its measured throughput, and a reputation. Plain synchronous state: the downloader's
 * registry creates a Peer when a peer registers (what was measured of it outlives syncs), and only
 * the running sync's fiber writes it, through its own PeerSet view.
 *
 * @since 0.1.0
 */
import type * as Hash from "../../chain/Hash.ts"
import type { PeerHandle } from "../PeerHandle.ts"

/** What the capacity estimate needs to know: the configuration, in milliseconds. */
export interface Tuning {
  /** Upper bound of the capacity (blocks per request). */
  readonly maxBlockFetch: number
  /** A request slower than this leaves the peer with capacity 1. */
  readonly hardTTL: number
  /** How long a request should take: the capacity is the throughput times this. */
  readonly targetRoundTrip: number
}

/** Weight of the newest measurement in the smoothed throughput and round trip. */
const smoothing = 0.3

/** One peer's download state. */
export class Peer {
  /** The transport's handle: identity and the two requests. */
  readonly handle: PeerHandle
  /** Whether the peer may be given a block request. */
  idle = true
  /** Blocks per request, within 1..maxBlockFetch; the most until the peer has been measured. */
  capacity: number
  /** Promoted by good deliveries, halved by bad ones; the best are served first. */
  reputation = 0
  /** Hash keys this peer failed to deliver, oldest first; it is not asked for them again this sync. At most the cache limit (the queue trims it). */
  readonly ignored = new Set<string>()
  /** When the current block request was sent (Clock millis), to measure it. */
  started = 0
  /** Smoothed blocks per second of its replies; undefined until one arrived. */
  throughput: number | undefined
  /** Smoothed milliseconds its replies with blocks took; undefined until one arrived. */
  roundTrip: number | undefined
  /** Replies it sent this sync that nobody asked for; too many and it is dropped. */
  unrequested = 0

  constructor(handle: PeerHandle, maxBlockFetch: number) {
    this.handle = handle
    this.capacity = maxBlockFetch
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
   * Makes the peer idle again after a reply of `delivered` blocks, and sizes its next request from
   * its measured speed: smoothed throughput times the target round trip, within 1..maxBlockFetch.
   * A reply slower than hardTTL leaves capacity 1; landing on 1 also demotes the peer.
   */
  setIdle(now: number, delivered: number, tuning: Tuning): void {
    const elapsed = Math.max(1, now - this.started)
    const rate = (delivered * 1000) / elapsed
    this.throughput = this.throughput === undefined ? rate : this.throughput + smoothing * (rate - this.throughput)
    // Only replies that brought blocks say how long serving takes: an empty one is quick to send.
    if (delivered > 0) {
      this.roundTrip = this.roundTrip === undefined ? elapsed : this.roundTrip + smoothing * (elapsed - this.roundTrip)
    }
    const estimate = Math.floor((this.throughput * tuning.targetRoundTrip) / 1000)
    this.capacity = elapsed > tuning.hardTTL ? 1 : Math.max(1, Math.min(tuning.maxBlockFetch, estimate))
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

  /** Ready for a new sync: idle, nothing ignored, no unrequested replies; what was measured of its speed is kept. */
  reset(): void {
    this.idle = true
    this.ignored.clear()
    this.unrequested = 0
  }
}

/** A sync's view of the registered peers: those it may download from, as it learnt of them. */
export class PeerSet {
  /** Peers by id, in registration order. */
  #peers = new Map<string, Peer>()

  /** Adds a peer (registered with the downloader); replaces one of the same id. */
  add(peer: Peer): void {
    this.#peers.set(peer.id, peer)
  }

  /** Removes a peer if present; whether it was. */
  remove(id: string): boolean {
    return this.#peers.delete(id)
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

  /** The shortest smoothed round trip among the peers that delivered blocks, or undefined when none did. */
  bestRoundTrip(): number | undefined {
    let best: number | undefined
    for (const peer of this.#peers.values()) {
      if (peer.roundTrip !== undefined && (best === undefined || peer.roundTrip < best)) best = peer.roundTrip
    }
    return best
  }
}
