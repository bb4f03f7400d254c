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
        const inserted = yield* Effect.result(sync.store.insert(chunk.map((c) => c.block)))
        if (Result.isFailure(inserted)) {
          const failure = inserted.failure
          if (failure._tag === "StoreError") return Sync.signal(sync, { _tag: "ImportStopped", error: failure })
          const origin = chunk[failure.index]!.origin
          // The error is posted before the drop, so the sync reports it rather than the lost peer.
          Sync.signal(sync, { _tag: "ImportStopped", error: new ImportFailed({ peer: origin, reason: failure.error.message }) })
          return yield* Effect.uninterruptible(sync.drop(origin, failure.error.message))
        }
        // Counted here, not by the sync: a sync that ends before reading this report still imported them.
        yield* Metric.update(SyncMetrics.blocksImported, inserted.success)
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
