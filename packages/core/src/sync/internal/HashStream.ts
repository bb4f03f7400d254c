/**
 * The eth/61 hash fetcher: the origin peer's hashes from the common ancestor up, batch after batch
 * by number, into the download queue while blocks are fetched beside it. It waits while the queue
 * holds maxQueuedHashes and goes on as blocks are imported; the first empty answer ends it, and is
 * StallingPeer when no hash came before from a peer that claims more total difficulty than our
 * head. Its own state is a few numbers and one hash, whatever the chain's length: every hash it
 * receives goes into the queue, which holds at most maxQueuedHashes.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import * as Hash from "../../chain/Hash.ts"
import { BadPeer, InvalidChain, StallingPeer, Timeout } from "../SyncError.ts"
import type { Ancestor } from "./AncestorSearch.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"

/** The fetcher of one sync; written only by the sync's fiber. */
export class HashStream {
  /** The peer the hashes come from. */
  readonly #peer: Peer
  /** Whether the peer claims more total difficulty than our head: an empty first answer is then a lie. */
  readonly #ahead: boolean
  /** Height of the next hash to ask for. */
  #next: number
  /** The hash of the height below `#next`: the parent the next batch's first block must name. */
  #last: Hash.Hash
  /** Hashes the open request asked for; 0 while none is open. */
  #asked = 0
  /** Whether any hash came: an empty answer after some ends the stream, as the peer's head was reached. */
  #received = false
  /** When the open request times out (Clock millis); Infinity while none is open. */
  deadline = Infinity
  /** Set by the first empty answer: no more hashes will come. */
  ended = false

  constructor(peer: Peer, ancestor: Ancestor, ahead: boolean) {
    this.#peer = peer
    this.#ahead = ahead
    this.#next = ancestor.number + 1
    this.#last = ancestor.hash
  }

  /**
   * Asks for the next batch unless one is open, the stream ended, or the queue lacks room for a
   * whole batch (the whole cap, when it is smaller than a batch): it is asked again at every turn
   * of the sync, so it goes on once imports have made room.
   */
  request(sync: Sync.Sync, now: number): void {
    if (this.ended || this.#asked > 0) return
    const { maxHashesFromNumber: batch, maxQueuedHashes: cap } = sync.config
    const room = cap - sync.queue.held
    if (room < Math.min(batch, cap)) return
    this.#asked = Math.min(batch, room)
    Sync.requestHashesFromNumber(sync, this.#peer, this.#next, this.#asked)
    this.deadline = now + sync.hashTTL
  }

  /** Fails with Timeout once the open request is past its deadline, or when the peer left before the stream ended. */
  check(sync: Sync.Sync, now: number): Effect.Effect<void, Timeout> {
    const left = !this.ended && sync.peers.get(this.#peer.id) === undefined
    return now >= this.deadline || left ? Effect.fail(new Timeout({ peer: this.#peer.id })) : Effect.void
  }

  /** Takes a hash answer: the open request's into the queue; any other is an earlier sync's (ignored) or nobody's. */
  receive(sync: Sync.Sync, event: Extract<Sync.Event, { _tag: "Hashes" }>): Effect.Effect<void, BadPeer | StallingPeer | InvalidChain> {
    if (event.asked !== undefined && event.asked !== sync.id) return Effect.void
    if (event.asked === undefined || event.peer !== this.#peer.id || this.#asked === 0) {
      return Effect.asVoid(Sync.unrequested(sync, event.peer))
    }
    return this.#take(sync, event.hashes)
  }

  /** Queues a batch answering the open request. */
  #take(sync: Sync.Sync, hashes: ReadonlyArray<Hash.Hash>): Effect.Effect<void, BadPeer | StallingPeer | InvalidChain> {
    const stream = this
    return Effect.gen(function*() {
      const asked = stream.#asked
      stream.#asked = 0
      stream.deadline = Infinity
      const peer = stream.#peer.id
      if (hashes.length === 0) {
        if (!stream.#received && stream.#ahead) return yield* new StallingPeer({ peer, hashes: 0 })
        stream.ended = true
        return
      }
      if (hashes.length > asked) return yield* new BadPeer({ peer })
      const banned = yield* sync.banList.firstBanned(hashes)
      if (banned >= 0) {
        return yield* new InvalidChain({ peer, reason: `peer ${peer} sent banned hash ${Hash.toHex(hashes[banned]!)}` })
      }
      // A hash the queue holds already, or one repeated: not a chain.
      if (!sync.queue.append(hashes, stream.#next, stream.#last, peer)) return yield* new BadPeer({ peer })
      stream.#received = true
      stream.#next += hashes.length
      stream.#last = hashes[hashes.length - 1]!
    })
  }
}
