/**
 * The downloader's metrics as a person reads them at the end of a run: what was imported, how many
 * syncs ended, how many peers were dropped, and how block requests' round trips went.
 *
 * @since 0.2.0
 */
import { SyncMetrics } from "@ethsync/core"
import { Effect, Metric } from "effect"
import { count } from "./Wording.ts"

/** The figures, read from the metrics of this process. */
export interface SyncFigures {
  /** Blocks the importer put into the chain. */
  readonly blocksImported: number
  /** Syncs that ended, however. */
  readonly syncsEnded: number
  /** Peers the downloader dropped. */
  readonly peersDropped: number
  /** Block requests answered with blocks. */
  readonly roundTrips: number
  /** Their mean, in milliseconds (0 when there were none). */
  readonly meanRoundTripMs: number
  /** The slowest, in milliseconds (0 when there were none). */
  readonly maxRoundTripMs: number
}

/** Reads the figures now. */
export const read: Effect.Effect<SyncFigures> = Effect.gen(function*() {
  const trips = yield* Metric.value(SyncMetrics.roundTrip)
  return {
    blocksImported: (yield* Metric.value(SyncMetrics.blocksImported)).count,
    syncsEnded: (yield* Metric.value(SyncMetrics.syncsEnded)).count,
    peersDropped: (yield* Metric.value(SyncMetrics.peersDropped)).count,
    roundTrips: trips.count,
    meanRoundTripMs: trips.count === 0 ? 0 : trips.sum / trips.count,
    maxRoundTripMs: trips.count === 0 ? 0 : trips.max
  }
})

/** The figures in one line. */
export const line = (figures: SyncFigures): string =>
  `${count(figures.blocksImported)} blocks imported, ${figures.syncsEnded} syncs ended, ${figures.peersDropped} dropped by the downloader, ` +
  `${count(figures.roundTrips)} block round trips (mean ${figures.meanRoundTripMs.toFixed(1)} ms, max ${count(figures.maxRoundTripMs)} ms)`
