import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import * as Block from "../../src/chain/Block.ts"
import { DownloadQueue, type Delivery, type QueuePeer, type Request } from "../../src/sync/internal/DownloadQueue.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Header from "../../src/chain/Header.ts"

// ---------------------------------------------------------------------------------------------
// Local helpers: small valid-looking blocks (core tests cannot import the testkit's generator).
// ---------------------------------------------------------------------------------------------

/** A header of `number` on top of `parentHash`; `salt` tells siblings apart. All fields have their wire sizes. */
const header = (number: number, parentHash: Hash.Hash, salt: number): Header.Header =>
  Header.make({
    parentHash,
    uncleHash: Hash.emptyUnclesHash,
    coinbase: new Uint8Array(20).fill(0xcb),
    stateRoot: Hash.keccak(Uint8Array.of(number & 0xff, salt)),
    transactionsRoot: Hash.emptyTrieRoot,
    receiptsRoot: Hash.emptyTrieRoot,
    logsBloom: new Uint8Array(256),
    difficulty: 131_072n,
    number,
    gasLimit: 5_000n,
    gasUsed: 0n,
    timestamp: 1_438_269_973n + BigInt(number) * 15n,
    extraData: Uint8Array.of(salt),
    mixHash: Hash.zero,
    nonce: new Uint8Array(8)
  })

/** Blocks numbered 1..n, each linked to the previous one (block 1 to the zero hash). */
const makeChain = (n: number, salt = 0): Array<Block.Block> => {
  const out: Array<Block.Block> = []
  let parent = Hash.zero
  for (let number = 1; number <= n; number++) {
    const block = Block.make(header(number, parent, salt), [], [])
    out.push(block)
    parent = block.hash
  }
  return out
}

/** Hashes of `blocks` newest first, the order in which the hash phase receives them. */
const newestFirst = (blocks: ReadonlyArray<Block.Block>): Array<Hash.Hash> => blocks.map((b) => b.hash).reverse()

/** A queue peer with an empty ignored set. */
const peer = (id: string): QueuePeer => ({ id, ignored: new Set<string>() })

/** Block numbers of a list of blocks or cached blocks. */
const numbers = (blocks: ReadonlyArray<Block.Block | { readonly block: Block.Block }>): Array<number> =>
  blocks.map((b) => ("block" in b ? b.block.number : b.number))

/** The requested block numbers of a request, ascending. */
const requested = (request: Request | undefined, byKey: ReadonlyMap<string, Block.Block>): Array<number> => {
  if (request === undefined) throw new Error("expected a request, got none")
  return [...request.hashes.keys()].map((k) => byKey.get(k)!.number).sort((a, b) => a - b)
}

/** The reservation, which must exist. */
const mustReserve = (queue: DownloadQueue, p: QueuePeer, max: number, now = 0): Request => {
  const request = queue.reserve(p, max, now)
  if (request === undefined) throw new Error(`expected a reservation for ${p.id}, got none`)
  return request
}

const chain = makeChain(64)
const byKey: ReadonlyMap<string, Block.Block> = new Map(chain.map((b) => [Hash.key(b.hash), b]))
/** Block `n` of the shared chain (1-based). */
const blk = (n: number): Block.Block => chain[n - 1]!

/** A queue of `limit` slots holding blocks 1..n, offset 1, as after a finished hash phase; `slots` requests per peer. */
const queued = (n: number, limit: number, slots = 1): DownloadQueue => {
  const queue = new DownloadQueue(limit, slots)
  queue.insert(newestFirst(chain.slice(0, n)), "source")
  queue.prepare(1)
  return queue
}

// The helper itself: the blocks must be distinct, numbered and linked, or every test below is void.
describe("test chain helper", () => {
  it("makes distinct blocks numbered 1..n, each linked to its parent", () => {
    const c = makeChain(5)
    expect(numbers(c)).toEqual([1, 2, 3, 4, 5])
    for (let i = 1; i < c.length; i++) expect(Hash.equals(c[i]!.header.parentHash, c[i - 1]!.hash)).toBe(true)
    expect(new Set(c.map((b) => Hash.toHex(b.hash))).size).toBe(5)
    expect(Hash.toHex(makeChain(1, 1)[0]!.hash)).not.toBe(Hash.toHex(c[0]!.hash))
  })
})

// insert: hashes are queued once, and the order of arrival (newest first) becomes the order of
// download (oldest first), so the importer is fed from the bottom of the chain.
describe("DownloadQueue.insert", () => {
  it("queues new hashes and returns exactly them, in arrival order", () => {
    const queue = new DownloadQueue(16, 1)
    const hashes = newestFirst(chain.slice(0, 3))
    const inserted = queue.insert(hashes, "source")
    expect(inserted.map(Hash.toHex)).toEqual(hashes.map(Hash.toHex))
    expect(queue.pending).toBe(3)
    for (const h of hashes) expect(queue.has(h)).toBe(true)
    expect(queue.has(blk(4).hash)).toBe(false)
    expect(queue.inFlight).toBe(0)
    expect(queue.cached).toBe(0)
  })

  it("skips hashes already queued, also within one batch, and returns only the new ones", () => {
    const queue = new DownloadQueue(16, 1)
    queue.insert([blk(3).hash, blk(2).hash], "source")
    const inserted = queue.insert([blk(4).hash, blk(3).hash, blk(2).hash, blk(1).hash, blk(1).hash], "source")
    expect(inserted.map(Hash.toHex)).toEqual([blk(4).hash, blk(1).hash].map(Hash.toHex))
    expect(queue.pending).toBe(4)
    expect(queue.insert([blk(2).hash], "source")).toEqual([])
    expect(queue.pending).toBe(4)
  })

  it("does not queue a hash again while it is reserved", () => {
    const queue = queued(2, 16)
    mustReserve(queue, peer("a"), 2)
    expect(queue.insert([blk(2).hash, blk(1).hash], "source")).toEqual([])
    expect(queue.pending).toBe(0)
  })

  it("does not queue a hash again whose block is downloaded and waiting (has() is true for it)", () => {
    const queue = queued(2, 16)
    const a = peer("a")
    mustReserve(queue, a, 1)
    expect(queue.deliver(a, [blk(1)])._tag).toBe("Accepted")
    expect(queue.has(blk(1).hash)).toBe(true)
    // Queuing it again would download it twice and count it both as pending and as cached.
    expect(queue.insert([blk(1).hash], "source")).toEqual([])
    expect(queue.pending).toBe(1)
  })

  it("gives later inserts higher priority: the lowest block number is reserved first", () => {
    const queue = new DownloadQueue(16, 1)
    queue.insert([blk(6).hash, blk(5).hash], "source")
    queue.insert([blk(4).hash, blk(3).hash], "source")
    queue.insert([blk(2).hash, blk(1).hash], "source")
    const order: Array<number> = []
    for (let i = 0; i < 6; i++) {
      const p = peer(`p${i}`)
      order.push(...requested(mustReserve(queue, p, 1), byKey))
    }
    expect(order).toEqual([1, 2, 3, 4, 5, 6])
  })
})

// reserve: who gets which hashes. Highest priority first, one request per peer, never a hash the
// peer failed on, never more than the cache can take.
describe("DownloadQueue.reserve", () => {
  it("hands out the highest-priority hashes, up to max, and counts them in flight", () => {
    const queue = queued(10, 16)
    const request = mustReserve(queue, peer("a"), 4, 1234)
    expect(requested(request, byKey)).toEqual([1, 2, 3, 4])
    expect(request.peer.id).toBe("a")
    expect(request.time).toBe(1234)
    expect(queue.pending).toBe(6)
    expect(queue.inFlight).toBe(1)
    expect(queue.isFetching("a")).toBe(true)
    expect(queue.space).toBe(12)
    expect(requested(mustReserve(queue, peer("b"), 3), byKey)).toEqual([5, 6, 7])
    expect(queue.inFlight).toBe(2)
    expect(queue.space).toBe(9)
  })

  it("keeps reserved hashes known to has()", () => {
    const queue = queued(3, 16)
    mustReserve(queue, peer("a"), 3)
    for (let n = 1; n <= 3; n++) expect(queue.has(blk(n).hash)).toBe(true)
  })

  it("hands out fewer than max when fewer are pending", () => {
    const queue = queued(2, 16)
    expect(requested(mustReserve(queue, peer("a"), 10), byKey)).toEqual([1, 2])
    expect(queue.pending).toBe(0)
  })

  it("gives nothing when nothing is pending", () => {
    const queue = new DownloadQueue(16, 1)
    expect(queue.reserve(peer("a"), 4, 0)).toBeUndefined()
    expect(queue.inFlight).toBe(0)
  })

  it("allows one open request per peer: a second reservation gives nothing and takes nothing", () => {
    const queue = queued(10, 16)
    const a = peer("a")
    const first = mustReserve(queue, a, 2)
    expect(queue.reserve(a, 2, 5)).toBeUndefined()
    expect(queue.pending).toBe(8)
    expect(queue.inFlight).toBe(1)
    expect(requested(first, byKey)).toEqual([1, 2])
  })

  it("skips the hashes the peer failed to deliver and leaves them pending for other peers", () => {
    const queue = queued(6, 16)
    const a = peer("a")
    a.ignored.add(Hash.key(blk(1).hash))
    a.ignored.add(Hash.key(blk(3).hash))
    expect(requested(mustReserve(queue, a, 3), byKey)).toEqual([2, 4, 5])
    expect(queue.pending).toBe(3)
    expect(requested(mustReserve(queue, peer("b"), 3), byKey)).toEqual([1, 3, 6])
  })

  it("gives nothing to a peer that failed on every pending hash, and leaves them all pending", () => {
    const queue = queued(3, 16)
    const a = peer("a")
    for (let n = 1; n <= 3; n++) a.ignored.add(Hash.key(blk(n).hash))
    expect(queue.reserve(a, 3, 0)).toBeUndefined()
    expect(queue.isFetching("a")).toBe(false)
    expect(queue.pending).toBe(3)
    expect(requested(mustReserve(queue, peer("b"), 3), byKey)).toEqual([1, 2, 3])
  })

  it("is limited by free cache space: the limit minus cached blocks minus blocks in flight", () => {
    const queue = queued(12, 8)
    const a = peer("a")
    mustReserve(queue, a, 3)
    expect(queue.deliver(a, [blk(1), blk(2), blk(3)])._tag).toBe("Accepted")
    expect(queue.cached).toBe(3)
    mustReserve(queue, peer("b"), 2)
    expect(queue.space).toBe(3)
    expect(queue.throttle()).toBe(false)
    // Asks for 10, gets the 3 free slots.
    expect(requested(mustReserve(queue, peer("c"), 10), byKey)).toEqual([6, 7, 8])
    expect(queue.space).toBe(0)
    expect(queue.throttle()).toBe(true)
    expect(queue.reserve(peer("d"), 10, 0)).toBeUndefined()
    expect(queue.pending).toBe(4)
  })

  it("counts the peer's skipped hashes against the space, so a reservation never reaches past the cache window", () => {
    // Window: blocks 1..4. Peer a failed on 1 and 2; if it were handed 3, 4 and 5, block 5 would
    // fall outside the window and an honest delivery would be refused as an invalid chain.
    const queue = queued(8, 4)
    const a = peer("a")
    a.ignored.add(Hash.key(blk(1).hash))
    a.ignored.add(Hash.key(blk(2).hash))
    const request = mustReserve(queue, a, 3)
    expect(requested(request, byKey)).toEqual([3, 4])
    expect(queue.deliver(a, [blk(3), blk(4)])).toEqual({ _tag: "Accepted", stored: 2 })
  })

  it("throttle() is false with space left and true when the cache is full", () => {
    const queue = queued(4, 2)
    expect(queue.throttle()).toBe(false)
    mustReserve(queue, peer("a"), 1)
    expect(queue.throttle()).toBe(false)
    mustReserve(queue, peer("b"), 1)
    expect(queue.throttle()).toBe(true)
  })
})

// deliver: replies are matched to the peer's open request; good blocks go to the slot of their
// number, everything undelivered goes back, and each kind of misbehaviour is told apart.
describe("DownloadQueue.deliver", () => {
  it("stores requested blocks in the slot of their number relative to the offset (Accepted)", () => {
    const queue = new DownloadQueue(8, 1)
    queue.insert(newestFirst(chain.slice(9, 14)), "source") // blocks 10..14
    queue.prepare(10)
    const a = peer("a")
    mustReserve(queue, a, 5)
    // Out of order in the reply, in order in the cache.
    const result = queue.deliver(a, [blk(12), blk(10), blk(14), blk(11), blk(13)])
    expect(result).toEqual({ _tag: "Accepted", stored: 5 })
    expect(queue.cached).toBe(5)
    expect(queue.inFlight).toBe(0)
    expect(queue.isFetching("a")).toBe(false)
    const taken = queue.takeBlocks()
    expect(numbers(taken)).toEqual([10, 11, 12, 13, 14])
    expect(taken.every((c) => c.origin === "a")).toBe(true)
  })

  it("keeps a delivered block known to has() until it is taken", () => {
    const queue = queued(1, 4)
    const a = peer("a")
    mustReserve(queue, a, 1)
    queue.deliver(a, [blk(1)])
    expect(queue.has(blk(1).hash)).toBe(true)
    queue.takeBlocks()
    expect(queue.has(blk(1).hash)).toBe(false)
  })

  it("tags each cached block with the peer that delivered it", () => {
    const queue = queued(2, 4)
    const a = peer("a")
    const b = peer("b")
    mustReserve(queue, a, 1)
    mustReserve(queue, b, 1)
    queue.deliver(b, [blk(2)])
    queue.deliver(a, [blk(1)])
    expect(queue.takeBlocks().map((c) => [c.block.number, c.origin])).toEqual([[1, "a"], [2, "b"]])
  })

  it("returns requested but undelivered hashes to the queue with their priority", () => {
    const queue = queued(6, 16)
    const a = peer("a")
    mustReserve(queue, a, 4) // 1..4
    expect(queue.deliver(a, [blk(2), blk(4)])).toEqual({ _tag: "Accepted", stored: 2 })
    expect(queue.pending).toBe(4)
    expect(queue.cached).toBe(2)
    expect(queue.has(blk(1).hash)).toBe(true)
    // 1 and 3 come before 5 and 6 again.
    expect(requested(mustReserve(queue, peer("b"), 3), byKey)).toEqual([1, 3, 5])
  })

  it("on an empty reply puts every requested hash into the peer's ignored set and back in the queue", () => {
    const queue = queued(4, 16)
    const a = peer("a")
    mustReserve(queue, a, 2) // 1, 2
    const result = queue.deliver(a, [])
    expect(result).toEqual({ _tag: "Accepted", stored: 0 })
    expect([...a.ignored].sort()).toEqual([Hash.key(blk(1).hash), Hash.key(blk(2).hash)].sort())
    expect(queue.pending).toBe(4)
    expect(queue.inFlight).toBe(0)
    // The peer is not asked for them again; another peer is.
    expect(requested(mustReserve(queue, a, 4), byKey)).toEqual([3, 4])
    expect(requested(mustReserve(queue, peer("b"), 4), byKey)).toEqual([1, 2])
  })

  it("does not mark hashes ignored on a non-empty partial reply", () => {
    const queue = queued(3, 16)
    const a = peer("a")
    mustReserve(queue, a, 3)
    queue.deliver(a, [blk(1)])
    expect(a.ignored.size).toBe(0)
  })

  it("reports a reply of only unrequested blocks as Stale and keeps the request open for the real answer", () => {
    const queue = queued(6, 16)
    const a = peer("a")
    mustReserve(queue, a, 2) // 1, 2
    expect(queue.deliver(a, [blk(5), blk(6)])).toEqual({ _tag: "Stale" })
    expect(queue.cached).toBe(0)
    expect(queue.pending).toBe(4)
    expect(queue.inFlight).toBe(1)
    expect(a.ignored.size).toBe(0)
    // The real answer, arriving later, is still matched to the request.
    expect(queue.deliver(a, [blk(1), blk(2)])).toEqual({ _tag: "Accepted", stored: 2 })
    expect(queue.inFlight).toBe(0)
  })

  it("reports a reply with some unrequested blocks as Partial and stores the requested ones", () => {
    const queue = queued(6, 16)
    const a = peer("a")
    mustReserve(queue, a, 3) // 1..3
    expect(queue.deliver(a, [blk(1), blk(6), blk(2), blk(40)])).toEqual({ _tag: "Partial", stored: 2, unrequested: 2 })
    expect(queue.cached).toBe(2)
    expect(queue.pending).toBe(4) // 3 back, 4..6 untouched
    expect(numbers(queue.takeBlocks())).toEqual([1, 2])
  })

  it("answers NoFetchesPending to a peer without an open request and changes nothing", () => {
    const queue = queued(3, 16)
    const a = peer("a")
    const result: Delivery = queue.deliver(a, [blk(1)])
    expect(result).toEqual({ _tag: "NoFetchesPending" })
    expect(queue.cached).toBe(0)
    expect(queue.pending).toBe(3)
    // Another peer's request does not count as this one's.
    mustReserve(queue, peer("b"), 1)
    expect(queue.deliver(a, [blk(1)])).toEqual({ _tag: "NoFetchesPending" })
    expect(queue.isFetching("b")).toBe(true)
  })

  it("answers NoFetchesPending to a second delivery for the same request", () => {
    const queue = queued(2, 16)
    const a = peer("a")
    mustReserve(queue, a, 2)
    queue.deliver(a, [blk(1)])
    expect(queue.deliver(a, [blk(2)])).toEqual({ _tag: "NoFetchesPending" })
    expect(queue.cached).toBe(1)
  })

  it("reports InvalidChain for a requested block numbered at or past offset + cacheLimit", () => {
    // Hashes of blocks 1..6 but the window is 1..4: the hash chain does not fit.
    const queue = new DownloadQueue(4, 1)
    queue.insert([blk(5).hash, blk(6).hash], "source")
    queue.prepare(1)
    const a = peer("a")
    mustReserve(queue, a, 1) // 6, inserted last
    expect(queue.deliver(a, [blk(6)])).toEqual({ _tag: "InvalidChain", number: 6, source: "source" })
    const b = peer("b")
    mustReserve(queue, b, 1) // 5, the first slot past the window
    expect(queue.deliver(b, [blk(5)])).toEqual({ _tag: "InvalidChain", number: 5, source: "source" })
  })

  it("reports InvalidChain for a requested block numbered below the offset", () => {
    const queue = new DownloadQueue(4, 1)
    queue.insert([blk(3).hash], "source")
    queue.prepare(5)
    const a = peer("a")
    mustReserve(queue, a, 1)
    expect(queue.deliver(a, [blk(3)])).toEqual({ _tag: "InvalidChain", number: 3, source: "source" })
    expect(queue.cached).toBe(0)
  })

  it("accepts the last slot of the window, offset + cacheLimit - 1", () => {
    const queue = new DownloadQueue(4, 1)
    queue.insert([blk(4).hash], "source")
    queue.prepare(1)
    const a = peer("a")
    mustReserve(queue, a, 1)
    expect(queue.deliver(a, [blk(4)])).toEqual({ _tag: "Accepted", stored: 1 })
    expect(queue.takeBlocks()).toEqual([])
  })

  it("refuses a second block of the same number as an invalid chain, leaving no phantom in the cache count", () => {
    // Two queued hashes whose blocks both claim number 1 (a hash chain with a sibling in it).
    const sibling = makeChain(1, 7)[0]!
    const queue = new DownloadQueue(4, 1)
    queue.insert([blk(2).hash, sibling.hash, blk(1).hash], "source")
    queue.prepare(1)
    const a = peer("a")
    mustReserve(queue, a, 3)
    expect(queue.deliver(a, [blk(1), sibling, blk(2)])).toEqual({ _tag: "InvalidChain", number: 1, source: "source" })
    const taken = queue.takeBlocks()
    expect(numbers(taken)).toEqual([1])
    // Slot 1 held one block, and it is taken: nothing can be left waiting for import.
    expect(queue.cached).toBe(0)
    expect(queue.space).toBe(4)
  })
})

// expire and nextExpiry: requests that outlive the ttl give their hashes back and name their peers,
// and the queue says when to look next.
describe("DownloadQueue.expire", () => {
  it("expires only requests older than the ttl, returns their peers and requeues their hashes", () => {
    const queue = queued(6, 16)
    mustReserve(queue, peer("old"), 2, 1_000) // 1, 2
    mustReserve(queue, peer("new"), 2, 5_000) // 3, 4
    expect(queue.expire(9_999, 9_000)).toEqual([])
    expect(queue.expire(10_000, 9_000)).toEqual(["old"])
    expect(queue.inFlight).toBe(1)
    expect(queue.isFetching("old")).toBe(false)
    expect(queue.isFetching("new")).toBe(true)
    expect(queue.pending).toBe(4)
    expect(queue.space).toBe(14)
    expect(requested(mustReserve(queue, peer("c"), 2), byKey)).toEqual([1, 2])
  })

  it("reports every expired peer at once", () => {
    const queue = queued(6, 16)
    mustReserve(queue, peer("a"), 1, 0)
    mustReserve(queue, peer("b"), 1, 10)
    mustReserve(queue, peer("c"), 1, 20)
    expect(queue.expire(100, 50).sort()).toEqual(["a", "b", "c"])
    expect(queue.inFlight).toBe(0)
    expect(queue.pending).toBe(6)
  })

  it("turns a late answer to an expired request into NoFetchesPending", () => {
    const queue = queued(2, 16)
    const a = peer("a")
    mustReserve(queue, a, 2, 0)
    queue.expire(100, 50)
    expect(queue.deliver(a, [blk(1), blk(2)])).toEqual({ _tag: "NoFetchesPending" })
    expect(queue.cached).toBe(0)
  })

  it("nextExpiry is the oldest open request's time plus the ttl, undefined when none is open", () => {
    const queue = queued(6, 16)
    expect(queue.nextExpiry(50)).toBeUndefined()
    mustReserve(queue, peer("a"), 1, 300)
    mustReserve(queue, peer("b"), 1, 100)
    mustReserve(queue, peer("c"), 1, 200)
    expect(queue.nextExpiry(50)).toBe(150)
    queue.cancelPeer("b")
    expect(queue.nextExpiry(50)).toBe(250)
  })

  it("expires a request at exactly its nextExpiry, so waking up then never finds nothing to do", () => {
    const queue = queued(2, 16)
    mustReserve(queue, peer("a"), 1, 100)
    const at = queue.nextExpiry(50)!
    expect(queue.expire(at - 1, 50)).toEqual([])
    expect(queue.expire(at, 50)).toEqual(["a"])
    expect(queue.nextExpiry(50)).toBeUndefined()
  })
})

// cancel and cancelPeer: a request closed by the downloader (peer left, sync stopping) gives its
// hashes back exactly once.
describe("DownloadQueue.cancel", () => {
  it("cancel returns the request's hashes with their priority and closes it", () => {
    const queue = queued(4, 16)
    const request = mustReserve(queue, peer("a"), 2)
    queue.cancel(request)
    expect(queue.inFlight).toBe(0)
    expect(queue.pending).toBe(4)
    expect(queue.space).toBe(16)
    expect(requested(mustReserve(queue, peer("b"), 2), byKey)).toEqual([1, 2])
  })

  it("cancel of a request already closed by a delivery is a no-op (no hash is queued twice)", () => {
    const queue = queued(4, 16)
    const a = peer("a")
    const request = mustReserve(queue, a, 2)
    queue.deliver(a, [blk(1)])
    queue.cancel(request)
    expect(queue.pending).toBe(3)
    expect(queue.space).toBe(15)
  })

  it("cancel of an old request does not close the peer's newer one", () => {
    const queue = queued(4, 16)
    const a = peer("a")
    const old = mustReserve(queue, a, 1)
    queue.deliver(a, [])
    mustReserve(queue, a, 1)
    queue.cancel(old)
    expect(queue.isFetching("a")).toBe(true)
    expect(queue.pending).toBe(3)
  })

  it("cancelPeer closes that peer's request only, and ignores peers without one", () => {
    const queue = queued(4, 16)
    mustReserve(queue, peer("a"), 1)
    mustReserve(queue, peer("b"), 1)
    queue.cancelPeer("a")
    queue.cancelPeer("nobody")
    expect(queue.isFetching("a")).toBe(false)
    expect(queue.isFetching("b")).toBe(true)
    expect(queue.pending).toBe(3)
    expect(queue.inFlight).toBe(1)
  })
})

// takeBlocks: the importer gets exactly the contiguous run at the front of the window, and taking
// it moves the window and frees the space.
describe("DownloadQueue.takeBlocks", () => {
  /** A queue of `limit` slots with the given block numbers delivered by peer "a". */
  const withCached = (limit: number, ns: ReadonlyArray<number>, total = 12): DownloadQueue => {
    const queue = queued(total, limit)
    const a = peer("a")
    mustReserve(queue, a, Math.max(...ns))
    queue.deliver(a, ns.map(blk))
    return queue
  }

  it("takes nothing when slot 0 is empty", () => {
    const queue = withCached(8, [2, 3])
    expect(queue.takeBlocks()).toEqual([])
    expect(queue.cached).toBe(2)
  })

  it("takes the run from slot 0 up to the first gap, and leaves the rest", () => {
    const queue = withCached(8, [1, 2, 3, 5, 6])
    expect(numbers(queue.takeBlocks())).toEqual([1, 2, 3])
    expect(queue.cached).toBe(2)
    expect(queue.takeBlocks()).toEqual([])
  })

  it("advances the window: the next block lands in slot 0 and joins the run after it", () => {
    const queue = withCached(8, [1, 2, 3, 5, 6])
    queue.takeBlocks()
    const b = peer("b")
    mustReserve(queue, b, 1) // 4
    expect(queue.deliver(b, [blk(4)])).toEqual({ _tag: "Accepted", stored: 1 })
    expect(numbers(queue.takeBlocks())).toEqual([4, 5, 6])
    expect(queue.cached).toBe(0)
  })

  it("frees the space of the taken blocks", () => {
    const queue = withCached(4, [1, 2, 3, 4])
    expect(queue.throttle()).toBe(true)
    queue.takeBlocks()
    expect(queue.space).toBe(4)
    expect(queue.throttle()).toBe(false)
  })

  it("moves the window so blocks past the old end fit", () => {
    const queue = withCached(4, [1, 2, 3, 4], 8)
    expect(numbers(queue.takeBlocks())).toEqual([1, 2, 3, 4])
    const b = peer("b")
    expect(requested(mustReserve(queue, b, 4), byKey)).toEqual([5, 6, 7, 8])
    expect(queue.deliver(b, [blk(5), blk(6), blk(7), blk(8)])).toEqual({ _tag: "Accepted", stored: 4 })
    expect(numbers(queue.takeBlocks())).toEqual([5, 6, 7, 8])
  })

  it("refuses a block below the new offset as InvalidChain", () => {
    const queue = withCached(4, [1, 2])
    queue.takeBlocks()
    queue.insert([blk(1).hash], "source") // forgotten once taken, so it is queued as new
    const b = peer("b")
    mustReserve(queue, b, 1)
    expect(queue.deliver(b, [blk(1)])).toEqual({ _tag: "InvalidChain", number: 1, source: "source" })
  })

  it("takes a full window at once", () => {
    const queue = withCached(4, [1, 2, 3, 4])
    expect(numbers(queue.takeBlocks())).toEqual([1, 2, 3, 4])
  })

  it("counts the run as ready, and takes at most `max` of it, the rest staying ready at the front", () => {
    const queue = withCached(8, [1, 2, 3, 4, 5, 7])
    expect(queue.ready).toBe(5)
    expect(numbers(queue.takeBlocks(3))).toEqual([1, 2, 3])
    expect(queue.ready).toBe(2)
    expect(queue.cached).toBe(3)
    expect(numbers(queue.takeBlocks())).toEqual([4, 5])
    expect(queue.ready).toBe(0)
  })

  it("counts into the run the blocks waiting behind a gap once the gap is filled, whatever their order of arrival", () => {
    const queue = withCached(8, [3, 2, 5, 6, 1])
    expect(queue.ready).toBe(3)
    expect(numbers(queue.takeBlocks(2))).toEqual([1, 2])
    expect(queue.ready).toBe(1)
    const b = peer("b")
    mustReserve(queue, b, 1) // 4
    queue.deliver(b, [blk(4)])
    expect(queue.ready).toBe(4)
    expect(numbers(queue.takeBlocks())).toEqual([3, 4, 5, 6])
  })
})

// reset: a new sync starts from a blank queue; nothing of the previous one leaks into it.
describe("DownloadQueue.reset", () => {
  it("empties hashes, requests, cache and window", () => {
    const queue = queued(8, 4)
    const a = peer("a")
    mustReserve(queue, a, 2)
    queue.deliver(a, [blk(2)])
    mustReserve(queue, peer("b"), 2)
    queue.reset()
    expect(queue.pending).toBe(0)
    expect(queue.inFlight).toBe(0)
    expect(queue.cached).toBe(0)
    expect(queue.space).toBe(4)
    expect(queue.throttle()).toBe(false)
    expect(queue.isFetching("b")).toBe(false)
    expect(queue.nextExpiry(10)).toBeUndefined()
    expect(queue.takeBlocks()).toEqual([])
    for (let n = 1; n <= 8; n++) expect(queue.has(blk(n).hash)).toBe(false)
    expect(queue.reserve(peer("c"), 4, 0)).toBeUndefined()
    expect(queue.deliver(peer("b"), [blk(3)])).toEqual({ _tag: "NoFetchesPending" })
  })

  it("resets the window offset and the priorities: a new sync works from scratch", () => {
    const queue = withTaken()
    queue.reset()
    // Offset back to 0: prepare(1) puts block 1 in slot 0 again.
    expect(queue.insert([blk(2).hash, blk(1).hash], "source").length).toBe(2)
    queue.prepare(1)
    const a = peer("a")
    expect(requested(mustReserve(queue, a, 2), byKey)).toEqual([1, 2])
    queue.deliver(a, [blk(1), blk(2)])
    expect(numbers(queue.takeBlocks())).toEqual([1, 2])
  })

  /** A queue whose window has moved to block 5. */
  function withTaken(): DownloadQueue {
    const queue = queued(4, 4)
    const a = peer("a")
    mustReserve(queue, a, 4)
    queue.deliver(a, [blk(1), blk(2), blk(3), blk(4)])
    queue.takeBlocks()
    return queue
  }
})

// ---------------------------------------------------------------------------------------------
// Property: random schedules never lose or duplicate a hash, and never overfill the cache.
// ---------------------------------------------------------------------------------------------

type Op =
  | { readonly _tag: "insert"; readonly count: number; readonly dups: number }
  | { readonly _tag: "reserve"; readonly peer: number; readonly max: number }
  | { readonly _tag: "deliver"; readonly peer: number; readonly keep: ReadonlyArray<boolean>; readonly junk: boolean }
  | { readonly _tag: "expire"; readonly ttl: number }
  | { readonly _tag: "cancel"; readonly peer: number }
  | { readonly _tag: "take" }
  | { readonly _tag: "tick"; readonly ms: number }

const peers = 4

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ _tag: fc.constant("insert" as const), count: fc.integer({ min: 1, max: 8 }), dups: fc.integer({ min: 0, max: 3 }) }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("reserve" as const), peer: fc.nat(peers - 1), max: fc.integer({ min: 1, max: 6 }) }), weight: 4 },
  {
    arbitrary: fc.record({
      _tag: fc.constant("deliver" as const),
      peer: fc.nat(peers - 1),
      // Which requested blocks come back: all, none (an empty reply when no junk), or some.
      keep: fc.oneof(
        fc.constant([true]),
        { arbitrary: fc.constant([false]), weight: 2 },
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 })
      ),
      junk: fc.boolean()
    }),
    weight: 4
  },
  { arbitrary: fc.record({ _tag: fc.constant("expire" as const), ttl: fc.integer({ min: 1, max: 30 }) }), weight: 1 },
  { arbitrary: fc.record({ _tag: fc.constant("cancel" as const), peer: fc.nat(peers - 1) }), weight: 1 },
  { arbitrary: fc.constant({ _tag: "take" as const }), weight: 2 },
  { arbitrary: fc.record({ _tag: fc.constant("tick" as const), ms: fc.integer({ min: 1, max: 10 }) }), weight: 1 }
)

/** Where the model says a hash is. */
type Where = "pending" | "cached" | "taken" | { readonly peer: string }

/**
 * Runs `ops` against a queue and a model of where each hash is, checking after every step that the
 * queue agrees. `upfront` queues the whole chain newest-first before the first op (as the hash phase
 * does); otherwise insert ops queue it batch by batch, newest first, interleaved with the rest.
 * Returns whether the run ended on an InvalidChain (which ends a real sync).
 */
const runSchedule = (n: number, cacheLimit: number, ops: ReadonlyArray<Op>, upfront: boolean): boolean => {
  const blocks = chain.slice(0, n)
  const queue = new DownloadQueue(cacheLimit, 1)
  queue.prepare(1)
  const where = new Map<string, Where>()
  const qpeers = Array.from({ length: peers }, (_, i) => peer(`p${i}`))
  const requests = new Map<string, Request>()
  const takenOrder: Array<number> = []
  let offset = 1
  let now = 0
  let next = n // the next block to queue, counting down
  let counter = 0
  const priority = new Map<string, number>()

  const count = (w: "pending" | "cached") => [...where.values()].filter((x) => x === w).length
  const reservedBy = (id: string) => [...where.entries()].filter(([, w]) => typeof w === "object" && w.peer === id).map(([k]) => k)

  /** What the queue shows, next to what the model says it must show; compared cheaply, diffed on mismatch. */
  const check = () => {
    const reserved = [...where.values()].filter((w) => typeof w === "object").length
    const cached = count("cached")
    const observed = {
      pending: queue.pending,
      cached: queue.cached,
      inFlight: queue.inFlight,
      space: queue.space,
      throttle: queue.throttle(),
      fits: queue.cached + queue.space <= cacheLimit && queue.space + queue.cached + reserved === cacheLimit,
      fetching: qpeers.map((q) => queue.isFetching(q.id)),
      requests: qpeers.map((q) => [...(requests.get(q.id)?.hashes.keys() ?? [])].map((k) => byKey.get(k)!.number).sort((x, y) => x - y)),
      has: blocks.map((b) => queue.has(b.hash)),
    }
    const model = {
      pending: count("pending"),
      cached,
      inFlight: requests.size,
      space: cacheLimit - cached - reserved,
      throttle: cached + reserved >= cacheLimit,
      fits: cached + reserved <= cacheLimit,
      fetching: qpeers.map((q) => requests.has(q.id)),
      requests: qpeers.map((q) => reservedBy(q.id).map((k) => byKey.get(k)!.number).sort((x, y) => x - y)),
      has: blocks.map((b) => where.has(b.key) && where.get(b.key) !== "taken"),
    }
    if (JSON.stringify(observed) !== JSON.stringify(model)) expect(observed).toEqual(model)
  }

  const insert = (count: number, dups: number) => {
    const fresh = blocks.slice(Math.max(0, next - count), next).reverse() // newest first
    next = Math.max(0, next - count)
    const queuedNow = [...where.entries()].filter(([, w]) => w === "pending" || typeof w === "object").map(([k]) => k)
    const again = queuedNow.slice(0, dups).map(Hash.fromKey)
    const inserted = queue.insert([...again, ...fresh.map((b) => b.hash)], "source")
    expect(inserted.map(Hash.toHex)).toEqual(fresh.map((b) => Hash.toHex(b.hash)))
    for (const b of fresh) {
      where.set(b.key, "pending")
      priority.set(b.key, counter++)
    }
  }

  if (upfront) {
    while (next > 0) insert(1 + (next % 5), 0)
    check()
  }

  for (const op of ops) {
    switch (op._tag) {
      case "insert": {
        if (!upfront) insert(op.count, op.dups)
        else insert(0, op.dups)
        break
      }
      case "reserve": {
        const q = qpeers[op.peer]!
        const space = queue.space
        const request = queue.reserve(q, op.max, now)
        // The model's reservation: pop by priority while fewer than `space` are looked at and fewer
        // than `max` taken, skipping the peer's ignored hashes (they still use up the look-ahead).
        const expected: Array<string> = []
        if (!requests.has(q.id)) {
          const byPriority = [...where.entries()]
            .filter(([, w]) => w === "pending")
            .map(([k]) => k)
            .sort((a, b) => priority.get(b)! - priority.get(a)!)
          for (let seen = 0; seen < space && expected.length < op.max && seen < byPriority.length; seen++) {
            const k = byPriority[seen]!
            if (!q.ignored.has(k)) expected.push(k)
          }
        }
        if (expected.length === 0) {
          expect(request).toBeUndefined()
          break
        }
        if (request === undefined) throw new Error(`expected a reservation of ${expected.length} for ${q.id}`)
        expect([...request.hashes.keys()].sort()).toEqual([...expected].sort())
        expect(request.hashes.size).toBeLessThanOrEqual(Math.min(op.max, space))
        for (const k of request.hashes.keys()) {
          expect(where.get(k)).toBe("pending")
          // Queued in order, a reservation never reaches outside the cache window.
          if (upfront) expect(byKey.get(k)!.number - offset).toBeLessThan(cacheLimit)
          where.set(k, { peer: q.id })
        }
        requests.set(q.id, request)
        break
      }
      case "deliver": {
        const q = qpeers[op.peer]!
        const mine = reservedBy(q.id)
        const reply = mine.filter((_, i) => op.keep[i % op.keep.length]!).map((k) => byKey.get(k)!)
        const junk = op.junk ? [chain[n]!] : [] // a block of the chain that was never queued
        const result = queue.deliver(q, [...reply, ...junk])
        if (!requests.has(q.id)) {
          expect(result).toEqual({ _tag: "NoFetchesPending" })
          break
        }
        if (reply.length === 0 && junk.length > 0) {
          // Only unrequested blocks: the request stays open, nothing moves.
          expect(result).toEqual({ _tag: "Stale" })
          break
        }
        requests.delete(q.id)
        const outside = reply.find((b) => b.number < offset || b.number >= offset + cacheLimit)
        if (outside !== undefined) {
          // Only possible when hashes were queued out of block order; a real sync ends here.
          expect(upfront).toBe(false)
          expect(result).toEqual({ _tag: "InvalidChain", number: outside.number, source: "source" })
          return true
        }
        for (const b of reply) where.set(b.key, "cached")
        for (const k of mine) if (where.get(k) !== "cached") where.set(k, "pending")
        if (reply.length === 0 && junk.length === 0) for (const k of mine) expect(q.ignored.has(k)).toBe(true)
        const expected: Delivery = junk.length === 0
          ? { _tag: "Accepted", stored: reply.length }
          : { _tag: "Partial", stored: reply.length, unrequested: 1 }
        expect(result).toEqual(expected)
        break
      }
      case "expire": {
        const due = [...requests.values()].filter((r) => now - r.time >= op.ttl).map((r) => r.peer.id)
        const expired = queue.expire(now, op.ttl)
        expect([...expired].sort()).toEqual([...due].sort())
        for (const id of expired) {
          for (const k of reservedBy(id)) where.set(k, "pending")
          requests.delete(id)
        }
        break
      }
      case "cancel": {
        const id = qpeers[op.peer]!.id
        queue.cancelPeer(id)
        for (const k of reservedBy(id)) where.set(k, "pending")
        requests.delete(id)
        break
      }
      case "take": {
        const run: Array<number> = []
        const cachedNumbers = new Set([...where.entries()].filter(([, w]) => w === "cached").map(([k]) => byKey.get(k)!.number))
        while (cachedNumbers.has(offset + run.length)) run.push(offset + run.length)
        const taken = queue.takeBlocks()
        expect(numbers(taken)).toEqual(run)
        for (const c of taken) {
          expect(where.get(c.block.key)).toBe("cached")
          where.set(c.block.key, "taken")
        }
        takenOrder.push(...run)
        offset += run.length
        break
      }
      case "tick": {
        now += op.ms
        break
      }
    }
    check()
  }

  // Drain: every hash queued so far must come out of the queue exactly once, in block order.
  while (next > 0) insert(8, 0)
  check()
  for (let round = 0; round < 4 * n + 4; round++) {
    for (const id of queue.expire(Number.MAX_SAFE_INTEGER, 0)) {
      for (const k of reservedBy(id)) where.set(k, "pending")
      requests.delete(id)
    }
    const helper = peer(`drain${round}`)
    const request = queue.reserve(helper, cacheLimit, now)
    if (request !== undefined) {
      const blocksOut = [...request.hashes.keys()].map((k) => byKey.get(k)!)
      const result = queue.deliver(helper, blocksOut)
      if (result._tag === "InvalidChain") {
        expect(upfront).toBe(false)
        return true
      }
      expect(result).toEqual({ _tag: "Accepted", stored: blocksOut.length })
      for (const b of blocksOut) where.set(b.key, "cached")
    }
    const taken = queue.takeBlocks()
    for (const c of taken) where.set(c.block.key, "taken")
    takenOrder.push(...numbers(taken))
    offset += taken.length
    check()
    if (takenOrder.length === n) break
  }
  expect(takenOrder).toEqual(blocks.map((b) => b.number))
  expect(queue.pending + queue.cached + queue.inFlight).toBe(0)
  return false
}

// The queue's bookkeeping under any schedule: every queued hash is in exactly one place (pending,
// reserved by one request, cached, or taken), and the cache plus the requests never overflow it.
describe("DownloadQueue schedules (property)", () => {
  it("hashes queued newest-first before the block phase: nothing lost or duplicated, no InvalidChain, all taken in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 12 }),
        fc.array(opArb, { maxLength: 120 }),
        (n, cacheLimit, ops) => {
          expect(runSchedule(n, cacheLimit, ops, true)).toBe(false)
        }
      ),
      { numRuns: 500 }
    )
  })

  it("hashes queued batch by batch between block requests: nothing lost or duplicated until a real InvalidChain", () => {
    let completed = 0
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 48 }),
        fc.array(opArb, { maxLength: 120 }),
        (n, cacheLimit, ops) => {
          if (!runSchedule(n, cacheLimit, ops, false)) completed++
        }
      ),
      { numRuns: 500 }
    )
    // The window must be wide enough often enough for the property to mean something.
    expect(completed).toBeGreaterThan(50)
  })
})

// Blame: the queue remembers who sent each hash, so an error in the hash chain names that peer.
describe("DownloadQueue sources", () => {
  it("names the sender of the next hash to fetch, a returned one included", () => {
    const queue = new DownloadQueue(16, 1)
    expect(queue.pendingSource()).toBeUndefined()
    queue.insert(newestFirst(chain.slice(4, 8)), "later") // blocks 5..8
    queue.insert(newestFirst(chain.slice(0, 4)), "earlier") // blocks 1..4: inserted last, fetched first
    queue.prepare(1)
    expect(queue.pendingSource()).toBe("earlier")
    const a = peer("a")
    mustReserve(queue, a, 4) // 1..4
    expect(queue.pendingSource()).toBe("later")
    queue.cancelPeer("a") // 1..4 back, ahead of 5..8
    expect(queue.pendingSource()).toBe("earlier")
  })

  it("names the sender of the lowest downloaded block's hash as the one behind a gap", () => {
    const queue = new DownloadQueue(16, 1)
    queue.insert(newestFirst(chain.slice(4, 8)), "liar") // blocks 5..8
    queue.insert(newestFirst(chain.slice(0, 3)), "honest") // blocks 1..3: block 4 never queued
    queue.prepare(1)
    expect(queue.gapSource()).toBeUndefined()
    const a = peer("a")
    mustReserve(queue, a, 7)
    queue.deliver(a, [1, 2, 3, 5, 6, 7, 8].map(blk))
    expect(numbers(queue.takeBlocks())).toEqual([1, 2, 3])
    expect(queue.gapSource()).toBe("liar")
  })

  it("names the sender of a block's hash when the block has no place in the window", () => {
    const queue = new DownloadQueue(4, 1)
    queue.insert([blk(9).hash], "liar")
    queue.prepare(1)
    mustReserve(queue, peer("a"), 1)
    expect(queue.deliver(peer("a"), [blk(9)])).toMatchObject({ _tag: "InvalidChain", number: 9, source: "liar" })
  })
})

describe("DownloadQueue by height (eth/61)", () => {
  /** A queue of `limit` slots holding the hashes of blocks 1..n by height, offset 1, block 1's parent the zero hash. */
  const byHeight = (n: number, limit: number): DownloadQueue => {
    const queue = new DownloadQueue(limit, 1)
    queue.prepare(1)
    expect(queue.append(chain.slice(0, n).map((b) => b.hash), 1, Hash.zero, "source")).toBe(true)
    return queue
  }

  it("hands out the lowest heights first, whatever order the batches came in", () => {
    const queue = new DownloadQueue(16, 1)
    queue.prepare(1)
    queue.append([blk(1).hash, blk(2).hash], 1, Hash.zero, "source")
    queue.append([blk(3).hash, blk(4).hash], 3, blk(2).hash, "source")
    expect(requested(mustReserve(queue, peer("a"), 3), byKey)).toEqual([1, 2, 3])
    expect(queue.held).toBe(4)
  })

  it("refuses a batch holding a hash already queued, or one twice, and queues none of it", () => {
    const queue = byHeight(4, 16)
    expect(queue.append([blk(5).hash, blk(2).hash], 5, blk(4).hash, "source")).toBe(false)
    expect(queue.append([blk(5).hash, blk(5).hash], 5, blk(4).hash, "source")).toBe(false)
    expect(queue.held).toBe(4)
    expect(queue.has(blk(5).hash)).toBe(false)
  })

  it("stores blocks at the heights and under the parents their source gave", () => {
    const queue = byHeight(4, 16)
    const a = peer("a")
    mustReserve(queue, a, 4)
    expect(queue.deliver(a, [1, 2, 3, 4].map(blk))).toEqual({ _tag: "Accepted", stored: 4 })
    expect(numbers(queue.takeBlocks())).toEqual([1, 2, 3, 4])
  })

  it("reports WrongHashChain, naming the source, for a block whose parent is not the hash below it", () => {
    const queue = new DownloadQueue(16, 1)
    queue.prepare(1)
    queue.append([blk(1).hash, blk(2).hash], 1, Hash.zero, "source")
    // Block 4 given for height 3, on top of block 2: its parent is block 3.
    const other = makeChain(3, 7)[2]!
    queue.append([other.hash], 3, blk(2).hash, "liar")
    const a = peer("a")
    mustReserve(queue, a, 3)
    expect(queue.deliver(a, [blk(1), blk(2), other])).toMatchObject({ _tag: "WrongHashChain", source: "liar" })
  })

  it("reports WrongHashChain for a block that is not at the height its source gave", () => {
    const queue = new DownloadQueue(16, 1)
    queue.prepare(1)
    queue.append([blk(2).hash], 1, Hash.zero, "liar")
    const a = peer("a")
    mustReserve(queue, a, 1)
    expect(queue.deliver(a, [blk(2)])).toMatchObject({ _tag: "WrongHashChain", source: "liar" })
  })

  it("reports WrongHashChain when the source of hashes has no block for one of them; another peer's empty reply only ignores them", () => {
    const queue = byHeight(4, 16)
    const other = peer("other")
    mustReserve(queue, other, 2)
    expect(queue.deliver(other, [])).toEqual({ _tag: "Accepted", stored: 0 })
    expect(other.ignored.size).toBe(2)
    const source = peer("source")
    mustReserve(queue, source, 2)
    expect(queue.deliver(source, [])).toMatchObject({ _tag: "WrongHashChain", source: "source" })
  })
})

describe("a peer's ignored set", () => {
  it("keeps at most the cache limit of hashes, the newest: a peer failing forever does not grow it", () => {
    const queue = queued(64, 8)
    const a = peer("a")
    const b = peer("b")
    // Each round `a` fails on 4 hashes, `b` delivers them, and they are imported.
    for (let round = 0; round < 16; round++) {
      const failed = mustReserve(queue, a, 4)
      queue.deliver(a, [])
      for (const key of failed.hashes.keys()) expect(a.ignored.has(key)).toBe(true)
      expect(a.ignored.size).toBeLessThanOrEqual(8)
      const served = mustReserve(queue, b, 4)
      queue.deliver(b, [...served.hashes.keys()].map((key) => byKey.get(key)!))
      expect(queue.takeBlocks()).toHaveLength(4)
    }
    expect(a.ignored.size).toBe(8)
  })
})

// Two requests in flight per peer: the second keeps the peer serving while the first's reply is
// handled; each reply is matched to its own request, and each request expires on its own.
describe("DownloadQueue with two requests per peer", () => {
  it("hands a peer a second reservation while its first is open, and no third", () => {
    const queue = queued(20, 64, 2)
    const a = peer("a")
    const first = mustReserve(queue, a, 4, 0)
    const second = mustReserve(queue, a, 4, 10)
    expect(requested(first, byKey)).toEqual([1, 2, 3, 4])
    expect(requested(second, byKey)).toEqual([5, 6, 7, 8])
    expect(queue.reserve(a, 4, 20)).toBeUndefined()
    expect(queue.inFlight).toBe(2)
    expect(queue.pending).toBe(12)
    expect(queue.requestsOf("a")).toEqual([first, second])
  })

  it("matches a reply to the request it answers, by default the peer's oldest", () => {
    const queue = queued(20, 64, 2)
    const a = peer("a")
    const first = mustReserve(queue, a, 4, 0)
    const second = mustReserve(queue, a, 4, 10)
    expect(queue.deliver(a, [5, 6, 7, 8].map(blk), second)).toEqual({ _tag: "Accepted", stored: 4 })
    expect(queue.requestsOf("a")).toEqual([first])
    expect(queue.deliver(a, [1, 2, 3, 4].map(blk))).toEqual({ _tag: "Accepted", stored: 4 })
    expect(queue.inFlight).toBe(0)
    expect(numbers(queue.takeBlocks())).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it("expires the older of two requests on its own: only its hashes go back, the newer stays open", () => {
    const queue = queued(20, 64, 2)
    const a = peer("a")
    const first = mustReserve(queue, a, 4, 0)
    const second = mustReserve(queue, a, 4, 500)
    expect(queue.nextExpiry(1000)).toBe(1000)
    expect(queue.expire(1000, 1000)).toEqual(["a"])
    expect(queue.requestsOf("a")).toEqual([second])
    expect(queue.inFlight).toBe(1)
    expect(queue.pending).toBe(16)
    expect(queue.space).toBe(60)
    expect(queue.nextExpiry(1000)).toBe(1500)
    // The given-back hashes go to the next reservation, before any never handed out.
    expect(requested(mustReserve(queue, peer("b"), 4, 1000), byKey)).toEqual([1, 2, 3, 4])
    // The late answer to the expired request is not taken for the open one, which stays open.
    expect(queue.deliver(a, [1, 2, 3, 4].map(blk), first)).toEqual({ _tag: "NoFetchesPending" })
    expect(queue.deliver(a, [5, 6, 7, 8].map(blk), second)).toEqual({ _tag: "Accepted", stored: 4 })
  })

  it("gives back both requests of a peer that leaves", () => {
    const queue = queued(20, 64, 2)
    const a = peer("a")
    mustReserve(queue, a, 4, 0)
    mustReserve(queue, a, 4, 0)
    queue.cancelPeer("a")
    expect(queue.inFlight).toBe(0)
    expect(queue.isFetching("a")).toBe(false)
    expect(queue.pending).toBe(20)
    expect(queue.space).toBe(64)
  })
})
