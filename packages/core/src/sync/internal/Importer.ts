/**
 * The importer: one fiber per sync that takes the contiguous run of downloaded blocks at the front
 * of the cache and inserts it into the chain in chunks. Being one fiber, it is single-flight by
 * construction; woken through a latch, it never misses blocks that arrive while it works.
 *
 * @since 0.1.0
 */
import { Cause, Clock, Effect, Metric, PubSub, Result } from "effect"
import { StoreError } from "../../chain/ChainStore.ts"
import * as Sync from "./Sync.ts"
import * as SyncMetrics from "../SyncMetrics.ts"
import { ImportFailed, type SyncError } from "../SyncError.ts"
import { SyncEvent } from "../SyncEvent.ts"

/**
 * Runs until interrupted, or until an insert fails: then it records the error, drops the block's
 * origin peer and wakes the sync to end it. A defect (a bug, a broken store) ends the sync too, as a
 * StoreError, rather than leaving it waiting for imports that will never come.
 */
export const run = (sync: Sync.Sync): Effect.Effect<void> =>
  Effect.gen(function*() {
    const { queue, store } = sync
    const chunkSize = sync.config.maxBlockProcess
    while (true) {
      yield* sync.importWake.await
      yield* sync.importWake.close
      while (true) {
        const batch = queue.takeBlocks()
        if (batch.length === 0) break
        sync.importBatch = batch.length
        sync.importDone = 0
        sync.importStart = yield* Clock.currentTimeMillis
        // The cache has room again: let the sync hand out requests before this batch is inserted.
        yield* Sync.wake(sync)
        yield* Effect.yieldNow
        for (let at = 0; at < batch.length; at += chunkSize) {
          const chunk = batch.slice(at, at + chunkSize)
          const inserted = yield* Effect.result(store.insert(chunk.map((c) => c.block)))
          if (Result.isFailure(inserted)) {
            const failure = inserted.failure
            if (failure._tag === "StoreError") return yield* stop(sync, failure)
            const origin = chunk[failure.index]!.origin
            // The error is recorded before the drop, so the sync reports it rather than the lost peer.
            sync.importError = new ImportFailed({ peer: origin, reason: failure.error.message })
            yield* sync.dropper.drop(origin, failure.error.message)
            yield* Metric.update(SyncMetrics.peersDropped, 1)
            return yield* Sync.wake(sync)
          }
          sync.importDone += chunk.length
          sync.imported += inserted.success
          yield* Metric.update(SyncMetrics.blocksImported, inserted.success)
          yield* PubSub.publish(sync.events, SyncEvent.Progress({
            imported: sync.imported,
            head: chunk[chunk.length - 1]!.block.number
          }))
        }
        sync.importBatch = 0
        sync.importDone = 0
      }
      sync.importing = false
      yield* Sync.wake(sync)
    }
  }).pipe(Effect.catchCause((cause) =>
    Cause.hasInterruptsOnly(cause)
      ? Effect.failCause(cause)
      : stop(sync, new StoreError({ operation: "import blocks", reason: Cause.pretty(cause) }))
  ))

/** Ends the sync with `error`. */
const stop = (sync: Sync.Sync, error: SyncError) =>
  Effect.suspend(() => {
    sync.importError = error
    return Sync.wake(sync)
  })
