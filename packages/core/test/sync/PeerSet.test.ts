import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { DownloadQueue } from "../../src/sync/internal/DownloadQueue.ts"
import * as Hash from "../../src/chain/Hash.ts"
import type { PeerHandle } from "../../src/sync/PeerHandle.ts"
import { Peer, PeerSet, type Tuning } from "../../src/sync/internal/PeerSet.ts"

/** A transport handle whose requests go nowhere; `head` is a distinct hash per id. */
const handle = (id: string): PeerHandle => ({
  id,
  head: Hash.keccak(new TextEncoder().encode(id)),
  version: 60,
  requestHashes: () => Effect.void,
  requestHashesFromNumber: () => Effect.void,
  requestBlocks: () => Effect.void
})

/** Adds a new peer to the set. */
const add = (set: PeerSet, id: string): Peer => {
  const peer = new Peer(handle(id), maxCap)
  set.add(peer)
  return peer
}

/** Capacity bound and timings: hardTTL 9 s, requests sized to take 1 s. */
const maxCap = 128
const tuning: Tuning = { maxBlockFetch: maxCap, hardTTL: 9000, targetRoundTrip: 1000 }

/** A new, empty PeerSet. */
const newSet = () => new PeerSet()

/** A peer with the given capacity and reputation, busy since t = 100. */
const busy = (capacity: number, reputation = 0): Peer => {
  const peer = new Peer(handle("p"), maxCap)
  peer.capacity = capacity
  peer.reputation = reputation
  peer.fetching(100)
  return peer
}

const ids = (peers: ReadonlyArray<Peer>): Array<string> => peers.map((p) => p.id)

// add/remove: a sync's view of the registered peers, in registration order.
describe("PeerSet.add / remove", () => {
  it("a new peer is idle, unmeasured with the most capacity, reputation 0 and nothing ignored", () => {
    const set = newSet()
    const peer = add(set, "a")
    expect(peer.id).toBe("a")
    expect(Hash.toHex(peer.head)).toBe(Hash.toHex(handle("a").head))
    expect(peer.open).toBe(0)
    expect(peer.capacity).toBe(maxCap)
    expect(peer.throughput).toBeUndefined()
    expect(peer.roundTrip).toBeUndefined()
    expect(peer.reputation).toBe(0)
    expect(peer.ignored.size).toBe(0)
    expect(set.get("a")).toBe(peer)
    expect(set.size).toBe(1)
  })

  it("removes a peer, saying whether it was there", () => {
    const set = newSet()
    add(set, "a")
    add(set, "b")
    expect(set.remove("a")).toBe(true)
    expect(set.remove("a")).toBe(false)
    expect(set.remove("x")).toBe(false)
    expect(set.get("a")).toBeUndefined()
    expect(ids(set.all())).toEqual(["b"])
  })

  it("lists all peers in the order they were added", () => {
    const set = newSet()
    for (const id of ["c", "a", "b"]) add(set, id)
    expect(ids(set.all())).toEqual(["c", "a", "b"])
  })
})

// setIdle: the capacity is the smoothed throughput times the target round trip, within 1..max;
// a reply slower than hardTTL leaves 1, and a peer pushed down to 1 loses reputation.
describe("Peer.setIdle", () => {
  it("fetching marks the peer busy and remembers when", () => {
    const peer = new Peer(handle("p"), maxCap)
    peer.fetching(42)
    expect(peer.open).toBe(1)
    expect(peer.setIdle(1042, 10, tuning)).toBe(1000)
  })

  it("sizes the next request from the first reply's throughput", () => {
    const peer = busy(maxCap)
    peer.setIdle(1100, 10, tuning) // 10 blocks in 1 s: 10 blocks/s, times a 1 s target
    expect(peer.throughput).toBe(10)
    expect(peer.roundTrip).toBe(1000)
    expect(peer.capacity).toBe(10)
    expect(peer.open).toBe(0)
  })

  it("times a reply to a request sent behind another from the reply before it, not from its sending", () => {
    const peer = new Peer(handle("p"), maxCap)
    peer.fetching(0)
    peer.fetching(0)
    expect(peer.open).toBe(2)
    expect(peer.setIdle(100, 10, tuning)).toBe(100)
    // Sent at 0, but served only once the first reply went out at 100.
    expect(peer.setIdle(150, 10, tuning)).toBe(50)
    expect(peer.open).toBe(0)
    // A request sent after the last reply is timed from its sending.
    peer.fetching(400)
    expect(peer.setIdle(460, 10, tuning)).toBe(60)
  })

  it("smooths throughput and round trip over replies", () => {
    const peer = busy(maxCap)
    peer.setIdle(1100, 10, tuning)
    peer.fetching(2000)
    peer.setIdle(2500, 15, tuning) // 30 blocks/s in 500 ms: 10 + 0.3 x 20 = 16; 1000 + 0.3 x -500 = 850
    expect(peer.throughput).toBeCloseTo(16)
    expect(peer.roundTrip).toBeCloseTo(850)
    expect(peer.capacity).toBe(16)
  })

  it("never goes above maxBlockFetch", () => {
    const peer = busy(maxCap)
    peer.setIdle(150, 128, tuning) // 2,560 blocks/s
    expect(peer.capacity).toBe(maxCap)
  })

  it("leaves capacity 1 and demotes a peer slower than hardTTL, whatever it delivered", () => {
    const late = busy(64, 9)
    late.setIdle(100 + tuning.hardTTL + 1, 128, tuning)
    expect(late.capacity).toBe(1)
    expect(late.reputation).toBe(4)
  })

  it("lets an empty reply pull the estimate down to 1, demoting the peer", () => {
    const peer = busy(maxCap, 6)
    peer.setIdle(1100, 0, tuning)
    expect(peer.throughput).toBe(0)
    expect(peer.capacity).toBe(1)
    expect(peer.reputation).toBe(3)
  })

  it("does not demote a peer whose capacity stays above 1", () => {
    const peer = busy(maxCap, 6)
    peer.setIdle(200, 50, tuning)
    expect(peer.capacity).toBe(maxCap)
    expect(peer.reputation).toBe(6)
  })

  it("keeps the capacity within 1..max and equal to the estimate for any history (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 256 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 12_000 }), fc.integer({ min: 0, max: 256 })), { maxLength: 40 }),
        (max, replies) => {
          const peer = new Peer(handle("p"), max)
          const t: Tuning = { ...tuning, maxBlockFetch: max }
          let now = 0
          for (const [duration, delivered] of replies) {
            peer.fetching(now)
            now += duration
            peer.setIdle(now, delivered, t)
            const estimate = Math.max(1, Math.min(max, Math.floor(peer.throughput! * t.targetRoundTrip / 1000)))
            expect(peer.capacity).toBe(Math.max(1, duration) > t.hardTTL ? 1 : estimate)
            expect(peer.capacity).toBeGreaterThanOrEqual(1)
            expect(peer.capacity).toBeLessThanOrEqual(max)
          }
        }
      ),
      { numRuns: 200 }
    )
  })
})

// bestRoundTrip: the yardstick slow peers are measured against.
describe("PeerSet.bestRoundTrip", () => {
  it("is undefined until a peer was measured, then the shortest smoothed round trip", () => {
    const set = newSet()
    const a = add(set, "a")
    const b = add(set, "b")
    expect(set.bestRoundTrip()).toBeUndefined()
    a.fetching(0)
    a.setIdle(500, 10, tuning)
    b.fetching(0)
    b.setIdle(50, 10, tuning)
    expect(set.bestRoundTrip()).toBe(50)
  })
})

// Reputation: good deliveries add one, bad ones halve it, so one failure outweighs many successes.
describe("Peer.promote / demote", () => {
  it("promote adds 1", () => {
    const peer = new Peer(handle("p"), maxCap)
    peer.promote()
    peer.promote()
    peer.promote()
    expect(peer.reputation).toBe(3)
  })

  it("demote halves, rounding down, and stops at 0", () => {
    const peer = new Peer(handle("p"), maxCap)
    peer.reputation = 11
    peer.demote()
    expect(peer.reputation).toBe(5)
    peer.demote()
    expect(peer.reputation).toBe(2)
    peer.demote()
    expect(peer.reputation).toBe(1)
    peer.demote()
    expect(peer.reputation).toBe(0)
    peer.demote()
    expect(peer.reputation).toBe(0)
  })

  it("neither changes the capacity or the requests out", () => {
    const peer = busy(8, 4)
    peer.promote()
    peer.demote()
    expect(peer.capacity).toBe(8)
    expect(peer.open).toBe(1)
  })
})

// available(slots): who is served next: peers with a free request slot, fewest requests out first,
// then best reputation first, ties by registration order. With one slot: the idle peers.
describe("PeerSet.available", () => {
  it("with two slots lists a peer with one request out after every idle peer, and not one with two", () => {
    const set = newSet()
    const a = add(set, "a")
    const b = add(set, "b")
    const c = add(set, "c")
    a.reputation = 5
    a.fetching(0)
    b.fetching(0)
    b.fetching(0)
    c.reputation = 1
    expect(ids(set.available(2))).toEqual(["c", "a"])
    expect(ids(set.available(1))).toEqual(["c"])
    b.setIdle(10, 1, tuning)
    expect(ids(set.available(2))).toEqual(["c", "a", "b"])
  })

  it("lists only idle peers", () => {
    const set = newSet()
    const a = add(set, "a")
    add(set, "b")
    const c = add(set, "c")
    a.fetching(0)
    c.fetching(0)
    expect(ids(set.available(1))).toEqual(["b"])
    c.setIdle(1, 1, tuning)
    expect(ids(set.available(1))).toEqual(["b", "c"])
  })

  it("orders best reputation first", () => {
    const set = newSet()
    const reps: ReadonlyArray<readonly [string, number]> = [["a", 1], ["b", 5], ["c", 0], ["d", 3]]
    for (const [id, r] of reps) add(set, id).reputation = r
    expect(ids(set.available(1))).toEqual(["b", "d", "a", "c"])
  })

  it("breaks ties in registration order", () => {
    const set = newSet()
    // Ids in neither alphabetical order, so only registration order explains the result.
    const reps: ReadonlyArray<readonly [string, number]> = [["m", 2], ["b", 7], ["z", 2], ["x", 7], ["a", 2], ["u", 0]]
    for (const [id, r] of reps) add(set, id).reputation = r
    expect(ids(set.available(1))).toEqual(["b", "x", "m", "z", "a", "u"])
  })

  it("is empty with no peers or none idle", () => {
    const set = newSet()
    expect(set.available(1)).toEqual([])
    add(set, "a").fetching(0)
    expect(set.available(1)).toEqual([])
  })

  it("matches 'idle only, reputation descending, registration order within a reputation' for any set (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ reputation: fc.integer({ min: 0, max: 4 }), idle: fc.boolean() }), { maxLength: 30 }),
        (specs) => {
          const set = newSet()
          specs.forEach((spec, i) => {
            const peer = add(set, `p${i}`)
            peer.reputation = spec.reputation
            if (!spec.idle) peer.fetching(0)
          })
          const expected: Array<string> = []
          for (let r = 4; r >= 0; r--) specs.forEach((spec, i) => spec.idle && spec.reputation === r && expected.push(`p${i}`))
          expect(ids(set.available(1))).toEqual(expected)
        }
      ),
      { numRuns: 200 }
    )
  })
})

// Peer.reset(): a new sync starts every peer fresh (idle, nothing ignored, no unrequested replies)
// but remembers who has been good and how fast each peer is.
describe("Peer.reset", () => {
  it("makes the peer idle and clears ignored and unrequested, keeping reputation and the speed measured", () => {
    const set = newSet()
    const a = add(set, "a")
    const b = add(set, "b")
    a.fetching(0)
    a.setIdle(1000, 20, tuning)
    a.reputation = 9
    a.fetching(10)
    a.ignored.add("k1")
    a.unrequested = 4
    b.reputation = 3
    b.ignored.add("k2")
    for (const p of [a, b]) p.reset()
    for (const p of [a, b]) {
      expect(p.open).toBe(0)
      expect(p.ignored.size).toBe(0)
      expect(p.unrequested).toBe(0)
    }
    expect(a.capacity).toBe(20)
    expect(a.throughput).toBe(20)
    expect(b.capacity).toBe(maxCap)
    expect(a.reputation).toBe(9)
    expect(b.reputation).toBe(3)
    expect(ids(set.available(1))).toEqual(["a", "b"])
  })

  it("lets the queue ask a peer again for the hashes it once failed to deliver", () => {
    const set = newSet()
    const a = add(set, "a")
    const queue = new DownloadQueue(8, 1)
    const hash = Hash.keccak(Uint8Array.of(1))
    queue.insert([hash], "source")
    queue.reserve(a, 1, 0)
    queue.deliver(a, []) // empty reply: a is not asked for `hash` again
    expect(queue.reserve(a, 1, 0)).toBeUndefined()
    a.reset()
    expect(queue.reserve(a, 1, 0)?.hashes.has(Hash.key(hash))).toBe(true)
  })
})
