/**
 * A ChainStore on LMDB in a datadir folder. Every batch is checked by BatchValidation (so it
 * accepts exactly the blocks the memory store accepts) and lands in one LMDB transaction: its
 * blocks, their TDs, the canonical index (rewritten back to the fork point when a heavier fork
 * wins) and the head. A crash at any moment, `kill -9` included, leaves the last committed batch.
 * After a commit that left the data file's map grown, the map is dropped (MapDrop), every read and
 * write waiting meanwhile.
 * Opened to read only, it writes nothing and never waits on a writer. A store that may write is
 * given its seal verifier explicitly (`make`) or takes it from the context (`layer`): which seals
 * are real is the caller's knowledge, so no default is guessed.
 *
 * @since 0.1.0
 */
import { BatchValidation, type Block, ChainStore, Hash, SealVerifier } from "@ethsync/core"
import { Effect, Layer, Option, type Scope } from "effect"
import * as ChainDb from "./ChainDb.ts"
import { type DatadirUnreadable, EmptyDatadir, GenesisMismatch, type UnknownLayout } from "./DatadirError.ts"
import * as LayoutMigration from "./LayoutMigration.ts"
import * as MapDrop from "./MapDrop.ts"

/** Where the datadir is and which chain it must hold. */
export interface Location {
  /** The datadir's folder; made when missing and a genesis is given. */
  readonly path: string
  /**
   * The chain the datadir must hold: an empty datadir starts from it, one holding another
   * chain is refused. Without it, the datadir's own chain is served (it must have one).
   */
  readonly genesis?: Block.Block | undefined
  /** Starts an empty datadir when `genesis` is not given; ignored by a datadir that holds a chain. */
  readonly initialGenesis?: Block.Block | undefined
}

/** How a datadir is opened: to read only, or to write with a seal verifier. */
export type Options = Location & (
  | {
    /**
     * Only read: nothing is ever written (an empty datadir stays empty, `insert` of a new block
     * fails, so it checks no seals), no writer is waited on, and a datadir the user may only
     * read can be opened.
     */
    readonly readOnly: true
  }
  | {
    /** Reads and writes. */
    readonly readOnly?: false | undefined
    /** Checks the seals of every inserted block and its uncles before they are stored. */
    readonly verifier: SealVerifier.Shape
  }
)

/** The genesis a datadir must hold or may start from. */
export type GenesisOptions = Pick<Location, "genesis" | "initialGenesis">

/** The LMDB ChainStore, with a read that skips decoding. */
export interface Store extends ChainStore.Shape {
  /** The stored bytes of the canonical block at a height, as they were written (not decoded). */
  readonly canonicalRlp: (number: number) => Effect.Effect<Option.Option<Uint8Array>, ChainStore.StoreError>
}

/** Why a datadir cannot serve as a ChainStore. */
export type OpenError = GenesisMismatch | EmptyDatadir | DatadirUnreadable | UnknownLayout | ChainStore.StoreError

/** The head as the canonical-index update needs it. */
interface Tip {
  /** The head block's hash. */
  readonly hash: Hash.Hash
  /** Its number. */
  readonly number: number
  /** Its total difficulty. */
  readonly td: bigint
}

/** Reads the head record; a datadir with a genesis always has one. */
const readTip = (db: ChainDb.ChainDb): Tip => {
  const hash = ChainDb.metaHash(db, "head")
  const td = hash && ChainDb.td(db, hash)
  const header = hash && ChainDb.header(db, hash)
  if (!hash || td === undefined || !header) throw new ChainStore.StoreError({ operation: "read the head", reason: "the head record is missing" })
  return { hash, number: header.number, td }
}

/**
 * Makes `tip` the head: removes canonical entries above it, then walks back from it writing the
 * index until it meets the canonical chain. `fresh` holds this batch's blocks by hash key.
 */
const setHead = (db: ChainDb.ChainDb, tip: Tip, old: Tip, fresh: ReadonlyMap<string, Block.Block>): void => {
  for (let number = tip.number + 1; number <= old.number; number++) ChainDb.removeCanonical(db, number)
  let hash = tip.hash
  for (let number = tip.number; number >= 0; number--) {
    const current = ChainDb.canonicalHash(db, number)
    if (current && Hash.equals(current, hash)) break
    ChainDb.putCanonical(db, number, hash)
    const header = fresh.get(Hash.key(hash))?.header ?? ChainDb.header(db, hash, number)
    if (!header) throw new ChainStore.StoreError({ operation: "update the canonical index", reason: `block ${Hash.toHex(hash)} is missing` })
    hash = header.parentHash
  }
  ChainDb.putMetaHash(db, "head", tip.hash)
}

/**
 * Writes accepted blocks and, if one beats the head's TD, the new head, in one transaction
 * flushed to disk off the main thread, their hash index entries first (synced under the write
 * lock: ChainDb.indexBlocks). Succeeds with how many were new: another process may have written
 * some since they were validated (LMDB tells as it writes them, so they are not read again).
 */
const write = (db: ChainDb.ChainDb, accepted: ReadonlyArray<BatchValidation.Accepted>): Effect.Effect<number, ChainStore.StoreError> =>
  ChainDb.transactionFlushed(db, `write ${accepted.length} blocks`, () => {
    ChainDb.indexBlocks(db, accepted.map(({ block }) => block))
    const fresh = new Map<string, Block.Block>()
    for (const { block, td } of accepted) if (ChainDb.putNewBlock(db, block, td)) fresh.set(block.key, block)
    const old = readTip(db)
    let best: BatchValidation.Accepted | undefined
    for (const entry of accepted) if (entry.td > (best?.td ?? old.td)) best = entry
    if (best) setHead(db, { hash: best.block.hash, number: best.block.number, td: best.td }, old, fresh)
    return fresh.size
  })

/**
 * Makes `start` the genesis and head of an empty datadir, in the current layout, in one
 * transaction; returns the genesis the datadir then holds (another process may have started it first).
 */
const initialise = (db: ChainDb.ChainDb, start: Block.Block): Hash.Hash =>
  ChainDb.transaction(db, () => {
    const existing = ChainDb.metaHash(db, "genesis")
    if (existing) return existing
    ChainDb.indexBlocks(db, [start])
    ChainDb.putLayout(db)
    ChainDb.putNewBlock(db, start, start.header.difficulty)
    ChainDb.putCanonical(db, 0, start.hash)
    ChainDb.putMetaHash(db, "head", start.hash)
    ChainDb.putMetaHash(db, "genesis", start.hash)
    return start.hash
  })

/**
 * Checks the genesis a datadir holds or, when it holds none and may be written, starts it from
 * its first genesis; returns the datadir's genesis. Writes only to start an empty datadir.
 */
const settleGenesis = (db: ChainDb.ChainDb, options: GenesisOptions): Effect.Effect<Block.Block, GenesisMismatch | EmptyDatadir | ChainStore.StoreError> =>
  Effect.gen(function*() {
    const existing = yield* ChainDb.attempt(`read the genesis of datadir ${db.path}`, () => ChainDb.metaHash(db, "genesis"))
    const start = db.readOnly ? undefined : options.genesis ?? options.initialGenesis
    const stored = existing ??
      (start === undefined ? undefined : yield* ChainDb.attempt(`initialise datadir ${db.path}`, () => initialise(db, start)))
    if (!stored) return yield* new EmptyDatadir({ path: db.path })
    if (options.genesis && !Hash.equals(stored, options.genesis.hash)) {
      return yield* new GenesisMismatch({ path: db.path, stored: Hash.toHex(stored), wanted: Hash.toHex(options.genesis.hash) })
    }
    const genesis = yield* ChainDb.attempt("read the genesis block", () => ChainDb.block(db, stored))
    return genesis ?? (yield* new ChainStore.StoreError({ operation: "read the genesis block", reason: "it is missing" }))
  })

/**
 * Opens the datadir as a ChainStore, closing it with the scope. Fails with GenesisMismatch when
 * it holds another chain than `options.genesis`, EmptyDatadir when it holds none and none may be
 * started, DatadirUnreadable when the system will not let it be read, StoreError when LMDB
 * cannot open it.
 */
export const make = (options: Options): Effect.Effect<Store, OpenError, Scope.Scope> =>
  Effect.flatMap(
    ChainDb.open(
      options.path,
      options.readOnly ? "read" : (options.genesis ?? options.initialGenesis) !== undefined ? "create" : "write"
    ),
    (db) => fromChainDb(db, options, options.readOnly ? SealVerifier.none : options.verifier)
  )

/**
 * The ChainStore of an open datadir, which migrates it to the current layout when it may write
 * (LayoutMigration; its hash index is closed with the scope), checks or starts its genesis
 * (writing only to start an empty one) and checks the seals of inserted blocks with `verifier`.
 * `make` opens the datadir and calls it.
 */
export const fromChainDb = (
  opened: ChainDb.ChainDb,
  options: GenesisOptions,
  verifier: SealVerifier.Shape
): Effect.Effect<Store, GenesisMismatch | EmptyDatadir | ChainStore.StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const db = yield* LayoutMigration.migrate(opened)
    const genesis = yield* settleGenesis(db, options)
    const { use, committed } = yield* MapDrop.make(db)
    /** A synchronous use of the datadir, its throws as StoreErrors. */
    const read = <A>(operation: string, f: () => A) => use(ChainDb.attempt(operation, f))

    const lookup = (hash: Hash.Hash, _key: string, number: number | undefined): BatchValidation.Known | undefined => {
      const td = ChainDb.td(db, hash, number)
      if (td === undefined) return undefined
      const ancestor = ChainDb.ancestor(db, hash, number)
      return ancestor && { header: ancestor.header, uncles: ancestor.uncles, td }
    }

    const store: Store = {
      genesis,
      has: (hash) => read("look a block up", () => ChainDb.has(db, hash)),
      firstKnown: (hashes) => read("look blocks up", () => hashes.findIndex((hash) => ChainDb.has(db, hash))),
      get: (hash) => read("read a block", () => Option.fromUndefinedOr(ChainDb.block(db, hash))),
      getByNumber: (number) =>
        read(`read canonical block ${number}`, () => {
          const hash = ChainDb.canonicalHash(db, number)
          return Option.fromUndefinedOr(hash && ChainDb.block(db, hash))
        }),
      canonicalRlp: (number) =>
        read(`read canonical block ${number}`, () => Option.fromUndefinedOr(ChainDb.canonicalBlockRlp(db, number))),
      canonicalHashes: (first, count) =>
        read(`read canonical hashes from ${first}`, () => ChainDb.canonicalHashes(db, first, first + count)),
      header: (hash) => read("read a header", () => Option.fromUndefinedOr(ChainDb.header(db, hash))),
      blockRlps: (hashes, limits) => read("read blocks", () => ChainStore.collectRlps(hashes, limits, ChainDb.blockReader(db))),
      headerRlps: (ids) => read("read headers", () => ChainDb.headerRlps(db, ids)),
      bodyRlp: (hash) => read("read a body", () => Option.fromUndefinedOr(ChainDb.bodyRlp(db, hash))),
      td: (hash) => read("read a total difficulty", () => Option.fromUndefinedOr(ChainDb.td(db, hash))),
      head: read("read the head", (): ChainStore.Head => {
        const tip = readTip(db)
        const block = ChainDb.block(db, tip.hash)
        if (!block) throw new ChainStore.StoreError({ operation: "read the head", reason: "the head block is missing" })
        return { block, td: tip.td }
      }),
      insert: (batch) =>
        Effect.gen(function*() {
          const { written, failure } = yield* use(Effect.gen(function*() {
            const readFailures: Array<unknown> = []
            const guardedLookup = (hash: Hash.Hash, key: string, number: number | undefined) => {
              try {
                return lookup(hash, key, number)
              } catch (error) {
                readFailures.push(error)
                return undefined
              }
            }
            // Interruptible even for a caller that runs the insert uninterruptibly: nothing is written yet.
            const { accepted, failure } = yield* Effect.interruptible(BatchValidation.validate(batch, guardedLookup, verifier))
            if (readFailures.length > 0) return yield* ChainDb.storeError("read blocks to validate", readFailures[0])
            // Not interruptible: a commit under way cannot be taken back, so the insert reports it once durable.
            const written = accepted.length === 0 ? 0 : yield* Effect.uninterruptible(write(db, accepted))
            return { written, failure }
          }))
          if (written > 0) yield* committed
          if (failure) return yield* failure
          return written
        })
    }
    return store
  })

/**
 * The LMDB store as a layer: opens the datadir at `path` for the chain of `genesis`, checking
 * seals with the SealVerifier of the context; closes it with the layer.
 */
export const layer = (options: { readonly path: string; readonly genesis: Block.Block }): Layer.Layer<ChainStore.ChainStore, OpenError, SealVerifier.SealVerifier> =>
  Layer.effect(ChainStore.ChainStore, Effect.flatMap(SealVerifier.SealVerifier, (verifier) => make({ ...options, verifier })))
