/**
 * What the LMDB store adds to the ChainStore behaviour: a datadir that outlives the process (and
 * a process killed while it writes) and remembers which chain it holds.
 */
import { describe, expect, it } from "@effect/vitest"
import { ChainStore, Genesis, Hash, Hex, SealVerifier } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect, Layer, Option } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as ChainDb from "../src/ChainDb.ts"
import * as HashIndex from "../src/HashIndex.ts"
import * as LayoutMigration from "../src/LayoutMigration.ts"
import * as LmdbChainStore from "../src/LmdbChainStore.ts"
import * as ConcurrentWriters from "./ConcurrentWriters.ts"
import * as TempDir from "./TempDir.ts"
import * as TestChain from "./TestChain.ts"
import * as WriteLock from "./WriteLock.ts"

/** Generated chains carry made-up seals. */
const verifier = SealVerifier.none

describe("LmdbChainStore", () => {
  const genesis = TestChain.genesis()
  const chain = TestChain.extend(genesis, 30)

  it.effect("keeps the chain when reopened, in a folder whose name has dots", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "chain.v1.data")
      yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, genesis, verifier }), (store) => store.insert(chain)))
      const store = yield* LmdbChainStore.make({ path, readOnly: true })
      expect(Hash.toHex(store.genesis.hash)).toBe(Hash.toHex(genesis.hash))
      const head = yield* store.head
      expect(Hash.toHex(head.block.hash)).toBe(Hash.toHex(chain[29]!.hash))
      expect(head.td).toBe(TestChain.tdOf([genesis, ...chain]))
      expect(Fs.statSync(path).isDirectory()).toBe(true)
    }))

  it.effect("works as a layer that closes the datadir with it", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      const layer = LmdbChainStore.layer({ path, genesis }).pipe(Layer.provide(SealVerifier.layerNone))
      yield* Effect.provide(ChainStore.ChainStore.use((store) => store.insert(chain.slice(0, 5))), layer)
      const number = yield* Effect.provide(ChainStore.ChainStore.use((store) => store.head), layer)
      expect(number.block.number).toBe(5)
    }))

  it.effect("refuses another chain's genesis, naming both", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      yield* Effect.scoped(LmdbChainStore.make({ path, genesis, verifier }))
      const error = yield* Effect.flip(LmdbChainStore.make({ path, genesis: Genesis.mainnet, verifier }))
      expect(error._tag).toBe("GenesisMismatch")
      expect(error.message).toBe(
        `datadir ${path} holds chain with genesis ${Hash.toHex(genesis.hash)}, not ${Hash.toHex(Genesis.mainnetHash)}`
      )
      const kept = yield* LmdbChainStore.make({ path, initialGenesis: Genesis.mainnet, verifier })
      expect(Hash.toHex(kept.genesis.hash)).toBe(Hash.toHex(genesis.hash))
    }))

  it.effect("without a genesis, finds no chain in an empty or missing folder and creates nothing", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      expect((yield* Effect.flip(LmdbChainStore.make({ path: dir, verifier })))._tag).toBe("EmptyDatadir")
      expect(Fs.readdirSync(dir)).toEqual([])
      const missing = Path.join(dir, "missing")
      expect((yield* Effect.flip(LmdbChainStore.make({ path: missing, verifier })))._tag).toBe("EmptyDatadir")
      expect(Fs.existsSync(missing)).toBe(false)
    }))

  it.effect("reports a data file that is not an LMDB environment as a StoreError", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      Fs.writeFileSync(Path.join(dir, "data.mdb"), "not an LMDB environment, just text that is long enough".repeat(200))
      const error = yield* Effect.flip(LmdbChainStore.make({ path: dir, genesis, verifier }))
      expect(error._tag).toBe("StoreError")
    }))

  it.effect("opened to read only, writes nothing: an empty datadir stays empty and a new block is refused", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const empty = yield* Effect.flip(LmdbChainStore.make({ path: dir, genesis, readOnly: true }))
      expect(empty._tag).toBe("EmptyDatadir")
      expect(Fs.readdirSync(dir)).toEqual([])
      yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path: dir, genesis, verifier }), (store) => store.insert(chain.slice(0, 5))))
      const reader = yield* LmdbChainStore.make({ path: dir, genesis, readOnly: true })
      expect((yield* reader.head).block.number).toBe(5)
      expect(yield* reader.insert(chain.slice(0, 5))).toBe(0)
      const refused = yield* Effect.flip(reader.insert(chain.slice(5, 6)))
      expect(refused.message).toBe(`chain store: write to datadir ${dir} failed: it is open for reading only`)
      expect((yield* reader.head).block.number).toBe(5)
      expect((yield* Effect.flip(LmdbChainStore.make({ path: dir, genesis: Genesis.mainnet, readOnly: true })))._tag)
        .toBe("GenesisMismatch")
    }))

  it.effect("looks each new block up once, at its height, to insert it", () =>
    Effect.gen(function*() {
      const db = yield* LayoutMigration.migrate(yield* ChainDb.open(Path.join(yield* TempDir.make, "datadir"), "create"))
      /** The keys read in `tds`, in order, hex. */
      const reads: Array<string> = []
      /** The TD table of the datadir as it is now (a commit may drop the map, so the table is opened again), its reads counted. */
      const counted = (tds: ChainDb.ChainDb["tds"]) =>
        new Proxy(tds, {
          get: (target, property) => {
            if (property === "get") {
              return (key: Uint8Array) => {
                reads.push(Hex.fromBytes(key))
                return target.get(key)
              }
            }
            const value: unknown = Reflect.get(target, property)
            return typeof value === "function" ? value.bind(target) : value
          }
        })
      const watched: ChainDb.ChainDb = Object.create(db, { tds: { get: () => counted(db.tds) } })
      const store = yield* LmdbChainStore.fromChainDb(watched, { genesis }, verifier)
      const batch = chain.slice(0, 10)
      expect(yield* store.insert(batch)).toBe(10)
      for (const block of batch) {
        expect(reads.filter((read) => read === Hex.fromBytes(ChainDb.recordKey(block.number, block.hash)))).toHaveLength(1)
      }
      expect(Hash.toHex((yield* store.head).block.hash)).toBe(Hash.toHex(batch[9]!.hash))
    }))

  it.effect("commits no block whose hash index entry could not be written", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      yield* Effect.scoped(LmdbChainStore.make({ path, genesis, verifier }))
      const db = yield* LayoutMigration.migrate(yield* ChainDb.open(path, "write"))
      // An index that refuses writes, as a full disk would.
      const refusing = yield* HashIndex.open(path, true)
      const store = yield* LmdbChainStore.fromChainDb(Object.create(db, { index: { value: refusing } }), { genesis }, verifier)
      const failed = yield* Effect.flip(store.insert(chain.slice(0, 5)))
      expect(failed.message).toMatch(/hash index .* open for reading only/)
      for (const block of chain.slice(0, 5)) expect(ChainDb.td(db, block.hash, block.number)).toBeUndefined()
      expect((yield* store.head).block.number).toBe(0)
    }))

  it.effect("a reader finds by hash blocks written after a writer doubled the hash index under it", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      const writer = yield* LmdbChainStore.make({ path, genesis, verifier })
      const reader = yield* LmdbChainStore.make({ path, readOnly: true })
      const index = Path.join(path, HashIndex.fileName)
      const before = Fs.statSync(index).size
      const long = TestChain.extend(genesis, 6000)
      for (let i = 0; i < long.length; i += 1000) expect(yield* writer.insert(long.slice(i, i + 1000))).toBe(1000)
      expect(Fs.statSync(index).size).toBeGreaterThan(before)
      const last = long[long.length - 1]!
      expect(yield* reader.has(last.hash)).toBe(true)
      expect(Option.map(yield* reader.get(last.hash), (block) => block.number)).toEqual(Option.some(6000))
    }))

  it.effect("two processes inserting different chains into one datadir at once: every block of both found by hash", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      yield* Effect.scoped(LmdbChainStore.make({ path, genesis: ChainGenerator.testGenesis, verifier }))
      // 120 transactions each, the index doubling several times under both.
      const length = 3000
      const seeds = [1, 2]
      const outcomes = yield* Effect.promise(() => ConcurrentWriters.atOnce(seeds.map((seed) => [path, String(seed), String(length)]), 50_000))
      for (const { code, stderr } of outcomes) expect(code, stderr).toBe(0)
      const chains = yield* Effect.forEach(seeds, (seed) => ChainGenerator.generate(ChainGenerator.testGenesis, length, { seed }))
      expect(Hash.equals(chains[0]![0]!.hash, chains[1]![0]!.hash)).toBe(false)
      const reader = yield* LmdbChainStore.make({ path, readOnly: true })
      const missing: Array<number> = []
      for (const block of chains.flat()) if (!(yield* reader.has(block.hash))) missing.push(block.number)
      expect(missing).toEqual([])
      expect((yield* reader.head).block.number).toBe(length)
    }))

  it.effect("stores nothing of a batch whose write fails part way, and takes the batch whole once it can", () =>
    Effect.gen(function*() {
      const db = yield* ChainDb.open(Path.join(yield* TempDir.make, "datadir"), "create")
      const store = yield* LmdbChainStore.fromChainDb(db, { genesis }, verifier)
      expect(yield* store.insert(chain.slice(0, 5))).toBe(5)
      // Without its head record the write fails after the blocks are put, before the head is set.
      db.meta.removeSync("head")
      const failed = yield* Effect.flip(store.insert(chain.slice(5, 10)))
      expect(failed.message).toMatch(/the head record is missing/)
      for (const block of chain.slice(5, 10)) expect(yield* store.has(block.hash)).toBe(false)
      db.meta.putSync("head", chain[4]!.hash)
      expect(yield* store.insert(chain.slice(5, 10))).toBe(5)
      expect((yield* store.head).block.number).toBe(10)
    }))

  it.live("a write lock left by a process killed in a write transaction stops no later writer", () =>
    Effect.gen(function*() {
      const path = Path.join(yield* TempDir.make, "datadir")
      yield* Effect.scoped(Effect.flatMap(LmdbChainStore.make({ path, genesis, verifier }), (store) => store.insert(chain.slice(0, 5))))
      // Closing the scope kills the holder with SIGKILL while it is inside its transaction.
      yield* Effect.scoped(WriteLock.hold(path))
      const store = yield* LmdbChainStore.make({ path, genesis, verifier })
      expect(yield* store.insert(chain.slice(5, 10)).pipe(Effect.timeout("10 seconds"))).toBe(5)
      expect((yield* store.head).block.number).toBe(10)
    }))

  it.effect("stores the same blocks whether they come in one batch or many", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const whole = yield* LmdbChainStore.make({ path: Path.join(dir, "a"), genesis, verifier })
      const pieces = yield* LmdbChainStore.make({ path: Path.join(dir, "b"), genesis, verifier })
      expect(yield* whole.insert(chain)).toBe(30)
      for (let i = 0; i < 30; i += 7) yield* pieces.insert(chain.slice(i, i + 7))
      const a = yield* whole.head
      const b = yield* pieces.head
      expect([a.block.number, a.td]).toEqual([b.block.number, b.td])
    }))
})
