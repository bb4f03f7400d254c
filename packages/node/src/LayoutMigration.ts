/**
 * Brings a datadir of an older layout to the current one (layout 3: see ChainDb) when it is
 * opened to write, and builds the hash index of a layout-3 datadir that has lost it (or whose
 * index file is damaged: its header or size does not check out).
 *
 * Layout 1 (blocks and TDs keyed by hash alone, as datadirs were written before layouts were
 * recorded) to 2 (keyed by number and hash, the LMDB table `numbers` as the hash -> number index):
 * records move a bounded number at a time, each lot in one write transaction that adds the new
 * records and removes the old, and layout 2 is recorded with the last lot: a migration killed at
 * any moment leaves every block stored once, in one layout or the other, and the next open that
 * may write carries on where it stopped.
 *
 * Layout 2 to 3 (the index in the file `hashes.idx`, out of LMDB's map): in one write transaction,
 * which first looks again (under the write lock) whether another process opening the datadir has
 * done it meanwhile, the index is built from the record keys of `tds` (number and hash, the same
 * keys as `blocks`, in a table of small values that reads fewer pages), a lot at a time, into a
 * file of its own that is renamed into place once whole (HashIndex.build); then `numbers` is
 * dropped and layout 3 recorded. Killed before that transaction commits, the datadir is still in
 * layout 2 and the next open builds the index again. A layout-3 datadir without its index file
 * gets it built the same way; what a killed doubling or build left is removed under the lock too.
 *
 * @since 0.2.0
 */
import { ChainStore, Hash } from "@ethsync/core"
import { Effect, type Scope } from "effect"
import * as BlockNumberBytes from "./BlockNumberBytes.ts"
import { UnknownLayout } from "./DatadirError.ts"
import * as ChainDb from "./ChainDb.ts"
import * as HashIndex from "./HashIndex.ts"

/** Blocks moved in one write transaction: bounds the transaction's dirty pages (a few MiB of blocks). */
const blocksPerTransaction = 4096

/** Blocks read into the hash index at a time when it is built: bounds the entries held (a few MiB). */
const blocksPerLot = 65536

/** What one lot of the migration did. */
interface Lot {
  /** The last hash key it moved, after which the next lot looks; undefined when it found none. */
  readonly last: Uint8Array | undefined
  /** Whether no layout-1 record was left, so the layout is recorded. */
  readonly done: boolean
}

/** The length of a block hash, and so of a layout-1 key. */
const hashLength = 32

/** The length of a record key: the number (8 bytes), then the hash. */
const recordKeyLength = BlockNumberBytes.length + hashLength

/** The entries of a table, as LMDB counts them (no scan). */
const entries = (table: { getStats(): unknown } | undefined): number => {
  const stats = table?.getStats()
  return typeof stats === "object" && stats !== null && "entryCount" in stats && typeof stats.entryCount === "number" ? stats.entryCount : 0
}

/**
 * Moves up to `count` layout-1 records, the first whose hash keys come after `after`, to
 * their number-keyed places (inside a transaction); records layout 2 once none is left. The
 * hash keys are told from record keys by their length (32 bytes against 40), and are collected
 * before any write, so the table is not changed under its own cursor. Moves nothing once the
 * datadir records a later layout (another process migrated it meanwhile).
 */
const moveLot = (db: ChainDb.ChainDb, after: Uint8Array | undefined, count: number): Lot => {
  if (ChainDb.storedLayout(db.path, db.meta) !== 1) return { last: undefined, done: true }
  const hashes: Array<Hash.Hash> = []
  for (const key of db.tds.getKeys(after === undefined ? {} : { start: after })) {
    if (key.length !== hashLength) continue
    hashes.push(Hash.makeUnsafe(new Uint8Array(key)))
    if (hashes.length === count) break
  }
  for (const hash of hashes) {
    const rlp = db.blocks.get(hash)
    const td = db.tds.get(hash)
    if (rlp === undefined || td === undefined) {
      throw new ChainStore.StoreError({ operation: `migrate block ${Hash.toHex(hash)}`, reason: "its block or its TD is missing" })
    }
    ChainDb.putNewRecords(db, ChainDb.headerOf(rlp, hash).number, hash, rlp, td)
    db.blocks.removeSync(hash)
    db.tds.removeSync(hash)
  }
  const done = hashes.length < count
  if (done) ChainDb.putLayout(db, 2)
  return { last: hashes.at(-1), done }
}

/** Brings a layout-1 datadir opened to write to layout 2, `perTransaction` blocks at a time. */
const toLayout2 = (db: ChainDb.ChainDb, perTransaction: number): Effect.Effect<ChainDb.ChainDb, ChainStore.StoreError> =>
  Effect.gen(function*() {
    const operation = `migrate datadir ${db.path} to layout 2`
    const left = yield* ChainDb.attempt(operation, () => entries(db.tds) - entries(db.numbers))
    yield* Effect.logInfo(`migrating datadir to layout 2: ${left} blocks`)
    let lot: Lot = { last: undefined, done: false }
    while (!lot.done) {
      const after = lot.last
      lot = yield* ChainDb.attempt(operation, () => ChainDb.transaction(db, () => moveLot(db, after, perTransaction)))
    }
    return ChainDb.withLayout(db, 2, undefined)
  })

/** The blocks of up to `count` record keys of `tds` after `after` (all from the first when undefined). */
const blocksAfter = (db: ChainDb.ChainDb, after: Uint8Array | undefined, count: number): Array<ChainStore.BlockId> => {
  const ids: Array<ChainStore.BlockId> = []
  for (const key of db.tds.getKeys(after === undefined ? {} : { start: after })) {
    if (key.length !== recordKeyLength || (after !== undefined && Buffer.compare(key, after) === 0)) continue
    ids.push({ number: BlockNumberBytes.read(key, 0), hash: Hash.makeUnsafe(new Uint8Array(key.subarray(BlockNumberBytes.length))) })
    if (ids.length === count) break
  }
  return ids
}

/** Builds the hash index of the datadir from the record keys of `tds`, `perLot` blocks at a time (inside a transaction). */
const buildIndex = (db: ChainDb.ChainDb, perLot: number): void =>
  HashIndex.build(db.path, entries(db.tds), (add) => {
    let after: Uint8Array | undefined
    while (true) {
      const ids = blocksAfter(db, after, perLot)
      if (ids.length === 0) return
      add(ids)
      const last = ids[ids.length - 1]!
      after = ChainDb.recordKey(last.number, last.hash)
    }
  })

/**
 * Under the write lock (inside a transaction): builds the index and, in layout 2, records layout
 * 3, unless the datadir is in layout 3 with its index already (another process did it first);
 * drops `numbers` and removes what a killed doubling or build left either way.
 */
const settleIndex = (db: ChainDb.ChainDb, perLot: number): void => {
  const layout = ChainDb.storedLayout(db.path, db.meta)
  if (layout instanceof UnknownLayout) {
    throw new ChainStore.StoreError({ operation: `migrate datadir ${db.path} to layout 3`, reason: `another process recorded layout ${layout.layout}` })
  }
  HashIndex.removeLeftovers(db.path)
  ChainDb.dropNumbers(db)
  if (layout === 3 && HashIndex.usable(db.path)) return
  buildIndex(db, perLot)
  if (layout === 2) ChainDb.putLayout(db, 3)
}

/**
 * The datadir in the current layout with its hash index: as it is when opened to read (reads
 * then find older layouts' records as they are), else migrated first (layout 1 moved
 * `perTransaction` blocks at a time, the index built `perLot` at a time), or its missing or
 * damaged index built, or what a killed doubling or build left removed, saying on stderr (as a log line) what
 * it does. Several processes may open one datadir at once: one does the work, the others find it
 * done. The index is closed with the scope.
 */
export const migrate = (
  opened: ChainDb.ChainDb,
  perTransaction: number = blocksPerTransaction,
  perLot: number = blocksPerLot
): Effect.Effect<ChainDb.ChainDb, ChainStore.StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    if (opened.readOnly) return opened
    if (opened.layout === 3 && opened.index !== undefined) {
      if (HashIndex.leftovers(opened.path).length === 0) return opened
      yield* ChainDb.attempt(`remove leftovers of datadir ${opened.path}`, () => ChainDb.transaction(opened, () => HashIndex.removeLeftovers(opened.path)))
      return opened
    }
    const db = opened.layout === 1 ? yield* toLayout2(opened, perTransaction) : opened
    const blocks = yield* ChainDb.attempt(`read the blocks of datadir ${db.path}`, () => entries(db.tds))
    if (db.layout === 2) yield* Effect.logInfo(`migrating datadir to layout 3: indexing ${blocks} blocks`)
    else if (blocks > 0) yield* Effect.logWarning(`datadir ${db.path} has no usable hash index (missing or damaged): rebuilding it from its ${blocks} blocks`)
    yield* ChainDb.attempt(`migrate datadir ${db.path} to layout 3`, () => ChainDb.transaction(db, () => settleIndex(db, perLot)))
    const opening = yield* HashIndex.open(db.path, false)
    if (opening === undefined) {
      return yield* new ChainStore.StoreError({ operation: `migrate datadir ${db.path} to layout 3`, reason: `its hash index ${HashIndex.fileName} is gone once built` })
    }
    return ChainDb.withLayout(db, 3, opening)
  })
