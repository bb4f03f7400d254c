/**
 * The peer pool: its dropper, the transport's side of a drop, forgets a peer and records why.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash } from "@ethsync/core"
import { Effect } from "effect"
import * as PeerPool from "../src/PeerPool.ts"

describe("PeerPool", () => {
  it.effect("forgets a dropped peer at once and records the first reason only", () =>
    Effect.gen(function*() {
      const pool = yield* PeerPool.make
      yield* pool.connect({ id: "a", head: Hash.zero, td: 2n })
      yield* pool.connect({ id: "b", head: Hash.zero, td: 1n })
      yield* pool.dropper.drop("a", "lied")
      yield* pool.dropper.drop("a", "lied again")
      expect(yield* pool.isConnected("a")).toBe(false)
      expect((yield* pool.connected).map((peer) => peer.id)).toEqual(["b"])
      expect(yield* pool.drops).toEqual([{ peer: "a", reason: "lied" }])
    }))
})
