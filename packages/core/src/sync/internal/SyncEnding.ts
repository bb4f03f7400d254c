/**
 * How a sync of either engine ends, the same for both: a defect becomes a SyncDefect, subscribers hear
 * Done or Failed, the engine is free for the next sync only after that, the sync's gauges go back to
 * zero, and `synchroniseOrDrop` drops the peer a peer's-fault error names.
 *
 * @since 0.3.0
 */
import { Cause, Deferred, Effect, Exit, Metric, PubSub } from "effect"
import type * as Hash from "../../chain/Hash.ts"
import * as SyncMetrics from "../SyncMetrics.ts"
import { dropsPeer, SyncDefect, type SyncError } from "../SyncError.ts"
import { SyncEvent } from "../SyncEvent.ts"

/** What the ending needs of a running sync. */
export interface Ending {
  /** The peer synced with. */
  readonly peer: string
  /** Blocks the sync has imported, for the Done event. */
  readonly imported: () => number
  /** The error a cancel ends it with (its phase's). */
  readonly canceled: () => SyncError
  /** Completed once the sync has ended and cleaned up. */
  readonly ended: Deferred.Deferred<void>
  /** Frees the engine for the next sync. */
  readonly release: () => void
}

/** Turns a defect into a SyncDefect and publishes how the sync ended, so every end is a Done or a Failed; then releases the engine. */
export const report = (events: PubSub.PubSub<SyncEvent>, ending: Ending) =>
(effect: Effect.Effect<void, SyncError>): Effect.Effect<void, SyncError> =>
  effect.pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause) || cause.reasons.some(Cause.isFailReason)
        ? Effect.failCause(cause)
        : Effect.fail(new SyncDefect({ reason: Cause.pretty(cause) }))
    ),
    Effect.onExit((exit) => {
      if (Exit.isSuccess(exit)) return PubSub.publish(events, SyncEvent.Done({ peer: ending.peer, imported: ending.imported() }))
      const failure = exit.cause.reasons.find(Cause.isFailReason)
      return PubSub.publish(events, SyncEvent.Failed({ peer: ending.peer, error: failure?.error ?? ending.canceled() }))
    }),
    // Only now, once subscribers have heard how it ended, may another sync start.
    Effect.ensuring(Effect.suspend(() => {
      ending.release()
      return Deferred.succeed(ending.ended, undefined)
    }))
  )

/** Counts the sync's end and sets its gauges back to zero. */
export const resetMetrics: Effect.Effect<void> = Effect.all([
  Metric.update(SyncMetrics.syncsEnded, 1),
  Metric.update(SyncMetrics.queued, 0),
  Metric.update(SyncMetrics.cached, 0),
  Metric.update(SyncMetrics.inFlight, 0)
], { discard: true })

/** `synchronise` that never fails: a peer's-fault error drops the peer it names; the error is returned. */
export const orDrop = (
  synchronise: (peer: string, head: Hash.Hash) => Effect.Effect<void, SyncError>,
  drop: (peer: string, reason: string) => Effect.Effect<void>
) =>
(peer: string, head: Hash.Hash): Effect.Effect<SyncError | undefined> =>
  synchronise(peer, head).pipe(
    Effect.as(undefined),
    Effect.catch((error: SyncError): Effect.Effect<SyncError> =>
      dropsPeer(error) ? Effect.as(drop(error.peer, error.message), error) : Effect.succeed(error))
  )
