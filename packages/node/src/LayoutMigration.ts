/**
 * Brings a datadir of layout 1 (blocks and TDs keyed by hash alone, as datadirs were written
 * before layouts were recorded) to the current layout (keyed by number and hash, a hash -> number
 * index: see ChainDb) when it is opened to write. Records move a bounded number at a time, each
 * lot in one write transaction that adds the new records and removes the old, and the layout is
 * recorded with the last lot: a migration killed at any moment leaves every block stored once, in
 * one layout or the other, and the next open that may write carries on where it stopped.
 *
 * @since 0.2.0
 */
import { ChainStore, Hash } from "@ethsync/core"
import { Effect } from "effect"
import * as ChainDb from "./ChainDb.ts"

/** Blocks moved in one write transaction: bounds the transaction's dirty pages (a few MiB of blocks). */
const blocksPerTransaction = 4096

/** What one lot of the migration did. */
interface Lot {
  /** The last hash key it moved, after which the next lot looks; undefined when it found none. */
  readonly last: Uint8Array | undefined
  /** Whether no layout-1 record was left, so the layout is recorded. */
  readonly done: boolean
}

/** The length of a block hash, and so of a layout-1 key. */
const hashLength = 32

/** The entries of a table, as LMDB counts them (no scan). */
const entries = (table: { getStats(): unknown } | undefined): number => {
  const stats = table?.getStats()
  return typeof stats === "object" && stats !== null && "entryCount" in stats && typeof stats.entryCount === "number" ? stats.entryCount : 0
}

/**
 * Moves up to `count` layout-1 records, the first whose hash keys come after `after`, to
 * their number-keyed places (inside a transaction); records the layout once none is left. The
 * hash keys are told from record keys by their length (32 bytes against 40), and are collected
 * before any write, so the table is not changed under its own cursor.
 */
const moveLot = (db: ChainDb.ChainDb, after: Uint8Array | undefined, count: number): Lot => {
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
  if (done) ChainDb.putLayout(db)
  return { last: hashes.at(-1), done }
}

/**
 * The datadir in the current layout: as it is when it is in it already or was opened to read
 * (reads then find layout-1 records by hash), else migrated first, `perTransaction` blocks at a
 * time, saying on stderr (as a log line) how many blocks it moves.
 */
export const migrate = (
  db: ChainDb.ChainDb,
  perTransaction: number = blocksPerTransaction
): Effect.Effect<ChainDb.ChainDb, ChainStore.StoreError> =>
  db.layout === ChainDb.currentLayout || db.readOnly
    ? Effect.succeed(db)
    : Effect.gen(function*() {
      const operation = `migrate datadir ${db.path} to layout ${ChainDb.currentLayout}`
      const left = yield* ChainDb.attempt(operation, () => entries(db.tds) - entries(db.numbers))
      yield* Effect.logInfo(`migrating datadir to layout ${ChainDb.currentLayout}: ${left} blocks`)
      let lot: Lot = { last: undefined, done: false }
      while (!lot.done) {
        const after = lot.last
        lot = yield* ChainDb.attempt(operation, () => ChainDb.transaction(db, () => moveLot(db, after, perTransaction)))
      }
      return ChainDb.withLayout(db, ChainDb.currentLayout)
    })
