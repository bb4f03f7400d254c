/**
 * The importer: one fiber per sync that inserts the batches the sync hands it into the chain, in
 * chunks, and reports each chunk back to the sync. Being one fiber, it is single-flight by
 * construction; it writes nothing of the sync's state.
 *
 * @since 0.1.0
 */
import { Cause, Effect, Metric, Queue, Result } from "effect"
import { StoreError } from "../../chain/ChainStore.ts"
import * as SyncMetrics from "../SyncMetrics.ts"
import { ImportFailed } from "../SyncError.ts"
import * as Sync from "./Sync.ts"

/**
 * Runs until interrupted, or until an insert fails: a refused block gets its origin peer dropped and
 * ends the sync with ImportFailed; a store failure ends it with the StoreError. A defect (a bug, a
 * broken store) ends the sync too, as a StoreError, rather than leaving it waiting for imports that
 * will never come.
 */
export const run = (sync: Sync.Sync): Effect.Effect<void> =>
  Effect.gen(function*() {
    const chunkSize = sync.config.maxBlockProcess
    while (true) {
      const batch = yield* Queue.take(sync.importQueue)
      for (let at = 0; at < batch.length; at += chunkSize) {
        const chunk = batch.slice(at, at + chunkSize)
        // The insert and its count run uninterruptibly, as one: a store cannot take back a batch it
        // has begun to commit (the LMDB store waits for its flush), and an interrupt delivered on
        // the insert's way out would lose its result, leaving blocks stored but never counted. The
        // waits that may be abandoned (a validation, a held insert) let interrupts in themselves.
        // Counted here, not by the sync: a sync that ends before reading the report still imported them.
        const inserted = yield* Effect.result(Effect.uninterruptible(Effect.tap(
          sync.store.insert(chunk.map((c) => c.block)),
          (count) => Metric.update(SyncMetrics.blocksImported, count)
        )))
        if (Result.isFailure(inserted)) {
          const failure = inserted.failure
          if (failure._tag === "StoreError") return Sync.signal(sync, { _tag: "ImportStopped", error: failure })
          const origin = chunk[failure.index]!.origin
          // The error is posted before the drop, so the sync reports it rather than the lost peer.
          Sync.signal(sync, { _tag: "ImportStopped", error: new ImportFailed({ peer: origin, reason: failure.error.message }) })
          return yield* Effect.uninterruptible(sync.drop(origin, failure.error.message))
        }
        Sync.signal(sync, {
          _tag: "Imported",
          blocks: chunk.length,
          inserted: inserted.success,
          head: chunk[chunk.length - 1]!.block.number
        })
      }
      Sync.signal(sync, { _tag: "ImportDone" })
    }
  }).pipe(Effect.catchCause((cause) =>
    Cause.hasInterruptsOnly(cause)
      ? Effect.failCause(cause)
      : Effect.sync(() =>
        Sync.signal(sync, {
          _tag: "ImportStopped",
          error: new StoreError({ operation: "import blocks", reason: Cause.pretty(cause) })
        })
      )
  ))
