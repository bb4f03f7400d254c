import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import { DownloadQueue } from "../src/DownloadQueue.ts"
import * as Hash from "../src/Hash.ts"
import type { PeerHandle } from "../src/PeerHandle.ts"
import { Peer, PeerSet } from "../src/PeerSet.ts"
import { DuplicatePeer, UnknownPeer } from "../src/SyncError.ts"

/** A transport handle whose requests go nowhere; `head` is a distinct hash per id. */
const handle = (id: string): PeerHandle => ({
  id,
  head: Hash.keccak(new TextEncoder().encode(id)),
  requestHashes: () => Effect.void,
  requestBlocks: () => Effect.void
})

/** Registers a peer that must be accepted. */
const add = (set: PeerSet, id: string): Peer => {
  const peer = set.register(handle(id))
  if (!(peer instanceof Peer)) throw new Error(`expected ${id} to register, got ${peer._tag}`)
  return peer
}

/** The seed's timings, shrunk: soft 3 ms, hard 9 ms, capacity at most 128. */
const soft = 3
const hard = 9
const maxCap = 128

/** A peer with the given capacity and reputation, busy since t = 100. */
const busy = (capacity: number, reputation = 0): Peer => {
  const peer = new Peer(handle("p"))
  peer.capacity = capacity
  peer.reputation = reputation
  peer.fetching(100)
  return peer
}

const ids = (peers: ReadonlyArray<Peer>): Array<string> => peers.map((p) => p.id)

// register/unregister: a peer id is in the set at most once, and only known ids can leave.
describe("PeerSet.register / unregister", () => {
  it("registers a new peer idle, with capacity 1, reputation 0 and nothing ignored", () => {
    const set = new PeerSet()
    const h = handle("a")
    const peer = set.register(h)
    expect(peer).toBeInstanceOf(Peer)
    if (!(peer instanceof Peer)) return
    expect(peer.id).toBe("a")
    expect(Hash.toHex(peer.head)).toBe(Hash.toHex(h.head))
    expect(peer.handle).toBe(h)
    expect(peer.idle).toBe(true)
    expect(peer.capacity).toBe(1)
    expect(peer.reputation).toBe(0)
    expect(peer.ignored.size).toBe(0)
    expect(set.get("a")).toBe(peer)
    expect(set.size).toBe(1)
  })

  it("refuses a duplicate id with DuplicatePeer and keeps the first peer's state", () => {
    const set = new PeerSet()
    const first = add(set, "a")
    first.reputation = 5
    const again = set.register(handle("a"))
    expect(again).toBeInstanceOf(DuplicatePeer)
    expect(again).toMatchObject({ _tag: "DuplicatePeer", peer: "a" })
    expect(set.size).toBe(1)
    expect(set.get("a")).toBe(first)
    expect(set.get("a")?.reputation).toBe(5)
  })

  it("unregisters a known peer, returning it", () => {
    const set = new PeerSet()
    const a = add(set, "a")
    add(set, "b")
    expect(set.unregister("a")).toBe(a)
    expect(set.get("a")).toBeUndefined()
    expect(set.size).toBe(1)
    expect(ids(set.all())).toEqual(["b"])
  })

  it("refuses an unknown id with UnknownPeer, also one already unregistered", () => {
    const set = new PeerSet()
    add(set, "a")
    const unknown = set.unregister("x")
    expect(unknown).toBeInstanceOf(UnknownPeer)
    expect(unknown).toMatchObject({ _tag: "UnknownPeer", peer: "x" })
    set.unregister("a")
    expect(set.unregister("a")).toMatchObject({ _tag: "UnknownPeer", peer: "a" })
    expect(set.size).toBe(0)
  })

  it("lets an id register again after it left, as a new peer", () => {
    const set = new PeerSet()
    const old = add(set, "a")
    old.reputation = 7
    old.capacity = 16
    set.unregister("a")
    const fresh = add(set, "a")
    expect(fresh).not.toBe(old)
    expect(fresh.reputation).toBe(0)
    expect(fresh.capacity).toBe(1)
  })

  it("lists all peers in registration order", () => {
    const set = new PeerSet()
    for (const id of ["c", "a", "b"]) add(set, id)
    expect(ids(set.all())).toEqual(["c", "a", "b"])
  })
})

// setIdle: the capacity follows the peer's speed (double / halve / reset), stays in 1..max, and
// a peer pushed down to 1 loses reputation.
describe("Peer.setIdle", () => {
  it("fetching marks the peer busy and remembers when", () => {
    const peer = new Peer(handle("p"))
    peer.fetching(42)
    expect(peer.idle).toBe(false)
    expect(peer.started).toBe(42)
  })

  it("doubles the capacity when the request took at most softTTL", () => {
    const fast = busy(4)
    fast.setIdle(100 + soft, soft, hard, maxCap)
    expect(fast.capacity).toBe(8)
    expect(fast.idle).toBe(true)
    const instant = busy(1)
    instant.setIdle(100, soft, hard, maxCap)
    expect(instant.capacity).toBe(2)
  })

  it("halves the capacity (integer) when slower than softTTL, up to and including hardTTL", () => {
    const slow = busy(8)
    slow.setIdle(100 + soft + 1, soft, hard, maxCap)
    expect(slow.capacity).toBe(4)
    const odd = busy(7)
    odd.setIdle(100 + hard, soft, hard, maxCap)
    expect(odd.capacity).toBe(3)
    expect(odd.idle).toBe(true)
  })

  it("resets the capacity to 1 when slower than hardTTL", () => {
    const late = busy(64)
    late.setIdle(100 + hard + 1, soft, hard, maxCap)
    expect(late.capacity).toBe(1)
    expect(late.idle).toBe(true)
  })

  it("never goes above maxBlockFetch", () => {
    const top = busy(maxCap)
    top.setIdle(101, soft, hard, maxCap)
    expect(top.capacity).toBe(maxCap)
    const near = busy(100)
    near.setIdle(101, soft, hard, maxCap)
    expect(near.capacity).toBe(maxCap)
  })

  it("never goes below 1 (halving 1 stays 1)", () => {
    const one = busy(1)
    one.setIdle(100 + soft + 1, soft, hard, maxCap)
    expect(one.capacity).toBe(1)
  })

  it("demotes a peer whose capacity lands on 1, by halving, by reset, or by the clamp", () => {
    const halvedTo1 = busy(3, 8)
    halvedTo1.setIdle(100 + soft + 1, soft, hard, maxCap)
    expect(halvedTo1.capacity).toBe(1)
    expect(halvedTo1.reputation).toBe(4)

    const reset = busy(32, 9)
    reset.setIdle(100 + hard + 1, soft, hard, maxCap)
    expect(reset.reputation).toBe(4)

    const stuck = busy(1, 6)
    stuck.setIdle(100 + soft + 1, soft, hard, maxCap)
    expect(stuck.reputation).toBe(3)

    const capped = busy(1, 10)
    capped.setIdle(100, soft, hard, 1) // maxBlockFetch 1: doubling is clamped back to 1
    expect(capped.capacity).toBe(1)
    expect(capped.reputation).toBe(5)
  })

  it("does not demote a peer whose capacity stays above 1", () => {
    const up = busy(1, 6)
    up.setIdle(100, soft, hard, maxCap)
    expect(up.capacity).toBe(2)
    expect(up.reputation).toBe(6)
    const down = busy(4, 6)
    down.setIdle(100 + soft + 1, soft, hard, maxCap)
    expect(down.capacity).toBe(2)
    expect(down.reputation).toBe(6)
  })

  it("keeps the capacity within 1..max for any history (property)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 256 }),
        fc.array(fc.integer({ min: 0, max: 4 * hard }), { maxLength: 40 }),
        (max, durations) => {
          const peer = new Peer(handle("p"))
          let now = 0
          for (const d of durations) {
            const before = peer.capacity
            peer.fetching(now)
            now += d
            peer.setIdle(now, soft, hard, max)
            const expected = d > hard ? 1 : d > soft ? Math.max(1, Math.floor(before / 2)) : Math.min(max, before * 2)
            expect(peer.capacity).toBe(expected)
            expect(peer.capacity).toBeGreaterThanOrEqual(1)
            expect(peer.capacity).toBeLessThanOrEqual(max)
          }
        }
      ),
      { numRuns: 200 }
    )
  })
})

// Reputation: good deliveries add one, bad ones halve it, so one failure outweighs many successes.
describe("Peer.promote / demote", () => {
  it("promote adds 1", () => {
    const peer = new Peer(handle("p"))
    peer.promote()
    peer.promote()
    peer.promote()
    expect(peer.reputation).toBe(3)
  })

  it("demote halves, rounding down, and stops at 0", () => {
    const peer = new Peer(handle("p"))
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

  it("neither changes the capacity or the idle flag", () => {
    const peer = busy(8, 4)
    peer.promote()
    peer.demote()
    expect(peer.capacity).toBe(8)
    expect(peer.idle).toBe(false)
  })
})

// idle(): who is served next: only idle peers, best reputation first, ties by registration order.
describe("PeerSet.idle", () => {
  it("lists only idle peers", () => {
    const set = new PeerSet()
    const a = add(set, "a")
    add(set, "b")
    const c = add(set, "c")
    a.fetching(0)
    c.fetching(0)
    expect(ids(set.idle())).toEqual(["b"])
    c.setIdle(1, soft, hard, maxCap)
    expect(ids(set.idle())).toEqual(["b", "c"])
  })

  it("orders best reputation first", () => {
    const set = new PeerSet()
    const reps: ReadonlyArray<readonly [string, number]> = [["a", 1], ["b", 5], ["c", 0], ["d", 3]]
    for (const [id, r] of reps) add(set, id).reputation = r
    expect(ids(set.idle())).toEqual(["b", "d", "a", "c"])
  })

  it("breaks ties in registration order", () => {
    const set = new PeerSet()
    // Ids in neither alphabetical order, so only registration order explains the result.
    const reps: ReadonlyArray<readonly [string, number]> = [["m", 2], ["b", 7], ["z", 2], ["x", 7], ["a", 2], ["u", 0]]
    for (const [id, r] of reps) add(set, id).reputation = r
    expect(ids(set.idle())).toEqual(["b", "x", "m", "z", "a", "u"])
  })

  it("is empty with no peers or none idle", () => {
    const set = new PeerSet()
    expect(set.idle()).toEqual([])
    add(set, "a").fetching(0)
    expect(set.idle()).toEqual([])
  })

  it("matches 'idle only, reputation descending, registration order within a reputation' for any set (property)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ reputation: fc.integer({ min: 0, max: 4 }), idle: fc.boolean() }), { maxLength: 30 }),
        (specs) => {
          const set = new PeerSet()
          specs.forEach((spec, i) => {
            const peer = add(set, `p${i}`)
            peer.reputation = spec.reputation
            if (!spec.idle) peer.fetching(0)
          })
          const expected: Array<string> = []
          for (let r = 4; r >= 0; r--) specs.forEach((spec, i) => spec.idle && spec.reputation === r && expected.push(`p${i}`))
          expect(ids(set.idle())).toEqual(expected)
        }
      ),
      { numRuns: 200 }
    )
  })
})

// reset(): a new sync starts every peer fresh (idle, capacity 1, nothing ignored) but remembers
// who has been good.
describe("PeerSet.reset", () => {
  it("makes every peer idle with capacity 1 and clears ignored, keeping reputation", () => {
    const set = new PeerSet()
    const a = add(set, "a")
    const b = add(set, "b")
    a.capacity = 64
    a.reputation = 9
    a.fetching(10)
    a.ignored.add("k1")
    b.capacity = 2
    b.reputation = 3
    b.ignored.add("k2")
    set.reset()
    for (const p of [a, b]) {
      expect(p.idle).toBe(true)
      expect(p.capacity).toBe(1)
      expect(p.ignored.size).toBe(0)
    }
    expect(a.reputation).toBe(9)
    expect(b.reputation).toBe(3)
    expect(ids(set.idle())).toEqual(["a", "b"])
    expect(set.size).toBe(2)
  })

  it("lets the queue ask a peer again for the hashes it once failed to deliver", () => {
    const set = new PeerSet()
    const a = add(set, "a")
    const queue = new DownloadQueue(8)
    const hash = Hash.keccak(Uint8Array.of(1))
    queue.insert([hash])
    queue.reserve(a, 1, 0)
    queue.deliver(a, []) // empty reply: a is not asked for `hash` again
    expect(queue.reserve(a, 1, 0)).toBeUndefined()
    set.reset()
    expect(queue.reserve(a, 1, 0)?.hashes.has(Hash.key(hash))).toBe(true)
  })
})
