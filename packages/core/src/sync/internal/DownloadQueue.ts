/**
 * The download scheduler: which hashes are still to fetch, which are reserved by which peer, and
 * which blocks have arrived and wait for import. Plain synchronous state, owned by one sync: every
 * method runs to completion between two effect steps, so no lock is needed.
 *
 * @since 0.1.0
 */
import type * as Block from "../../chain/Block.ts"
import * as Hash from "../../chain/Hash.ts"
import { MaxHeap } from "./MaxHeap.ts"

/** What the queue needs to know of a peer. */
export interface QueuePeer {
  /** The peer's id. */
  readonly id: string
  /** Hash keys this peer failed to deliver, oldest first; it is not asked for them again. The queue keeps at most cacheLimit. */
  readonly ignored: Set<string>
}

/**
 * A queued hash: its priority (the lower its block's number, the higher: insertion order for
 * eth/60's newest-first hashes, minus the height for eth/61's) and state.
 */
interface Entry {
  /** The hash. */
  readonly hash: Hash.Hash
  /** Its map key. */
  readonly key: string
  /** Its priority. */
  readonly priority: number
  /** The number of its downloaded block, -1 until it arrives. */
  number: number
  /** The height its source gave it (eth/61), which its block must have; -1 when not given (eth/60). */
  readonly height: number
  /** The hash its source gave for the height below (eth/61), which its block must name as parent. */
  readonly parent: Hash.Hash | undefined
  /** Id of the peer that sent the hash: blamed if the hash chain proves wrong here. */
  readonly source: string
}

/** A block request handed to one peer. */
export interface Request {
  /** The peer it went to. */
  readonly peer: QueuePeer
  /** The requested hashes by key, still undelivered. */
  readonly hashes: Map<string, Entry>
  /** When it was made (Clock millis), for expiry. */
  readonly time: number
}

/** A downloaded block waiting for import, tagged with the peer that delivered it. */
export interface Cached {
  /** The block. */
  readonly block: Block.Block
  /** Id of the peer that delivered it, dropped if the block proves bad. */
  readonly origin: string
}

/** The outcome of a delivery, as the downloader acts on it. */
export type Delivery =
  /** Every block was requested and stored; `stored` counts them. */
  | { readonly _tag: "Accepted"; readonly stored: number }
  /** The peer had no open request. */
  | { readonly _tag: "NoFetchesPending" }
  /** Every block was unrequested (a late answer to an expired request, or junk); the open request stays open. */
  | { readonly _tag: "Stale" }
  /** Some blocks were unrequested; the requested ones were stored. */
  | { readonly _tag: "Partial"; readonly stored: number; readonly unrequested: number }
  /** A requested block's number lies outside the cache window, or its slot is taken: the hash chain is wrong. */
  | { readonly _tag: "InvalidChain"; readonly number: number; readonly source: string }
  /**
   * What the source of eth/61 hashes said of them proved wrong: a requested block is at another
   * height or on another parent than it gave, or the source itself has no block for its hash.
   */
  | { readonly _tag: "WrongHashChain"; readonly source: string; readonly reason: string }

/** Why `block` is not where the hash chain put its hash (`entry`). */
const misplaced = (entry: Entry, block: Block.Block): string =>
  block.number !== entry.height
    ? `block ${Hash.toHex(block.hash)} is number ${block.number}, the hash chain put it at ${entry.height}`
    : `block ${block.number} names parent ${Hash.toHex(block.header.parentHash)}, the hash chain has ${Hash.toHex(entry.parent!)} below it`

/**
 * Adds `keys` to a peer's ignored set, forgetting the oldest past `cap`. Requests are taken from
 * the front of the queue, within the cache limit of the import point, so the newest cacheLimit
 * keys are all a request can meet; a key forgotten only lets the peer be asked for it once more.
 */
const ignore = (ignored: Set<string>, keys: Iterable<string>, cap: number): void => {
  for (const key of keys) ignored.add(key)
  for (const key of ignored) {
    if (ignored.size <= cap) return
    ignored.delete(key)
  }
}

/** The scheduler. */
export class DownloadQueue {
  /** Most blocks held at once, downloaded or in flight. */
  readonly cacheLimit: number
  /** Most block requests open with one peer at once: the wire answers them in order, so a second keeps the peer busy while the first's reply is handled. */
  readonly requestsPerPeer: number
  /**
   * Every hash queued and not yet taken for import (pending, reserved or downloaded), by key. Bound:
   * for eth/61 the sync's maxQueuedHashes; for eth/60 none, the seed's algorithm queues the whole
   * hash chain by design.
   */
  #entries = new Map<string, Entry>()
  /** Pending eth/60 hashes never handed out, in insertion order, so the highest priority is last; within #entries. */
  #fresh: Array<Entry> = []
  /**
   * Pending hashes given back by requests (undelivered, expired, canceled), and eth/61's queued by
   * height, highest priority first; within #entries.
   */
  #ordered = new MaxHeap<Entry>()
  /** Priority of the next inserted hash. */
  #counter = 0
  /** Open block requests by peer id, oldest first: at most requestsPerPeer per peer, each of at most maxBlockFetch hashes. */
  #pendPool = new Map<string, Array<Request>>()
  /** Open block requests of all peers. */
  #open = 0
  /** Hashes reserved in all open requests. */
  #reserved = 0
  /** Downloaded blocks waiting for import. */
  #cached = 0
  /** The cache window: slot i holds block number `#offset + i`; cacheLimit slots. */
  #cache: Array<Cached | undefined>
  /** Number of the block in cache slot 0. */
  #offset = 0
  /** The length of the contiguous run of downloaded blocks from slot 0 (what {@link ready} says), kept as blocks come and go. */
  #run = 0

  constructor(cacheLimit: number, requestsPerPeer: number) {
    this.cacheLimit = cacheLimit
    this.requestsPerPeer = requestsPerPeer
    this.#cache = new Array(cacheLimit)
  }

  /** Queues hashes sent by `source` (in arrival order, newest block first); returns those not already queued. */
  insert(hashes: ReadonlyArray<Hash.Hash>, source: string): Array<Hash.Hash> {
    const inserted: Array<Hash.Hash> = []
    for (const hash of hashes) {
      const key = Hash.key(hash)
      if (this.#entries.has(key)) continue
      const entry: Entry = { hash, key, priority: this.#counter++, number: -1, height: -1, parent: undefined, source }
      this.#entries.set(key, entry)
      this.#fresh.push(entry)
      inserted.push(hash)
    }
    return inserted
  }

  /**
   * Queues the hashes `source` gave for heights `first` .. (eth/61, ascending), `parent` being its
   * hash for the height below the first. Queues nothing and returns false when one of them is
   * queued already or repeated: a hash chain does not hold a hash twice.
   */
  append(hashes: ReadonlyArray<Hash.Hash>, first: number, parent: Hash.Hash, source: string): boolean {
    const keys = hashes.map(Hash.key)
    if (new Set(keys).size !== keys.length || keys.some((key) => this.#entries.has(key))) return false
    let below = parent
    hashes.forEach((hash, i) => {
      const height = first + i
      const entry: Entry = { hash, key: keys[i]!, priority: -height, number: -1, height, parent: below, source }
      this.#entries.set(entry.key, entry)
      this.#ordered.push(entry, entry.priority)
      below = hash
    })
    return true
  }

  /** Whether a hash is queued, or its block downloaded and waiting. */
  has(hash: Hash.Hash): boolean {
    return this.#entries.has(Hash.key(hash))
  }

  /** Hashes whose blocks have not arrived: waiting to be requested, or requested. */
  get queued(): number {
    return this.#entries.size - this.#cached
  }

  /** Hashes held: those queued and those whose blocks wait for import; what eth/61's cap counts. */
  get held(): number {
    return this.#entries.size
  }

  /** Hashes waiting to be requested. */
  get pending(): number {
    return this.#fresh.length + this.#ordered.size
  }

  /** Open block requests. */
  get inFlight(): number {
    return this.#open
  }

  /** Downloaded blocks waiting for import. */
  get cached(): number {
    return this.#cached
  }

  /** Whether `peer` has an open request. */
  isFetching(peer: string): boolean {
    return this.#pendPool.has(peer)
  }

  /** `peer`'s open requests, oldest first (a copy). */
  requestsOf(peer: string): Array<Request> {
    return [...this.#pendPool.get(peer) ?? []]
  }

  /** Free cache slots: the limit minus blocks held and blocks in flight. */
  get space(): number {
    return this.cacheLimit - this.#cached - this.#reserved
  }

  /** Whether the cache is full: nothing more may be requested until blocks are imported. */
  throttle(): boolean {
    return this.space <= 0
  }

  /** Removes and returns the pending entry of highest priority; call only when one is pending. */
  #popHighest(): Entry {
    const fresh = this.#fresh
    const ordered = this.#ordered.peekPriority()
    if (ordered === undefined || (fresh.length > 0 && fresh[fresh.length - 1]!.priority > ordered)) return fresh.pop()!
    return this.#ordered.pop()
  }

  /** Makes an entry pending again, at its own priority. */
  #giveBack(entry: Entry): void {
    this.#ordered.push(entry, entry.priority)
  }

  /**
   * Reserves up to `max` of the highest-priority pending hashes for `peer`, skipping those it
   * failed to deliver before, within the free cache space. At most requestsPerPeer open requests per peer.
   */
  reserve(peer: QueuePeer, max: number, now: number): Request | undefined {
    const open = this.#pendPool.get(peer.id) ?? []
    if (this.pending === 0 || open.length >= this.requestsPerPeer) return undefined
    const space = this.space
    const send = new Map<string, Entry>()
    const skipped: Array<Entry> = []
    for (let seen = 0; seen < space && send.size < max && this.pending > 0; seen++) {
      const entry = this.#popHighest()
      if (peer.ignored.has(entry.key)) skipped.push(entry)
      else send.set(entry.key, entry)
    }
    for (const entry of skipped) this.#giveBack(entry)
    if (send.size === 0) return undefined
    const request = { peer, hashes: send, time: now }
    this.#pendPool.set(peer.id, [...open, request])
    this.#open++
    this.#reserved += send.size
    return request
  }

  /** Takes an open request out of the pool and its hashes out of the reserved count, leaving them to the caller; false when it is not open. */
  #close(request: Request): boolean {
    const open = this.#pendPool.get(request.peer.id)
    const index = open?.indexOf(request) ?? -1
    if (index < 0) return false
    open!.splice(index, 1)
    if (open!.length === 0) this.#pendPool.delete(request.peer.id)
    this.#open--
    this.#reserved -= request.hashes.size
    return true
  }

  /** Returns a request's undelivered hashes to the queue and closes it. */
  cancel(request: Request): void {
    if (this.#close(request)) for (const entry of request.hashes.values()) this.#giveBack(entry)
  }

  /** Closes `peer`'s open requests, if any, returning their hashes to the queue. */
  cancelPeer(peer: string): void {
    for (const request of this.requestsOf(peer)) this.cancel(request)
  }

  /** Expires requests made before `now - ttl`: hashes go back; returns the peer of each (a peer once per request). */
  expire(now: number, ttl: number): Array<string> {
    const expired: Array<string> = []
    for (const open of [...this.#pendPool.values()]) {
      for (const request of [...open]) {
        if (now - request.time >= ttl) {
          this.cancel(request)
          expired.push(request.peer.id)
        }
      }
    }
    return expired
  }

  /** When the oldest open request expires (Clock millis), or undefined when none is open. */
  nextExpiry(ttl: number): number | undefined {
    let oldest: number | undefined
    for (const open of this.#pendPool.values()) {
      for (const request of open) if (oldest === undefined || request.time < oldest) oldest = request.time
    }
    return oldest === undefined ? undefined : oldest + ttl
  }

  /**
   * Matches blocks to the request of `peer` they answer (by default its oldest open one).
   * Requested blocks go to the cache slot of their number; requested hashes not delivered return
   * to the queue; an empty reply marks all the requested hashes as ignored for this peer.
   */
  deliver(peer: QueuePeer, blocks: ReadonlyArray<Block.Block>, answers = this.#pendPool.get(peer.id)?.[0]): Delivery {
    const request = answers && this.#pendPool.get(peer.id)?.includes(answers) ? answers : undefined
    if (!request) return { _tag: "NoFetchesPending" }
    // Nothing requested in a non-empty reply: the real answer may still come, so the request stays open.
    if (blocks.length > 0 && !blocks.some((block) => request.hashes.has(block.key))) return { _tag: "Stale" }
    this.#close(request)
    if (blocks.length === 0) {
      // A peer that gave us a hash by number has its block: with none, it made the hash up.
      for (const entry of request.hashes.values()) {
        if (entry.height >= 0 && entry.source === peer.id) {
          const reason = `peer ${peer.id} has no block for ${Hash.toHex(entry.hash)}, which it gave for height ${entry.height}`
          return { _tag: "WrongHashChain", source: peer.id, reason }
        }
      }
      ignore(peer.ignored, request.hashes.keys(), this.cacheLimit)
    }
    let unrequested = 0
    let stored = 0
    for (const block of blocks) {
      const entry = request.hashes.get(block.key)
      if (!entry || entry.number >= 0) {
        unrequested++
        continue
      }
      if (entry.height >= 0 && (block.number !== entry.height || !Hash.equals(block.header.parentHash, entry.parent!))) {
        return { _tag: "WrongHashChain", source: entry.source, reason: misplaced(entry, block) }
      }
      const index = block.number - this.#offset
      // Outside the window, or a second block of one number: the hash chain is not a chain.
      if (index < 0 || index >= this.cacheLimit || this.#cache[index] !== undefined) {
        return { _tag: "InvalidChain", number: block.number, source: entry.source }
      }
      this.#cache[index] = { block, origin: peer.id }
      // The block that closes the gap after the run lengthens it by itself and any stored behind it.
      if (index === this.#run) while (this.#run < this.cacheLimit && this.#cache[this.#run] !== undefined) this.#run++
      entry.number = block.number
      this.#cached++
      stored++
    }
    for (const entry of request.hashes.values()) if (entry.number < 0) this.#giveBack(entry)
    return unrequested === 0 ? { _tag: "Accepted", stored } : { _tag: "Partial", stored, unrequested }
  }

  /** Sets the number of the first block expected (the common ancestor's + 1). */
  prepare(offset: number): void {
    if (this.#offset < offset) this.#offset = offset
  }

  /** Who sent the hash of the next block to fetch (the pending one of highest priority), if any is pending. */
  pendingSource(): string | undefined {
    const fresh = this.#fresh[this.#fresh.length - 1]
    const ordered = this.#ordered.peek()
    return ordered === undefined || (fresh !== undefined && fresh.priority > ordered.priority) ? fresh?.source : ordered.source
  }

  /** Who sent the hash of the lowest downloaded block: blamed when blocks wait behind a gap nothing will fill. */
  gapSource(): string | undefined {
    for (const cached of this.#cache) {
      if (cached) return this.#entries.get(cached.block.key)?.source
    }
    return undefined
  }

  /** Blocks ready for import: the length of the contiguous run of downloaded blocks at the front of the cache. */
  get ready(): number {
    return this.#run
  }

  /** Takes the contiguous run of downloaded blocks at the front of the cache, at most `max` of them, advancing the window. */
  takeBlocks(max = this.cacheLimit): Array<Cached> {
    const n = Math.min(this.ready, max)
    if (n === 0) return []
    const taken = this.#cache.splice(0, n) as Array<Cached>
    this.#cache.length = this.cacheLimit
    for (const { block } of taken) this.#entries.delete(block.key)
    this.#cached -= n
    this.#offset += n
    // The run ended at the first empty slot, which is now n slots nearer the front.
    this.#run -= n
    return taken
  }

  /** Forgets everything: hashes, requests, cached blocks, the window. */
  reset(): void {
    this.#entries.clear()
    this.#fresh = []
    this.#ordered.clear()
    this.#counter = 0
    this.#pendPool.clear()
    this.#open = 0
    this.#reserved = 0
    this.#cached = 0
    this.#cache = new Array(this.cacheLimit)
    this.#offset = 0
    this.#run = 0
  }
}
