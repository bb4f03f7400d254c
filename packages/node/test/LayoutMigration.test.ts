/**
 * Datadirs written before layout 3: layout 1 (blocks and TDs keyed by hash alone, no layout
 * recorded) and layout 2 (the hash -> number index as the LMDB table `numbers`): read as they
 * are, migrated when opened to write (also after a migration cut short, and by several processes
 * opening at once); a lost hash index rebuilt; leftovers of a killed doubling removed; and layouts
 * this build does not know refused.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash, Hex, SealVerifier } from "@ethsync/core"
import { Effect, Logger, Option } from "effect"
import { open as openLmdb } from "lmdb"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as ChainDb from "../src/ChainDb.ts"
import * as HashIndex from "../src/HashIndex.ts"
import * as LayoutMigration from "../src/LayoutMigration.ts"
import * as LmdbChainStore from "../src/LmdbChainStore.ts"
import * as CliRunner from "./CliRunner.ts"
import * as ConcurrentWriters from "./ConcurrentWriters.ts"
import * as TempDir from "./TempDir.ts"
import * as TestChain from "./TestChain.ts"

/** Generated chains carry made-up seals. */
const verifier = SealVerifier.none

const genesis = TestChain.genesis()
/** The canonical chain above the genesis: 30 blocks, block 11 with an uncle. */
const canonical = (() => {
  const first = TestChain.extend(genesis, 10)
  const withUncle = TestChain.withUncles(first[9]!, [TestChain.uncleOf(first[8]!, 1)])
  return [...first, withUncle, ...TestChain.extend(withUncle, 19)]
})()
/** A lighter side chain of 3 blocks off block 10 (slower blocks, less difficulty): two blocks at heights 11 to 13. */
const side = TestChain.extend(canonical[9]!, 3, 20n)
/** Every block, the genesis first, parents before children. */
const all = [genesis, ...canonical, ...side]
/** A hash no datadir holds. */
const unknown = Hash.keccak(Uint8Array.of(1, 2, 3))

/** The total difficulty of each block by hash key. */
const tds = (() => {
  const byKey = new Map<string, bigint>()
  for (const block of all) byKey.set(block.key, (byKey.get(Hash.key(block.header.parentHash)) ?? 0n) + block.header.difficulty)
  return byKey
})()

/**
 * Writes a datadir as ethsync wrote an older layout. Layout 1 (before layouts were recorded):
 * `blocks` and `tds` keyed by block hash, `canonical` by number, `meta` with `head` and `genesis`,
 * and nothing else. Layout 2: `blocks` and `tds` keyed by number and hash, the `numbers` table
 * (hash -> number, 8 bytes big-endian), and `meta` with layout "2" besides.
 */
const writeOld = async (path: string, layout: 1 | 2): Promise<void> => {
  const env = openLmdb({ path, noSubdir: false, maxDbs: 5 })
  const blocks = env.openDB<Uint8Array, Uint8Array>({ name: "blocks", encoding: "binary", keyEncoding: "binary" })
  const tdTable = env.openDB<string, Uint8Array>({ name: "tds", encoding: "string", keyEncoding: "binary" })
  const numbers = layout === 2 ? env.openDB<Uint8Array, Uint8Array>({ name: "numbers", encoding: "binary", keyEncoding: "binary" }) : undefined
  const canonicalTable = env.openDB<Uint8Array, number>({ name: "canonical", encoding: "binary" })
  const meta = env.openDB<Uint8Array, string>({ name: "meta", encoding: "binary" })
  env.transactionSync(() => {
    for (const block of all) {
      const key = layout === 1 ? block.hash : ChainDb.recordKey(block.number, block.hash)
      blocks.putSync(key, block.rlp)
      tdTable.putSync(key, tds.get(block.key)!.toString())
      numbers?.putSync(block.hash, key.subarray(0, 8))
    }
    for (const block of [genesis, ...canonical]) canonicalTable.putSync(block.number, block.hash)
    meta.putSync("head", canonical[canonical.length - 1]!.hash)
    meta.putSync("genesis", genesis.hash)
    if (layout === 2) meta.putSync("layout", new TextEncoder().encode("2"))
  })
  await env.close()
}

/** A datadir of `all` in an older layout, in a new folder. */
const oldDatadir = (layout: 1 | 2) =>
  Effect.gen(function*() {
    const path = Path.join(yield* TempDir.make, "old")
    yield* Effect.promise(() => writeOld(path, layout))
    return path
  })

/** A layout-1 datadir of `all` in a new folder. */
const layout1Datadir = oldDatadir(1)

/** A layout-2 datadir of `all` in a new folder. */
const layout2Datadir = oldDatadir(2)

/**
 * Opens the layout-2 datadir at `path` to write and checks that it says it migrates, answers as
 * `reference` says and is then layout 3 with its index file beside LMDB's; the store, to go on with.
 */
const opensMigrated = (path: string, reference: Effect.Success<typeof expected>) =>
  Effect.gen(function*() {
    const logged: Array<string> = []
    const store = yield* logging(logged, LmdbChainStore.make({ path, genesis, verifier }))
    expect(logged).toEqual([`migrating datadir to layout 3: indexing ${all.length} blocks`])
    expect(yield* answers(store)).toEqual(reference)
    expect(yield* layoutOf(path)).toBe(3)
    expect(Fs.readdirSync(path).sort()).toEqual(["data.mdb", HashIndex.fileName, "lock.mdb"])
    return store
  })

/** The names of the tables of the environment at `path`. */
const tablesOf = (path: string): Array<string> => {
  const env = openLmdb({ path, noSubdir: false, maxDbs: 5, readOnly: true })
  try {
    return Array.from(env.getKeys(), String)
  } finally {
    void env.close()
  }
}

/**
 * `table` with its method `name` throwing at its `nth` call, as a process killed there would stop;
 * `calls` counts the calls so far.
 */
const killedAt = <T extends object>(table: T, name: keyof T & string, nth: number): { readonly table: T; readonly calls: () => number } => {
  let calls = 0
  const killed = new Proxy(table, {
    get: (target, property) => {
      const value: unknown = Reflect.get(target, property)
      if (typeof value !== "function") return value
      if (property !== name) return value.bind(target)
      return (...args: Array<unknown>) => {
        if (++calls === nth) throw new Error("killed")
        return Reflect.apply(value, target, args)
      }
    }
  })
  return { table: killed, calls: () => calls }
}

/** An Option of bytes as hex, "none" when empty. */
const hexOf = (bytes: Option.Option<Uint8Array>): string => Option.match(bytes, { onNone: () => "none", onSome: Hex.fromBytes })

/** Everything a store answers about `all`, an unknown hash and the heights around its chain, as plain values. */
const answers = (store: LmdbChainStore.Store) =>
  Effect.gen(function*() {
    const hashes = [...all.map((block) => block.hash), unknown]
    const ids = [...all, { number: 1, hash: unknown }]
    const byHash = []
    for (const hash of hashes) {
      byHash.push({
        has: yield* store.has(hash),
        get: hexOf(Option.map(yield* store.get(hash), (block) => block.rlp)),
        header: Option.match(yield* store.header(hash), { onNone: () => "none", onSome: (header) => Hash.toHex(header.hash) }),
        td: Option.match(yield* store.td(hash), { onNone: () => "none", onSome: String }),
        blockRlp: hexOf(Option.fromUndefinedOr((yield* store.blockRlps([hash], { blocks: 1, bytes: Infinity }))[0])),
        bodyRlp: hexOf(yield* store.bodyRlp(hash))
      })
    }
    const byNumber = []
    for (let number = 0; number <= canonical.length + 1; number++) {
      byNumber.push({
        block: hexOf(Option.map(yield* store.getByNumber(number), (block) => block.rlp)),
        rlp: hexOf(yield* store.canonicalRlp(number))
      })
    }
    // One GetBlocks-like read: runs forwards and back, the side chain, a jump back, unknown hashes between.
    const asked = [...all, ...[...all].reverse(), canonical[3]!, side[0]!, side[1]!, canonical[2]!, canonical[3]!]
    const runs = yield* store.blockRlps(asked.flatMap((block, i) => i % 5 === 4 ? [unknown, block.hash] : [block.hash]), {
      blocks: Infinity,
      bytes: Infinity
    })
    const head = yield* store.head
    return {
      head: [Hash.toHex(head.block.hash), String(head.td)],
      runsAnswered: runs.map(Hex.fromBytes).join() === asked.map((block) => Hex.fromBytes(block.rlp)).join(),
      byHash,
      byNumber,
      headerRlps: (yield* store.headerRlps(ids)).map(Hex.fromBytes),
      firstKnown: [yield* store.firstKnown([unknown, ...hashes]), yield* store.firstKnown([unknown])],
      canonicalHashes: (yield* store.canonicalHashes(0, canonical.length + 5)).map(Hash.toHex)
    }
  })

/** What a layout-2 store given the same blocks answers: what the old datadir must answer too. */
const expected = Effect.scoped(Effect.gen(function*() {
  const store = yield* LmdbChainStore.make({ path: Path.join(yield* TempDir.make, "new"), genesis, verifier })
  expect(yield* store.insert(all.slice(1))).toBe(all.length - 1)
  const reference = yield* answers(store)
  // Not vacuous: the reference holds the chain and the side chain, and read the runs right.
  expect(reference.runsAnswered).toBe(true)
  expect(reference.byHash.map((answer) => answer.blockRlp)).toEqual([...all.map((block) => Hex.fromBytes(block.rlp)), "none"])
  expect(reference.byNumber.map((answer) => answer.rlp)).toEqual([...[genesis, ...canonical].map((block) => Hex.fromBytes(block.rlp)), "none"])
  expect(reference.byHash.map((answer) => answer.td)).toEqual([...all.map((block) => String(tds.get(block.key))), "none"])
  return reference
}))

/** Runs `effect` with a logger that keeps its messages in `logged`. */
const logging = <A, E, R>(logged: Array<string>, effect: Effect.Effect<A, E, R>) =>
  Effect.provide(effect, Logger.layer([Logger.make(({ message }) => logged.push(String(message)))]))

/** The layout a datadir opened to read finds. */
const layoutOf = (path: string) => Effect.scoped(Effect.map(ChainDb.open(path, "read"), (db) => db.layout))

describe("LayoutMigration", () => {
  it.effect("migrates a layout-1 datadir once, when opened to write: every block, TD and canonical query answers as before", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const path = yield* layout1Datadir
      const logged: Array<string> = []
      // In lots of 5 blocks: 7 transactions, the last one short.
      const db = yield* logging(logged, Effect.flatMap(ChainDb.open(path, "write"), (opened) => LayoutMigration.migrate(opened, 5)))
      expect(logged).toEqual([`migrating datadir to layout 2: ${all.length} blocks`, `migrating datadir to layout 3: indexing ${all.length} blocks`])
      const store = yield* LmdbChainStore.fromChainDb(db, { genesis }, verifier)
      expect(yield* answers(store)).toEqual(reference)
      expect(yield* layoutOf(path)).toBe(3)
      // Once: a migrated datadir opens without a word, and takes new blocks.
      const again: Array<string> = []
      const reopened = yield* logging(again, LmdbChainStore.make({ path, genesis, verifier }))
      expect(again).toEqual([])
      const more = TestChain.extend(canonical[canonical.length - 1]!, 2)
      expect(yield* reopened.insert(more)).toBe(2)
      expect(Hash.toHex((yield* reopened.head).block.hash)).toBe(Hash.toHex(more[1]!.hash))
    }))

  it.effect("reads a layout-1 datadir opened to read as it is, writing nothing", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const path = yield* layout1Datadir
      const store = yield* LmdbChainStore.make({ path, readOnly: true })
      expect(yield* answers(store)).toEqual(reference)
      expect(yield* layoutOf(path)).toBe(1)
    }))

  it.effect("finishes a migration cut short by the next open, losing nothing, and reads the half-way datadir meanwhile", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const path = yield* layout1Datadir
      yield* Effect.scoped(Effect.gen(function*() {
        const db = yield* ChainDb.open(path, "write")
        if (db.numbers === undefined) return expect.unreachable("a datadir opened to write has a numbers table")
        // The index refuses its 13th entry: the second lot of 8 fails half-way, as a process killed inside it would.
        const numbers = killedAt(db.numbers, "putSync", 13)
        const failed = yield* Effect.flip(LayoutMigration.migrate({ ...db, numbers: numbers.table }, 8))
        expect(failed.message).toMatch(/killed/)
        // The first lot is in, the second not at all: 8 blocks moved, none lost or doubled.
        expect(db.numbers.getKeysCount()).toBe(8)
        expect(db.tds.getKeysCount()).toBe(all.length)
        expect(db.blocks.getKeysCount()).toBe(all.length)
      }))
      expect(yield* layoutOf(path)).toBe(1)
      expect(yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, readOnly: true }), answers))).toEqual(reference)
      const logged: Array<string> = []
      const store = yield* logging(logged, LmdbChainStore.make({ path, genesis, verifier }))
      expect(logged).toEqual([`migrating datadir to layout 2: ${all.length - 8} blocks`, `migrating datadir to layout 3: indexing ${all.length} blocks`])
      expect(yield* answers(store)).toEqual(reference)
      expect(yield* layoutOf(path)).toBe(3)
    }))

  it.live("through the CLI: exports a layout-1 datadir byte-identical, says the migration once on stderr, and exports the same after", () =>
    Effect.gen(function*() {
      const path = yield* layout1Datadir
      const dir = Path.dirname(path)
      const chainFile = Path.join(dir, "chain.rlp")
      const longer = [genesis, ...canonical, ...TestChain.extend(canonical[canonical.length - 1]!, 5)]
      Fs.writeFileSync(chainFile, TestChain.fileBytes(longer))
      const before = Path.join(dir, "before.rlp")
      expect((yield* CliRunner.run(["export", "--datadir", path, before])).code).toBe(0)
      expect(Fs.readFileSync(before).equals(TestChain.fileBytes([genesis, ...canonical]))).toBe(true)
      const imported = yield* CliRunner.run(["import", "--verify-seals", "none", "--datadir", path, chainFile])
      expect(imported.code).toBe(0)
      expect(imported.stderr.filter((line) => line.includes("migrating"))).toEqual([
        expect.stringContaining(`migrating datadir to layout 2: ${all.length} blocks`),
        expect.stringContaining(`migrating datadir to layout 3: indexing ${all.length} blocks`)
      ])
      const after = Path.join(dir, "after.rlp")
      expect((yield* CliRunner.run(["export", "--datadir", path, after])).code).toBe(0)
      expect(Fs.readFileSync(after).equals(Fs.readFileSync(chainFile))).toBe(true)
    }))

  it.effect("refuses a datadir whose layout this build does not know, naming it, whether opened to read or to write", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      yield* Effect.scoped(LmdbChainStore.make({ path, genesis, verifier }))
      yield* Effect.scoped(Effect.flatMap(ChainDb.open(path, "write"), (db) =>
        ChainDb.attempt("record layout 4", () => ChainDb.transaction(db, () => db.meta.putSync("layout", new TextEncoder().encode("4"))))))
      for (const opening of [LmdbChainStore.make({ path, genesis, verifier }), LmdbChainStore.make({ path, readOnly: true })]) {
        const error = yield* Effect.flip(Effect.scoped(opening))
        expect(error._tag).toBe("UnknownLayout")
        expect(error.message).toBe(
          `datadir ${path} has layout "4", which this ethsync does not know (it reads layouts 1, 2 and 3; was it written by a newer ethsync?)`
        )
      }
      const status = yield* CliRunner.run(["status", "--datadir", path])
      expect(status.code).toBe(2)
      expect(status.stderr).toEqual([`ethsync: datadir ${path} has layout "4", which this ethsync does not know (it reads layouts 1, 2 and 3; was it written by a newer ethsync?)`])
    }))

  it.effect("reads a layout-2 datadir opened to read through its numbers table, writing nothing", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const path = yield* layout2Datadir
      expect(yield* answers(yield* LmdbChainStore.make({ path, readOnly: true }))).toEqual(reference)
      expect(yield* layoutOf(path)).toBe(2)
      expect(Fs.readdirSync(path).sort()).toEqual(["data.mdb", "lock.mdb"])
    }))

  it.effect("migrates a layout-2 datadir to layout 3 when opened to write: the index file built, the numbers table dropped, every query as before", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const path = yield* layout2Datadir
      const store = yield* opensMigrated(path, reference)
      expect(tablesOf(path)).not.toContain("numbers")
      const more = TestChain.extend(canonical[canonical.length - 1]!, 2)
      expect(yield* store.insert(more)).toBe(2)
      expect(yield* store.has(more[1]!.hash)).toBe(true)
    }))

  it.effect("a layout-2 migration killed between lots leaves layout 2 readable, and the next open to write finishes it", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const path = yield* layout2Datadir
      yield* Effect.scoped(Effect.gen(function*() {
        const db = yield* ChainDb.open(path, "write")
        // The second lot's read fails, as a process killed after the first lot would stop there.
        const tds = killedAt(db.tds, "getKeys", 2)
        const failed = yield* Effect.flip(LayoutMigration.migrate({ ...db, tds: tds.table }, 4096, 8))
        expect(failed.message).toMatch(/killed/)
        expect(tds.calls()).toBe(2)
      }))
      expect(yield* layoutOf(path)).toBe(2)
      expect(tablesOf(path)).toContain("numbers")
      expect(yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, readOnly: true }), answers))).toEqual(reference)
      yield* opensMigrated(path, reference)
    }))

  it.effect("rebuilds a lost or damaged hash index from the blocks when opened to write, saying so; a reader meanwhile names what is wrong", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const damages: Array<[(file: string) => void, string]> = [
        [(file) => Fs.rmSync(file), `chain store: open datadir {path} failed: its hash index ${HashIndex.fileName} is missing (opening the datadir to write, as import does, rebuilds it)`],
        [(file) => Fs.writeFileSync(file, "NOTANIDX", { flag: "r+" }), `its header does not start with "ETHSYNCX" (opening the datadir to write, as import does, rebuilds it)`]
      ]
      for (const [damage, said] of damages) {
        const path = Path.join(yield* TempDir.make, "datadir")
        yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, genesis, verifier }), (store) => store.insert(all.slice(1))))
        damage(Path.join(path, HashIndex.fileName))
        const reader = yield* Effect.flip(Effect.scoped(LmdbChainStore.make({ path, readOnly: true })))
        expect(reader.message).toContain(said.replace("{path}", path))
        const logged: Array<string> = []
        yield* Effect.scoped(Effect.gen(function*() {
          const store = yield* logging(logged, LmdbChainStore.make({ path, genesis, verifier }))
          expect(logged).toEqual([`datadir ${path} has no usable hash index (missing or damaged): rebuilding it from its ${all.length} blocks`])
          expect(yield* answers(store)).toEqual(reference)
        }))
        expect(yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, readOnly: true }), answers))).toEqual(reference)
      }
    }))

  it.effect("four processes opening one layout-1 or layout-2 datadir, or one that lost its index, at once all succeed: layout 3, the index whole, nothing left over", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const lostIndex = Effect.gen(function*() {
        const path = Path.join(yield* TempDir.make, "datadir")
        yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, genesis, verifier }), (store) => store.insert(all.slice(1))))
        Fs.rmSync(Path.join(path, HashIndex.fileName))
        return path
      })
      for (const path of [yield* layout1Datadir, yield* layout2Datadir, yield* lostIndex]) {
        const outcomes = yield* Effect.promise(() => ConcurrentWriters.atOnce([path, path, path, path].map((dir) => [dir]), 50_000))
        for (const { code, stdout, stderr } of outcomes) {
          expect(code, stderr).toBe(0)
          // Log lines (the migration's, by whichever did it) come before.
          expect(stdout).toMatch(new RegExp(`^done ${canonical.length}$`, "m"))
        }
        expect(yield* layoutOf(path)).toBe(3)
        expect(tablesOf(path)).not.toContain("numbers")
        expect(Fs.readdirSync(path).sort()).toEqual(["data.mdb", HashIndex.fileName, "lock.mdb"])
        expect(yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, readOnly: true }), answers))).toEqual(reference)
      }
    }))

  it.effect("removes what a killed doubling or build of the index left when opened to write, not when opened to read", () =>
    Effect.gen(function*() {
      const reference = yield* expected
      const path = Path.join(yield* TempDir.make, "datadir")
      yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, genesis, verifier }), (store) => store.insert(all.slice(1))))
      const left = [".new", ".build"].map((suffix) => Path.join(path, HashIndex.fileName + suffix))
      for (const file of left) Fs.writeFileSync(file, "half a doubling")
      yield* Effect.scoped(LmdbChainStore.make({ path, readOnly: true }))
      expect(left.every((file) => Fs.existsSync(file))).toBe(true)
      expect(yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, genesis, verifier }), answers))).toEqual(reference)
      expect(Fs.readdirSync(path).sort()).toEqual(["data.mdb", HashIndex.fileName, "lock.mdb"])
    }))
})
