/**
 * The peer pool: its dropper forgets a peer, records why and unregisters it from the downloader
 * attached to the pool, which is built with the dropper and so handed over afterwards.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash } from "@ethsync/core"
import { Effect, Fiber } from "effect"
import * as PeerPool from "../src/PeerPool.ts"

/** A registry that records the peers unregistered from it. */
const recording = () => {
  const unregistered: Array<string> = []
  const registry: PeerPool.Registry = { unregisterPeer: (id) => Effect.sync(() => void unregistered.push(id)) }
  return { registry, unregistered }
}

describe("PeerPool", () => {
  it.effect("unregisters a dropped peer from the attached downloader, and records the first reason", () =>
    Effect.gen(function*() {
      const pool = yield* PeerPool.make
      const first = recording()
      yield* pool.attach(first.registry)
      yield* pool.attach(recording().registry)
      yield* pool.connect({ id: "a", head: Hash.zero, td: 2n })
      yield* pool.connect({ id: "b", head: Hash.zero, td: 1n })
      yield* pool.dropper.drop("a", "lied")
      yield* pool.dropper.drop("a", "lied again")
      expect(first.unregistered).toEqual(["a", "a"])
      expect((yield* pool.connected).map((peer) => peer.id)).toEqual(["b"])
      expect(yield* pool.drops).toEqual([{ peer: "a", reason: "lied" }])
    }))

  it.effect("forgets a peer dropped before a downloader is attached at once, and unregisters it once one is", () =>
    Effect.gen(function*() {
      const pool = yield* PeerPool.make
      const { registry, unregistered } = recording()
      yield* pool.connect({ id: "a", head: Hash.zero, td: 1n })
      const dropping = yield* Effect.forkChild(pool.dropper.drop("a", "lied"))
      yield* Effect.yieldNow
      expect(yield* pool.isConnected("a")).toBe(false)
      expect(yield* pool.drops).toEqual([{ peer: "a", reason: "lied" }])
      expect(unregistered).toEqual([])
      yield* pool.attach(registry)
      yield* Fiber.join(dropping)
      expect(unregistered).toEqual(["a"])
    }))
})
