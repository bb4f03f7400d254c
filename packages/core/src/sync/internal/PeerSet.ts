/**
 * The peers a sync may download from, each with its block requests out, a capacity (blocks per request)
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
  /**
   * When each of its block requests not yet answered was sent (Clock millis), oldest first: the
   * wire answers in order, so a reply answers the first. An expired request stays until its late
   * answer comes, so the peer is not asked more than it is working on.
   */
  #sent: Array<number> = []
  /** When its last reply arrived (Clock millis): a request sent behind another starts to be served only then. */
  #answered = 0
  /** Blocks per request, within 1..maxBlockFetch; the most until the peer has been measured. */
  capacity: number
  /** Promoted by good deliveries, halved by bad ones; the best are served first. */
  reputation = 0
  /** Hash keys this peer failed to deliver, oldest first; it is not asked for them again this sync. At most the cache limit (the queue trims it). */
  readonly ignored = new Set<string>()
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

  /** Block requests sent to it and not yet answered. */
  get open(): number {
    return this.#sent.length
  }

  /** Counts a block request sent at `now`. */
  fetching(now: number): void {
    this.#sent.push(now)
  }

  /**
   * Counts the reply of `delivered` blocks to its oldest request, and sizes its next request from
   * its measured speed: smoothed throughput times the target round trip, within 1..maxBlockFetch.
   * The reply is timed from its sending or, if it was sent behind another, from that one's reply.
   * A reply slower than hardTTL leaves capacity 1; landing on 1 also demotes the peer. Returns the
   * time it measured (millis).
   */
  setIdle(now: number, delivered: number, tuning: Tuning): number {
    const sent = this.#sent.shift() ?? now
    const elapsed = Math.max(1, now - Math.max(sent, this.#answered))
    this.#answered = now
    const rate = (delivered * 1000) / elapsed
    this.throughput = this.throughput === undefined ? rate : this.throughput + smoothing * (rate - this.throughput)
    // Only replies that brought blocks say how long serving takes: an empty one is quick to send.
    if (delivered > 0) {
      this.roundTrip = this.roundTrip === undefined ? elapsed : this.roundTrip + smoothing * (elapsed - this.roundTrip)
    }
    const estimate = Math.floor((this.throughput * tuning.targetRoundTrip) / 1000)
    this.capacity = elapsed > tuning.hardTTL ? 1 : Math.max(1, Math.min(tuning.maxBlockFetch, estimate))
    if (this.capacity === 1) this.demote()
    return elapsed
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
    this.#sent = []
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

  /**
   * Peers with fewer than `slots` block requests out, those with fewest first, then best reputation
   * first (ties in registration order).
   */
  available(slots: number): Array<Peer> {
    return this.all().filter((p) => p.open < slots).sort((a, b) => a.open - b.open || b.reputation - a.reputation)
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
