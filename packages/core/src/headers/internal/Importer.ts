/**
 * The header-first sync's importer: one fiber per sync that inserts the batches the sync hands it
 * into the chain in chunks, as the hash engine's importer does (the same uninterruptible insert and
 * count, the same blame), and reports each chunk to the sync's mailbox.
 *
 * @since 0.3.0
 */
import { Cause, Effect, Metric, Queue, Result } from "effect"
import { StoreError } from "../../chain/ChainStore.ts"
import { ImportFailed } from "../../sync/SyncError.ts"
import * as SyncMetrics from "../../sync/SyncMetrics.ts"
import * as Sync from "./Sync.ts"

/**
 * Runs until interrupted, or until an insert fails: a refused block gets the peer whose data it is
 * dropped and ends the sync with ImportFailed; a store failure (or a defect) ends it with a StoreError.
 */
export const run = (sync: Sync.Sync): Effect.Effect<void> =>
  Effect.gen(function*() {
    const chunkSize = sync.config.maxBlockProcess
    while (true) {
      const batch = yield* Queue.take(sync.importQueue)
      for (let at = 0; at < batch.length; at += chunkSize) {
        const chunk = batch.slice(at, at + chunkSize)
        // As the hash engine's importer: the insert and its count as one, so no interrupt separates them.
        const inserted = yield* Effect.result(Effect.uninterruptible(Effect.tap(
          sync.store.insert(chunk.map((c) => c.block)),
          (count) => Metric.update(SyncMetrics.blocksImported, count)
        )))
        if (Result.isFailure(inserted)) {
          const failure = inserted.failure
          if (failure._tag === "StoreError") return Sync.signal(sync, { _tag: "ImportStopped", error: failure })
          const origin = chunk[failure.index]!.origin
          Sync.signal(sync, { _tag: "ImportStopped", error: new ImportFailed({ peer: origin, reason: failure.error.message }) })
          return yield* Effect.uninterruptible(sync.drop(origin, failure.error.message))
        }
        Sync.signal(sync, { _tag: "Imported", blocks: chunk.length, inserted: inserted.success, head: chunk[chunk.length - 1]!.block.number })
      }
      Sync.signal(sync, { _tag: "ImportDone" })
    }
  }).pipe(Effect.catchCause((cause) =>
    Cause.hasInterruptsOnly(cause)
      ? Effect.failCause(cause)
      : Effect.sync(() =>
        Sync.signal(sync, { _tag: "ImportStopped", error: new StoreError({ operation: "import blocks", reason: Cause.pretty(cause) }) })
      )
  ))
