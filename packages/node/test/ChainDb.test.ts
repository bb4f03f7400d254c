/**
 * The LMDB environment of a datadir as the operating system sees it: how its data file is mapped.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Block, Hash, Header } from "@ethsync/core"
import * as ChainDb from "../src/ChainDb.ts"
import * as LayoutMigration from "../src/LayoutMigration.ts"
import * as TempDir from "./TempDir.ts"
import * as TestChain from "./TestChain.ts"

/** The lines of this process's memory map that map `file`; undefined where there is no /proc (not Linux). */
const mapsOf = (file: string): ReadonlyArray<string> | undefined =>
  Fs.existsSync("/proc/self/maps") ? Fs.readFileSync("/proc/self/maps", "utf8").split("\n").filter((line) => line.endsWith(` ${file}`)) : undefined

describe("ChainDb", () => {
  it.effect("maps its data file once, however much is written: every map would count the same pages in the resident set again", () =>
    Effect.scoped(Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      const db = yield* ChainDb.open(path, "create")
      const file = Fs.realpathSync(Path.join(path, "data.mdb"))
      if (mapsOf(file) === undefined) return console.log("skipped: no /proc/self/maps to count the maps in (not Linux)")
      const value = new Uint8Array(1024).fill(7)
      // 64 MiB in 16 commits: lmdb-js's default map (128 KiB) would be outgrown, and the file mapped anew, many times.
      for (let commit = 0; commit < 16; commit++) {
        ChainDb.transaction(db, () => {
          for (let i = 0; i < 4096; i++) db.blocks.putSync(new Uint8Array(new Uint32Array([commit, i]).buffer), value)
        })
      }
      expect(Fs.statSync(file).size).toBeGreaterThan(64 * 1024 * 1024)
      expect(Array.from(db.blocks.get(new Uint8Array(new Uint32Array([15, 4095]).buffer)) ?? [])).toEqual(Array.from(value))
      expect(mapsOf(file)).toHaveLength(1)
    })))

  it.effect("serves stored headers and bodies cut out of their blocks, in order, headers of any size included", () =>
    Effect.scoped(Effect.gen(function*() {
      const db = yield* LayoutMigration.migrate(yield* ChainDb.open(Path.join(yield* TempDir.make, "datadir"), "create"))
      const genesis = TestChain.genesis()
      // Headers at their largest (32 bytes of extraData, every integer 8 or 32 bytes): past what the headers' buffer starts with.
      const large = Array.from({ length: 3 }, (_, i) =>
        Block.make(
          Header.make({
            ...genesis.header,
            difficulty: 2n ** 255n + BigInt(i),
            number: 2 ** 52,
            gasLimit: 2n ** 63n,
            gasUsed: 2n ** 63n,
            timestamp: 2n ** 63n,
            extraData: new Uint8Array(32).fill(i)
          }),
          [],
          []
        ))
      const withUncle = TestChain.withUncles(TestChain.child(genesis), [genesis.header])
      const blocks = [genesis, ...large, withUncle]
      ChainDb.transaction(db, () => {
        ChainDb.indexBlocks(db, blocks)
        blocks.forEach((block) => ChainDb.putNewBlock(db, block, 1n))
      })
      const unknown = Hash.keccak(Uint8Array.of(1))
      const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
      expect(large[0]!.header.rlp.length).toBeGreaterThan(580)
      const none = { number: 1, hash: unknown }
      expect(ChainDb.headerRlps(db, [none, ...blocks, none]).map(hex)).toEqual(blocks.map((b) => hex(b.header.rlp)))
      expect(ChainDb.headerRlps(db, large).map(hex)).toEqual(large.map((b) => hex(b.header.rlp)))
      expect(ChainDb.headerRlps(db, [none])).toEqual([])
      for (const block of blocks) expect(hex(ChainDb.bodyRlp(db, block.hash)!)).toBe(hex(Block.bodyRlp(block)))
      expect(ChainDb.bodyRlp(db, unknown)).toBeUndefined()
    })))
})
