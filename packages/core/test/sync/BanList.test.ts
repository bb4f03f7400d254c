import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import fc from "fast-check"
import * as BanList from "../../src/sync/BanList.ts"
import * as DownloaderConfig from "../../src/sync/DownloaderConfig.ts"
import * as Hash from "../../src/chain/Hash.ts"

/** A distinct hash per number (made once each). */
const table = Array.from({ length: 1002 }, (_, n) => Hash.keccak(Uint8Array.of(n >> 8, n & 0xff)))
const h = (n: number): Hash.Hash => table[n]!
const hexes = (hashes: ReadonlyArray<Hash.Hash>) => hashes.map(Hash.toHex)

// Protects the ban list's bounds: capped, pinned bans never evicted, oldest learned bans evicted first.
describe("BanList", () => {
  it.effect("evicts the oldest learned entries first once the cap is reached", () =>
    Effect.gen(function*() {
      const bans = BanList.make([], 3)
      for (let i = 1; i <= 5; i++) yield* bans.add(h(i))
      expect(yield* bans.size).toBe(3)
      expect(hexes(yield* bans.entries)).toEqual(hexes([h(3), h(4), h(5)]))
      expect(yield* bans.has(h(1))).toBe(false)
      expect(yield* bans.has(h(2))).toBe(false)
      expect(yield* bans.has(h(5))).toBe(true)
    }))

  it.effect("never evicts pinned entries, which count toward the cap and come first", () =>
    Effect.gen(function*() {
      const pinned = [h(1000), h(1001)]
      const bans = BanList.make(pinned, 4)
      for (let i = 1; i <= 20; i++) yield* bans.add(h(i))
      expect(yield* bans.size).toBe(4)
      expect(hexes(yield* bans.entries)).toEqual(hexes([...pinned, h(19), h(20)]))
      expect(yield* bans.has(h(1000))).toBe(true)
      expect(yield* bans.has(h(1001))).toBe(true)
    }))

  it.effect("keeps every pinned entry even when they alone exceed the cap", () =>
    Effect.gen(function*() {
      const pinned = [h(1), h(2), h(3)]
      const bans = BanList.make(pinned, 2)
      yield* bans.add(h(4))
      expect(hexes(yield* bans.entries)).toEqual(hexes(pinned))
      expect(yield* bans.has(h(4))).toBe(false)
    }))

  it.effect("adding a hash already banned (pinned or learned) neither duplicates it nor grows the list", () =>
    Effect.gen(function*() {
      const bans = BanList.make([h(100)], 10)
      yield* bans.add(h(1))
      yield* bans.add(h(1))
      yield* bans.add(h(100))
      expect(yield* bans.size).toBe(2)
      expect(hexes(yield* bans.entries)).toEqual(hexes([h(100), h(1)]))
    }))

  it.effect("firstBanned gives the index of the first banned hash of a reply, or -1", () =>
    Effect.gen(function*() {
      const bans = BanList.make([h(7)], 10)
      yield* bans.add(h(3))
      expect(yield* bans.firstBanned([h(1), h(2), h(3), h(7)])).toBe(2)
      expect(yield* bans.firstBanned([h(7), h(3)])).toBe(0)
      expect(yield* bans.firstBanned([h(1), h(2)])).toBe(-1)
      expect(yield* bans.firstBanned([])).toBe(-1)
    }))

  it.effect("the layer takes its cap from DownloaderConfig.maxBannedHashes", () =>
    Effect.gen(function*() {
      const bans = yield* BanList.BanList
      for (let i = 1; i <= 10; i++) yield* bans.add(h(i))
      expect(hexes(yield* bans.entries)).toEqual(hexes([h(0), h(8), h(9), h(10)]))
    }).pipe(
      Effect.provide(BanList.layer([h(0)])),
      Effect.provideService(DownloaderConfig.DownloaderConfig, { ...DownloaderConfig.seed, maxBannedHashes: 4 })
    ))

  it("behaves like a capped first-in-first-out set after pinned entries, for any sequence of adds (property)", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 12 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { maxLength: 80 }),
        (pinnedIds, cap, adds) => {
          const bans = BanList.make(pinnedIds.map(h), cap)
          let model: Array<number> = []
          for (const id of adds) {
            Effect.runSync(bans.add(h(id)))
            if (!pinnedIds.includes(id) && !model.includes(id)) model.push(id)
            model = model.slice(Math.max(0, pinnedIds.length + model.length - cap))
            const size = Effect.runSync(bans.size)
            expect(size).toBe(pinnedIds.length + model.length)
            expect(size <= Math.max(cap, pinnedIds.length)).toBe(true)
          }
          expect(hexes(Effect.runSync(bans.entries))).toEqual(hexes([...pinnedIds, ...model].map(h)))
          for (let id = 0; id <= 40; id++) {
            expect(Effect.runSync(bans.has(h(id)))).toBe(pinnedIds.includes(id) || model.includes(id))
          }
        }
      ),
      { numRuns: 300 }
    )
  })
})
