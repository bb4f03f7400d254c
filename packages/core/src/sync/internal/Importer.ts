/**
 * The importer of both sync engines: one fiber per sync that inserts the batches the sync hands it
 * into the chain, in chunks, and reports each chunk back to the sync's mailbox. Being one fiber, it
 * is single-flight by construction; it writes nothing of the sync's state.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Metric, Queue, Result } from "effect"
import type * as Block from "../../chain/Block.ts"
import { type Shape as Store, StoreError } from "../../chain/ChainStore.ts"
import * as SyncMetrics from "../SyncMetrics.ts"
import { ImportFailed } from "../SyncError.ts"

/** A block ready for import, with the peer whose data it is (blamed if the store refuses it). */
export interface Pending {
  /** The block. */
  readonly block: Block.Block
  /** Id of the peer that sent it, dropped if the block proves bad. */
  readonly origin: string
}

/** What the importer tells its sync. */
export type Report =
  /** A chunk is stored: `blocks` taken, `inserted` new, the chain's head now at `head`. */
  | { readonly _tag: "Imported"; readonly blocks: number; readonly inserted: number; readonly head: number }
  /** The batch is done; the importer waits for another. */
  | { readonly _tag: "ImportDone" }
  /** The importer stopped: a block was refused (its origin already dropped) or the store failed. */
  | { readonly _tag: "ImportStopped"; readonly error: ImportFailed | StoreError }

/** What the importer needs of a sync, whichever engine runs it. */
export interface Feed {
  /** The batches to import, one at a time. */
  readonly importQueue: Queue.Dequeue<ReadonlyArray<Pending>>
  /** The chain the blocks go into. */
  readonly store: Store
  /** Blocks handed to the store at once. */
  readonly chunkSize: number
  /** Drops the peer whose block the store refused. */
  readonly drop: (peer: string, reason: string) => Effect.Effect<void>
  /** Posts a report to the sync's mailbox. */
  readonly report: (report: Report) => void
}

/**
 * Runs until interrupted, or until an insert fails: a refused block gets its origin peer dropped and
 * ends the sync with ImportFailed; a store failure ends it with the StoreError. A defect (a bug, a
 * broken store) ends the sync too, as a StoreError, rather than leaving it waiting for imports that
 * will never come.
 */
export const run = (feed: Feed): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (true) {
      const batch = yield* Queue.take(feed.importQueue)
      // The sync hands a batch over and then sends its next requests: those go out first, so the
      // peers serve them while this fiber holds the thread validating and writing the batch.
      yield* Effect.yieldNow
      for (let at = 0; at < batch.length; at += feed.chunkSize) {
        const chunk = batch.slice(at, at + feed.chunkSize)
        // The insert and its count run uninterruptibly, as one: a store cannot take back a batch it
        // has begun to commit (the LMDB store waits for its flush), and an interrupt delivered on
        // the insert's way out would lose its result, leaving blocks stored but never counted. The
        // waits that may be abandoned (a validation, a held insert) let interrupts in themselves.
        // Counted here, not by the sync: a sync that ends before reading the report still imported them.
        const inserted = yield* Effect.result(Effect.uninterruptible(Effect.tap(
          feed.store.insert(chunk.map((c) => c.block)),
          (count) => Metric.update(SyncMetrics.blocksImported, count)
        )))
        if (Result.isFailure(inserted)) {
          const failure = inserted.failure
          if (failure._tag === "StoreError") return feed.report({ _tag: "ImportStopped", error: failure })
          const origin = chunk[failure.index]!.origin
          // The error is posted before the drop, so the sync reports it rather than the lost peer.
          feed.report({ _tag: "ImportStopped", error: new ImportFailed({ peer: origin, reason: failure.error.message }) })
          return yield* Effect.uninterruptible(feed.drop(origin, failure.error.message))
        }
        feed.report({ _tag: "Imported", blocks: chunk.length, inserted: inserted.success, head: chunk[chunk.length - 1]!.block.number })
      }
      feed.report({ _tag: "ImportDone" })
    }
  }).pipe(Effect.catchCause((cause) =>
    Cause.hasInterruptsOnly(cause)
      ? Effect.failCause(cause)
      : Effect.sync(() => feed.report({ _tag: "ImportStopped", error: new StoreError({ operation: "import blocks", reason: Cause.pretty(cause) }) }))
  ))
