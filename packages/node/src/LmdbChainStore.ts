/**
 * A ChainStore on LMDB in a datadir folder. Every batch is checked by BatchValidation (so it
 * accepts exactly the blocks the memory store accepts) and lands in one LMDB transaction: its
 * blocks, their TDs, the canonical index (rewritten back to the fork point when a heavier fork
 * wins) and the head. A crash at any moment, `kill -9` included, leaves the last committed batch.
 *
 * @since 0.1.0
 */
import { BatchValidation, type Block, ChainStore, Hash, type Head, type Shape, StoreError } from "@ethsync/core"
import { Effect, Layer, Option, type Scope } from "effect"
import * as ChainDb from "./ChainDb.ts"
import { EmptyDatadir, GenesisMismatch } from "./DatadirError.ts"

/** Where the datadir is and which chain it must hold. */
export interface Options {
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
  if (!hash || td === undefined || !header) throw new StoreError({ operation: "read the head", reason: "the head record is missing" })
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
    const header = fresh.get(Hash.key(hash))?.header ?? ChainDb.header(db, hash)
    if (!header) throw new StoreError({ operation: "update the canonical index", reason: `block ${Hash.toHex(hash)} is missing` })
    hash = header.parentHash
  }
  ChainDb.putMetaHash(db, "head", tip.hash)
}

/**
 * Writes accepted blocks and, if one beats the head's TD, the new head, in one transaction.
 * Returns how many were new: another process may have written some since they were validated.
 */
const write = (db: ChainDb.ChainDb, accepted: ReadonlyArray<BatchValidation.Accepted>): number =>
  ChainDb.transaction(db, () => {
    const fresh = new Map<string, Block.Block>()
    for (const { block, td } of accepted) {
      if (ChainDb.td(db, block.hash) !== undefined) continue
      ChainDb.putBlock(db, block, td)
      fresh.set(block.key, block)
    }
    const old = readTip(db)
    let best: BatchValidation.Accepted | undefined
    for (const entry of accepted) if (entry.td > (best?.td ?? old.td)) best = entry
    if (best) setHead(db, { hash: best.block.hash, number: best.block.number, td: best.td }, old, fresh)
    return fresh.size
  })

/** Initialises an empty datadir with its first genesis, or checks the one it holds; returns the datadir's genesis. */
const settleGenesis = (db: ChainDb.ChainDb, options: Options): Effect.Effect<Block.Block, GenesisMismatch | EmptyDatadir | StoreError> =>
  Effect.gen(function*() {
    const stored = yield* ChainDb.attempt(`initialise datadir ${db.path}`, () =>
      ChainDb.transaction(db, () => {
        const existing = ChainDb.metaHash(db, "genesis")
        const start = options.genesis ?? options.initialGenesis
        if (existing || !start) return existing
        ChainDb.putBlock(db, start, start.header.difficulty)
        ChainDb.putCanonical(db, 0, start.hash)
        ChainDb.putMetaHash(db, "head", start.hash)
        ChainDb.putMetaHash(db, "genesis", start.hash)
        return start.hash
      }))
    if (!stored) return yield* new EmptyDatadir({ path: db.path })
    if (options.genesis && !Hash.equals(stored, options.genesis.hash)) {
      return yield* new GenesisMismatch({ path: db.path, stored: Hash.toHex(stored), wanted: Hash.toHex(options.genesis.hash) })
    }
    const genesis = yield* ChainDb.attempt("read the genesis block", () => ChainDb.block(db, stored))
    return genesis ?? (yield* new StoreError({ operation: "read the genesis block", reason: "it is missing" }))
  })

/**
 * Opens the datadir as a ChainStore, closing it with the scope. Fails with GenesisMismatch when
 * it holds another chain than `options.genesis`, EmptyDatadir when it holds none and no genesis
 * is given, StoreError when LMDB cannot open it.
 */
export const make = (options: Options): Effect.Effect<Shape, GenesisMismatch | EmptyDatadir | StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const db = yield* ChainDb.open(options.path, { create: (options.genesis ?? options.initialGenesis) !== undefined })
    const genesis = yield* settleGenesis(db, options)

    const lookup = (hash: Hash.Hash): BatchValidation.Known | undefined => {
      const td = ChainDb.td(db, hash)
      if (td === undefined) return undefined
      const header = ChainDb.header(db, hash)
      return header && { header, td }
    }

    return ChainStore.of({
      genesis,
      has: (hash) => ChainDb.attempt("look a block up", () => ChainDb.td(db, hash) !== undefined),
      firstKnown: (hashes) =>
        ChainDb.attempt("look blocks up", () => hashes.findIndex((hash) => ChainDb.td(db, hash) !== undefined)),
      get: (hash) => ChainDb.attempt("read a block", () => Option.fromUndefinedOr(ChainDb.block(db, hash))),
      getByNumber: (number) =>
        ChainDb.attempt(`read canonical block ${number}`, () => {
          const hash = ChainDb.canonicalHash(db, number)
          return Option.fromUndefinedOr(hash && ChainDb.block(db, hash))
        }),
      td: (hash) => ChainDb.attempt("read a total difficulty", () => Option.fromUndefinedOr(ChainDb.td(db, hash))),
      head: ChainDb.attempt("read the head", (): Head => {
        const tip = readTip(db)
        const block = ChainDb.block(db, tip.hash)
        if (!block) throw new StoreError({ operation: "read the head", reason: "the head block is missing" })
        return { block, td: tip.td }
      }),
      insert: (batch) =>
        Effect.gen(function*() {
          const readFailures: Array<unknown> = []
          const guardedLookup = (hash: Hash.Hash) => {
            try {
              return lookup(hash)
            } catch (error) {
              readFailures.push(error)
              return undefined
            }
          }
          const { accepted, failure } = yield* BatchValidation.validate(batch, guardedLookup)
          if (readFailures.length > 0) return yield* ChainDb.storeError("read blocks to validate", readFailures[0])
          const written = accepted.length === 0 ? 0 : yield* ChainDb.attempt(`write ${accepted.length} blocks`, () => write(db, accepted))
          if (failure) return yield* failure
          return written
        })
    })
  })

/** The LMDB store as a layer: opens the datadir at `path` for the chain of `genesis`, closes it with the layer. */
export const layer = (options: { readonly path: string; readonly genesis: Block.Block }): Layer.Layer<ChainStore, GenesisMismatch | EmptyDatadir | StoreError> =>
  Layer.effect(ChainStore, make(options))
