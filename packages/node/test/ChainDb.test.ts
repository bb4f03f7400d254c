/**
 * The LMDB environment of a datadir as the operating system sees it: how its data file is mapped.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as ChainDb from "../src/ChainDb.ts"
import * as TempDir from "./TempDir.ts"

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
})
