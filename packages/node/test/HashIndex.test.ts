/**
 * The hash index file: lookups, duplicates, buckets overflowing into doublings, hash prefixes
 * shared, headers that do not check out, leftovers of killed doublings (left by an open, removed
 * under the lock), and another process's handle across a doubling.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash } from "@ethsync/core"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as HashIndex from "../src/HashIndex.ts"
import * as TempDir from "./TempDir.ts"

/** The `i`th test hash: a keccak, so spread over the buckets as block hashes are. */
const hashOf = (i: number): Hash.Hash => Hash.keccak(new Uint8Array(new Uint32Array([i]).buffer))

/** A hash whose first byte is 0 and whose other bytes are those of `hashOf(i)`: all land in bucket 0 of a small table. */
const crowded = (i: number): Hash.Hash => {
  const bytes = new Uint8Array(hashOf(i))
  bytes[0] = 0
  return Hash.makeUnsafe(bytes)
}

/** The index of `dir`, open to write; it must exist. */
const opened = (dir: string) =>
  Effect.flatMap(HashIndex.open(dir, false), (index) => index === undefined ? Effect.die(new Error(`${dir} has no index`)) : Effect.succeed(index))

/** A new empty index in a new datadir folder (removed with the test), open to write. */
const fresh = Effect.gen(function*() {
  const dir = yield* TempDir.make
  HashIndex.build(dir, 0, () => {})
  return { dir, index: yield* opened(dir) }
})

/** Overwrites bytes of `file` at `offset`. */
const writeAt = (file: string, offset: number, bytes: Uint8Array): void => {
  const fd = Fs.openSync(file, "r+")
  Fs.writeSync(fd, bytes, 0, bytes.length, offset)
  Fs.closeSync(fd)
}

/** The bytes of the index file of `dir`. */
const sizeOf = (dir: string): number => Fs.statSync(Path.join(dir, HashIndex.fileName)).size

describe("HashIndex", () => {
  it.effect("finds each block's number by its hash, nothing for a hash it was not given, and keeps one entry of a block added twice", () =>
    Effect.scoped(Effect.gen(function*() {
      const { dir, index } = yield* fresh
      const ids = Array.from({ length: 2000 }, (_, i) => ({ number: i * 3 + 2 ** 33, hash: hashOf(i) }))
      HashIndex.add(index, ids.slice(0, 1000))
      HashIndex.add(index, ids)
      for (const { number, hash } of ids) expect(HashIndex.lookup(index, hash)).toEqual([number])
      expect(HashIndex.lookup(index, hashOf(-1))).toEqual([])
      // The entries are in the file: another opening finds them.
      const again = yield* HashIndex.open(dir, true)
      if (again === undefined) return expect.unreachable("the index file exists")
      expect(HashIndex.lookup(again, ids[1999]!.hash)).toEqual([ids[1999]!.number])
    })))

  it.effect("a bucket page counting more entries than a page holds, or a file cut short since it was opened, is a StoreError naming it, at once", () =>
    Effect.scoped(Effect.gen(function*() {
      const { dir, index } = yield* fresh
      const file = Path.join(dir, HashIndex.fileName)
      // Bucket 0 (the page after the header) counts 2^32 - 1 entries.
      writeAt(file, 4096, Uint8Array.of(0xff, 0xff, 0xff, 0xff))
      expect(() => HashIndex.lookup(index, crowded(1))).toThrow(/bucket 0 counts 4294967295 entries, more than the 255 a page holds/)
      expect(() => HashIndex.add(index, [{ number: 1, hash: crowded(1) }])).toThrow(/bucket 0 counts 4294967295 entries/)
      Fs.truncateSync(file, 2 * 4096)
      expect(() => HashIndex.lookup(index, hashOf(3))).toThrow(/short of the size its header gives/)
    })))

  it.effect("doubles its table as often as a bucket overflows, every entry still found", () =>
    Effect.scoped(Effect.gen(function*() {
      const { dir, index } = yield* fresh
      const before = sizeOf(dir)
      // 4 times what a bucket holds, all with the same first byte: the table doubles at least 4 times.
      const ids = Array.from({ length: 4 * HashIndex.bucketCapacity }, (_, i) => ({ number: i, hash: crowded(i) }))
      for (let i = 0; i < ids.length; i += 100) HashIndex.add(index, ids.slice(i, i + 100))
      expect(sizeOf(dir) - 4096).toBeGreaterThanOrEqual(16 * (before - 4096))
      for (const { number, hash } of ids) expect(HashIndex.lookup(index, hash)).toEqual([number])
      expect(Fs.readdirSync(dir)).toEqual([HashIndex.fileName])
    })))

  it.effect("does not double a large, almost empty table for hashes made to crowd one bucket: a StoreError, the index as it was", () =>
    Effect.scoped(Effect.gen(function*() {
      const dir = yield* TempDir.make
      // Sized for 600,000 entries: 8,192 buckets.
      HashIndex.build(dir, 600_000, () => {})
      const index = yield* opened(dir)
      const before = sizeOf(dir)
      // The first two bytes 0: all in bucket 0, which holds 255.
      const ids = Array.from({ length: HashIndex.bucketCapacity + 1 }, (_, i) => {
        const bytes = new Uint8Array(hashOf(i))
        bytes[0] = 0
        bytes[1] = 0
        return { number: i, hash: Hash.makeUnsafe(bytes) }
      })
      expect(() => HashIndex.add(index, ids)).toThrow(/a bucket overflows with 0 entries in 8192 buckets: hashes made to crowd one bucket/)
      expect(sizeOf(dir)).toBe(before)
      expect(Fs.readdirSync(dir)).toEqual([HashIndex.fileName])
      // The overflowing bucket was not written: the table is as empty as it was.
      expect(HashIndex.lookup(index, ids[0]!.hash)).toEqual([])
    })))

  it.effect("returns every number of hashes that share their first 8 bytes, for the caller to tell apart", () =>
    Effect.scoped(Effect.gen(function*() {
      const { index } = yield* fresh
      const one = hashOf(1)
      const twin = new Uint8Array(one)
      twin[31] = twin[31]! ^ 0xff
      HashIndex.add(index, [{ number: 5, hash: one }, { number: 9, hash: Hash.makeUnsafe(twin) }])
      expect(HashIndex.lookup(index, one).sort()).toEqual([5, 9])
    })))

  it.effect("refuses a file whose header does not check out to a reader, naming what is wrong; a writer opens it as none, to be rebuilt", () =>
    Effect.gen(function*() {
      const cases: Array<[string, (file: string) => void, RegExp]> = [
        ["magic", (file) => Fs.writeFileSync(file, "NOTANIDX", { flag: "r+" }), /does not start with "ETHSYNCX"/],
        ["version", (file) => writeAt(file, 8, Uint8Array.of(0, 0, 0, 7)), /gives format version 7, not 1/],
        ["bits", (file) => writeAt(file, 12, Uint8Array.of(0, 0, 0, 2)), /gives 2 bucket bits, not 4 to 32/],
        ["size", (file) => Fs.truncateSync(file, 3 * 4096), /it has 12288 bytes, not the 69632 of 16 buckets/],
        ["length", (file) => Fs.truncateSync(file, 10), /fewer than its header's 4096/]
      ]
      for (const [, damage, reason] of cases) {
        const dir = yield* TempDir.make
        HashIndex.build(dir, 0, () => {})
        const file = Path.join(dir, HashIndex.fileName)
        damage(file)
        const error = yield* Effect.flip(Effect.scoped(HashIndex.open(dir, true)))
        expect(error._tag).toBe("StoreError")
        expect(error.message).toContain(`open the hash index ${file}`)
        expect(error.message).toMatch(reason)
        expect(error.message).toContain("(opening the datadir to write, as import does, rebuilds it)")
        expect(HashIndex.usable(dir)).toBe(false)
        expect(yield* Effect.scoped(HashIndex.open(dir, false))).toBeUndefined()
      }
    }))

  it.effect("leaves what a doubling or build left when opened (another process's may be under way), and removes it when told, the index as it was", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      HashIndex.build(dir, 0, (add) => add([{ number: 7, hash: hashOf(7) }]))
      const left = [".new", ".build", ".build.new"].map((suffix) => Path.join(dir, HashIndex.fileName + suffix))
      for (const file of left) Fs.writeFileSync(file, "half a doubling")
      for (const readOnly of [true, false]) yield* Effect.scoped(HashIndex.open(dir, readOnly))
      expect(HashIndex.leftovers(dir).sort()).toEqual([...left].sort())
      HashIndex.removeLeftovers(dir)
      expect(Fs.readdirSync(dir)).toEqual([HashIndex.fileName])
      expect(yield* Effect.scoped(Effect.map(opened(dir), (index) => HashIndex.lookup(index, hashOf(7))))).toEqual([7])
    }))

  it.effect("another opening sees a doubling's new file once it refreshes, and then finds what was added since; a writer's add refreshes first", () =>
    Effect.scoped(Effect.gen(function*() {
      const { dir, index } = yield* fresh
      const reader = yield* HashIndex.open(dir, true)
      if (reader === undefined) return expect.unreachable("the index file exists")
      HashIndex.add(index, [{ number: 1, hash: crowded(1) }])
      expect(HashIndex.lookup(reader, crowded(1))).toEqual([1])
      expect(HashIndex.refresh(reader)).toBe(false)
      const ids = Array.from({ length: 2 * HashIndex.bucketCapacity }, (_, i) => ({ number: i, hash: crowded(i) }))
      HashIndex.add(index, ids)
      const last = ids[ids.length - 1]!
      expect(HashIndex.lookup(reader, last.hash)).toEqual([])
      expect(HashIndex.refresh(reader)).toBe(true)
      expect(HashIndex.lookup(reader, last.hash)).toEqual([last.number])
      expect(() => HashIndex.add(reader, [last])).toThrow(/open for reading only/)
      // A second writer, its file replaced by the first's doubling, writes into the file the path names.
      const second = yield* opened(dir)
      HashIndex.add(index, Array.from({ length: 4 * HashIndex.bucketCapacity }, (_, i) => ({ number: i, hash: crowded(i) })))
      HashIndex.add(second, [{ number: 99, hash: hashOf(99) }])
      expect(HashIndex.lookup(index, hashOf(99))).toEqual([99])
    })))

  it.effect("a datadir without an index file opens as none", () =>
    Effect.gen(function*() {
      expect(yield* HashIndex.open(yield* TempDir.make, false)).toBeUndefined()
    }))
})
