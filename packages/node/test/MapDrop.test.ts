/**
 * The data file's map dropped between commits once the file-backed memory has grown past a budget (or
 * after every commit where it cannot be read): its pages leave the resident set, the datadir keeps
 * answering, uses never meet a closed environment, and a reopening that fails says so.
 */
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber, Option } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Hash, SealVerifier } from "@ethsync/core"
import * as ChainDb from "../src/ChainDb.ts"
import * as LayoutMigration from "../src/LayoutMigration.ts"
import * as LmdbChainStore from "../src/LmdbChainStore.ts"
import * as MapDrop from "../src/MapDrop.ts"
import * as TempDir from "./TempDir.ts"
import * as TestChain from "./TestChain.ts"

/** KiB of `file` resident in this process through its maps; undefined where there is no /proc (not Linux). */
const residentKib = (file: string): number | undefined => {
  if (!Fs.existsSync("/proc/self/smaps")) return undefined
  let kib = 0
  for (const mapping of Fs.readFileSync("/proc/self/smaps", "utf8").split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/)) {
    if (mapping.split("\n")[0]!.endsWith(` ${file}`)) kib += Number(/\nRss:\s+(\d+) kB/.exec(mapping)?.[1] ?? 0)
  }
  return kib
}

/** Bytes in a MiB. */
const mib = 2 ** 20

/** A reading of the file-backed memory where it cannot be read: the map is dropped after every commit. */
const unreadable: MapDrop.FileResident = () => undefined

/** The key of the `i`th test record. */
const keyOf = (i: number): Uint8Array => new Uint8Array(new Uint32Array([i]).buffer)

/** Writes 32 MiB of 1 KiB records in 8 commits, then reads them all back through the map. */
const fill = (db: ChainDb.ChainDb): void => {
  const value = new Uint8Array(1024).fill(7)
  for (let commit = 0; commit < 8; commit++) {
    ChainDb.transaction(db, () => {
      for (let i = 0; i < 4096; i++) db.blocks.putSync(keyOf(commit * 4096 + i), value)
    })
  }
  for (let i = 0; i < 8 * 4096; i++) db.blocks.getBinaryFast(keyOf(i))
}

describe("MapDrop", () => {
  it.effect("gives the data file's pages back at a drop, and the datadir answers after it as before", () =>
    Effect.scoped(Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      const db = yield* ChainDb.open(path, "create")
      const file = Fs.realpathSync(Path.join(path, "data.mdb"))
      if (residentKib(file) === undefined) return console.log("skipped: no /proc/self/smaps to read the resident pages in (not Linux)")
      fill(db)
      expect(residentKib(file)).toBeGreaterThan(16 * 1024)
      const { committed } = yield* MapDrop.make(db, unreadable)
      yield* committed
      expect(residentKib(file)).toBeLessThan(1024)
      expect(db.blocks.get(keyOf(8 * 4096 - 1))?.length).toBe(1024)
      ChainDb.transaction(db, () => db.blocks.putSync(keyOf(-1), Uint8Array.of(1)))
      expect(Array.from(db.blocks.get(keyOf(-1)) ?? [])).toEqual([1])
    })))

  it.effect("drops the map only once the file-backed memory has grown past the budget since the last drop, and puts a drop off while a use runs", () =>
    Effect.scoped(Effect.gen(function*() {
      const db = yield* ChainDb.open(Path.join(yield* TempDir.make, "datadir"), "create")
      let reading = 100 * mib
      const { use, committed } = yield* MapDrop.make(db, () => reading, 16 * mib)
      const first = db.env
      reading += 16 * mib
      yield* committed
      expect(db.env).toBe(first)
      reading += 1
      const release = yield* Deferred.make<void>()
      const running = yield* Effect.forkChild(use(Deferred.await(release)))
      yield* Effect.yieldNow
      yield* committed
      expect(db.env).toBe(first)
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(running)
      yield* committed
      const second = db.env
      expect(second).not.toBe(first)
      // Counted from the reading right after the drop: 116 MiB and a byte.
      reading += 16 * mib
      yield* committed
      expect(db.env).toBe(second)
      reading += 1
      yield* committed
      expect(db.env).not.toBe(second)
    })))

  it.effect("counts the growth from the least reading since the last drop: pages the kernel took back do not put a drop off", () =>
    Effect.scoped(Effect.gen(function*() {
      const db = yield* ChainDb.open(Path.join(yield* TempDir.make, "datadir"), "create")
      let reading = 100 * mib
      const { committed } = yield* MapDrop.make(db, () => reading, 16 * mib)
      const first = db.env
      reading = 60 * mib
      yield* committed
      expect(db.env).toBe(first)
      // 16 MiB and a byte above the least reading, though below the first.
      reading = 76 * mib + 1
      yield* committed
      expect(db.env).not.toBe(first)
    })))

  it.effect("drops the map after every commit where the file-backed memory cannot be read", () =>
    Effect.scoped(Effect.gen(function*() {
      const db = yield* ChainDb.open(Path.join(yield* TempDir.make, "datadir"), "create")
      const { committed } = yield* MapDrop.make(db, unreadable)
      const first = db.env
      yield* committed
      const second = db.env
      yield* committed
      expect(new Set([first, second, db.env]).size).toBe(3)
    })))

  it("reads this process's file-backed resident memory from /proc/self/statm, where there is one", () => {
    const reading = MapDrop.statm()()
    if (!Fs.existsSync("/proc/self/statm")) return console.log("skipped: no /proc/self/statm (not Linux)")
    const status = Fs.readFileSync("/proc/self/status", "utf8")
    const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1])
    // The kernel's own count, read a moment apart: within a MiB.
    expect(Math.abs(reading! - (kib("RssFile") + kib("RssShmem")) * 1024)).toBeLessThan(mib)
  })

  it.effect("holds a use that comes during a drop until the environment is open again", () =>
    Effect.scoped(Effect.gen(function*() {
      const db = yield* ChainDb.open(Path.join(yield* TempDir.make, "datadir"), "create")
      ChainDb.transaction(db, () => db.blocks.putSync(keyOf(1), Uint8Array.of(9)))
      const { use, committed } = yield* MapDrop.make(db, unreadable)
      const dropping = yield* Effect.forkChild(committed)
      // The drop has closed the environment and waits for LMDB to finish closing it.
      yield* Effect.yieldNow
      expect(() => db.blocks).toThrow(/being reopened/)
      const read = yield* use(ChainDb.attempt("read", () => Array.from(db.blocks.get(keyOf(1)) ?? [])))
      expect(read).toEqual([9])
      yield* Fiber.join(dropping)
    })))

  it.effect("fails with a StoreError naming the reopening when the environment will not open again, as does every use and reopening after", () =>
    Effect.scoped(Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      const db = yield* ChainDb.open(path, "create")
      const { use, committed } = yield* MapDrop.make(db, unreadable)
      // LMDB keeps its data file open, so the open environment goes on; a new opening finds a folder there.
      Fs.renameSync(Path.join(path, "data.mdb"), Path.join(path, "moved.mdb"))
      Fs.mkdirSync(Path.join(path, "data.mdb"))
      const failed = yield* Effect.flip(committed)
      expect(failed._tag).toBe("StoreError")
      expect(failed.message).toContain(`reopen datadir ${path}`)
      const later = yield* Effect.flip(use(ChainDb.attempt("read", () => db.blocks.get(keyOf(1)))))
      expect(later.message).toContain(`reopen datadir ${path}`)
      // A later drop fails with it too (a failure, not a defect).
      const again = yield* Effect.flip(ChainDb.reopen(db))
      expect(again).toBe(failed)
    })))
})

describe("LmdbChainStore across drops of its map", () => {
  it.effect("answers every query after commits each followed by a drop of the map", () =>
    Effect.gen(function*() {
      const genesis = TestChain.genesis()
      const chain = TestChain.extend(genesis, 40)
      const db = yield* LayoutMigration.migrate(yield* ChainDb.open(Path.join(yield* TempDir.make, "datadir"), "create"))
      const store = yield* LmdbChainStore.fromChainDb(db, { genesis }, SealVerifier.none)
      for (let i = 0; i < chain.length; i += 4) {
        expect(yield* store.insert(chain.slice(i, i + 4))).toBe(4)
        yield* ChainDb.reopen(db)
      }
      for (const block of chain) {
        expect(yield* store.has(block.hash)).toBe(true)
        const found = yield* store.getByNumber(block.number)
        expect(Option.isSome(found) && Hash.equals(found.value.hash, block.hash)).toBe(true)
      }
      const head = yield* store.head
      expect([head.block.number, head.td]).toEqual([40, TestChain.tdOf([genesis, ...chain])])
    }))
})
