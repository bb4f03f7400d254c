/**
 * The network registry a transport keeps: peers join, announce and leave; a disconnect closes the
 * peer's connection through the transport and is remembered once, with its first reason.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as Hash from "../../src/chain/Hash.ts"
import * as Network from "../../src/sync/Network.ts"

/** A distinct hash per number. */
const hash = (n: number) => Hash.makeUnsafe(new Uint8Array(32).fill(n))

describe("Network registry", () => {
  it.effect("lists joined peers in order, updates a peer's head and TD on announce, forgets it on leave, and tells subscribers", () =>
    Effect.gen(function*() {
      const registry = yield* Network.makeRegistry
      const events = yield* registry.events
      yield* registry.join({ id: "a", version: 61, head: hash(1), td: 10n }, () => Effect.void)
      yield* registry.join({ id: "b", version: 60, head: hash(2), td: 20n }, () => Effect.void)
      yield* registry.announce("a", hash(3), 30n, undefined)
      yield* registry.announce("nobody", hash(4), 40n, undefined)
      expect((yield* registry.peers).map((p) => [p.id, p.td])).toEqual([["a", 30n], ["b", 20n]])
      yield* registry.leave("b", "closed by the remote")
      yield* registry.leave("b", "again")
      expect((yield* registry.peers).map((p) => p.id)).toEqual(["a"])
      const seen = yield* Stream.runCollect(Stream.take(events, 4))
      expect(seen.map((e) => e._tag === "Disconnected" ? `${e._tag}:${e.id}:${e.reason}` : `${e._tag}:${e.peer.id}`)).toEqual([
        "Connected:a",
        "Connected:b",
        "NewHead:a",
        "Disconnected:b:closed by the remote"
      ])
    }))

  it.effect("disconnect closes the peer through its transport, remembers the first reason, and ignores peers not connected", () =>
    Effect.gen(function*() {
      const registry = yield* Network.makeRegistry
      const closed: Array<string> = []
      yield* registry.join({ id: "a", version: 61, head: hash(1), td: 1n }, (reason) =>
        Effect.andThen(Effect.sync(() => void closed.push(reason)), registry.leave("a", reason)))
      yield* registry.disconnect("a", "sent a bad block")
      yield* registry.disconnect("a", "later reason")
      yield* registry.disconnect("ghost", "never here")
      expect(closed).toEqual(["sent a bad block"])
      expect(yield* registry.peers).toEqual([])
      expect(yield* registry.drops).toEqual([{ peer: "a", reason: "sent a bad block" }])
    }))

  it.effect("remembers the latest 1024 drops, forgetting the oldest", () =>
    Effect.gen(function*() {
      const registry = yield* Network.makeRegistry
      for (let i = 0; i < 1030; i++) {
        const id = `p${i}`
        yield* registry.join({ id, version: 61, head: hash(1), td: 1n }, (reason) => registry.leave(id, reason))
        yield* registry.disconnect(id, "bad")
      }
      const drops = yield* registry.drops
      expect(drops).toHaveLength(1024)
      expect(drops[0]!.peer).toBe("p6")
      expect(drops.at(-1)!.peer).toBe("p1029")
    }))
})
