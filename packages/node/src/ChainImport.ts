/**
 * Importing `geth export`-format files into the ChainStore: streamed, in batches of one
 * transaction each, stopping at the first bad block with everything before it kept. With a
 * SealPrefetch, seal checks start as the blocks are read, a few at a time, and a batch is inserted
 * only once the next one is read: the seals of one batch are checked while the batch before it is
 * validated and written.
 *
 * @since 0.1.0
 */
import { ChainStore, Hash, type Header, type InvalidBlock } from "@ethsync/core"
import { Data, Effect, type FileSystem, Stream } from "effect"
import * as BlockFile from "./BlockFile.ts"
import type * as Progress from "./Progress.ts"
import type * as SealPrefetch from "./SealPrefetch.ts"

/** A block of the file broke a chain rule; the blocks before it were imported. */
export class BlockRejected extends Data.TaggedError("BlockRejected")<{
  /** The file. */
  readonly path: string
  /** Index of the block among the file's blocks. */
  readonly position: number
  /** The block, the rule and the numbers. */
  readonly error: InvalidBlock.InvalidBlock
}> {
  override get message() {
    return `${this.path}: ${this.error.message}`
  }
}

/** The file starts with the genesis block of another chain than the datadir's. */
export class ForeignGenesis extends Data.TaggedError("ForeignGenesis")<{
  /** The file. */
  readonly path: string
  /** Hash of the file's block 0, 0x-hex. */
  readonly found: string
  /** Hash of the datadir's genesis, 0x-hex. */
  readonly expected: string
}> {
  override get message() {
    return `${this.path} holds chain with genesis ${this.found}, but the datadir holds genesis ${this.expected}`
  }
}

/** Blocks whose seal checks are started together while a batch is read: few, so checks start soon. */
const prefetchChunk = 128

/** Why an import stopped. */
export type ImportError = BlockFile.BlockFileError | BlockRejected | ForeignGenesis | ChainStore.StoreError

/** How to import. */
export interface Options {
  /** Blocks per transaction. */
  readonly batchSize: number
  /** Advanced by the bytes and blocks of each batch that lands. */
  readonly meter?: Progress.Meter | undefined
  /** Starts seal checks as blocks are read: the SealPrefetch whose verifier the store checks with. */
  readonly prefetch?: SealPrefetch.SealPrefetch | undefined
}

/** The headers whose seals a store checks when it inserts `blocks`: each block's and its uncles'. */
const sealed = (blocks: ReadonlyArray<BlockFile.Positioned>): Array<Header.Header> =>
  blocks.flatMap((p) => [p.block.header, ...p.block.uncles])

/** What an import did. */
export interface Summary {
  /** Blocks read from the files. */
  readonly read: number
  /** Blocks new to the store (the others were there already). */
  readonly imported: number
}

/**
 * Imports the blocks of one file, in order. A leading block 0 must be the store's genesis (it is
 * then skipped like any stored block).
 */
export const importFile = (path: string, options: Options): Effect.Effect<Summary, ImportError, ChainStore.ChainStore | FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const store = yield* ChainStore.ChainStore
    yield* Effect.logInfo(`importing ${path}`)
    /** The batch being read. */
    let pending: Array<BlockFile.Positioned> = []
    /** How many blocks of `pending` have their seal checks started. */
    let prefetched = 0
    /** The last full batch read: its seal checks started, it is inserted once the next one is read. */
    let held: Array<BlockFile.Positioned> = []
    /** Bytes of the file up to the end of the last inserted block. */
    let landed = 0
    /** Blocks read. */
    let read = 0
    /** Blocks new to the store. */
    let imported = 0

    /** Drops the started seal checks of `blocks` that the store did not ask for. */
    const forget = (blocks: ReadonlyArray<BlockFile.Positioned>) =>
      options.prefetch && blocks.length > 0 ? options.prefetch.forget(sealed(blocks)) : Effect.void

    const insert = (batch: ReadonlyArray<BlockFile.Positioned>) => {
      const last = batch.at(-1)
      if (last === undefined) return Effect.void
      const end = last.offset + last.block.rlp.length
      return store.insert(batch.map((p) => p.block)).pipe(
        Effect.ensuring(forget(batch)),
        Effect.catchTag("InsertFailed", (failed) =>
          Effect.fail(new BlockRejected({ path, position: batch[failed.index]!.position, error: failed.error }))),
        Effect.flatMap((count) => {
          imported += count
          const done = end - landed
          landed = end
          return options.meter ? options.meter.advance(done, batch.length) : Effect.void
        })
      )
    }

    /**
     * Starts the seal checks of the blocks of `pending` not started yet, unless the last of them is
     * stored (then, likely, all are).
     */
    const startSeals = Effect.suspend(() => {
      const blocks = pending.slice(prefetched)
      prefetched = pending.length
      const last = blocks.at(-1)
      if (!options.prefetch || last === undefined) return Effect.void
      const start = options.prefetch.start
      return Effect.flatMap(store.has(last.block.hash), (stored) =>
        stored ? Effect.void : start(sealed(blocks)))
    })

    /** The batch read is complete: starts the rest of its seal checks, then inserts the batch held before it. */
    const rotate = Effect.andThen(startSeals, Effect.suspend(() => {
      const previous = held
      held = pending
      pending = []
      prefetched = 0
      return insert(previous)
    }))

    /** Inserts everything read: the held batch, then the last one. */
    const flush = Effect.andThen(rotate, rotate)

    const take = (positioned: BlockFile.Positioned): Effect.Effect<void, ImportError> => {
      const { block, position } = positioned
      if (position === 0 && block.number === 0 && !Hash.equals(block.hash, store.genesis.hash)) {
        return Effect.fail(new ForeignGenesis({ path, found: Hash.toHex(block.hash), expected: Hash.toHex(store.genesis.hash) }))
      }
      read++
      pending.push(positioned)
      return pending.length >= options.batchSize ? rotate
        : pending.length - prefetched >= prefetchChunk ? startSeals
        : Effect.void
    }

    // A file that turns bad keeps the blocks read before the bad spot; a refused block ends the
    // import at once (the batch read after it would only be refused for its unknown parent).
    // Batches never inserted (after a refused block) drop their started checks too.
    yield* BlockFile.stream(path).pipe(
      Stream.runForEach(take),
      Effect.catchIf(BlockFile.isBlockFileError, (error) => Effect.andThen(flush, Effect.fail(error))),
      Effect.andThen(flush),
      Effect.ensuring(Effect.suspend(() => forget([...held, ...pending])))
    )
    return { read, imported }
  })

/** Imports files one after the other; stops at the first error. */
export const importFiles = (
  paths: ReadonlyArray<string>,
  options: Options
): Effect.Effect<Summary, ImportError, ChainStore.ChainStore | FileSystem.FileSystem> =>
  Effect.reduce(paths, (): Summary => ({ read: 0, imported: 0 }), (total, path) =>
    Effect.map(importFile(path, options), (one) => ({ read: total.read + one.read, imported: total.imported + one.imported })))
