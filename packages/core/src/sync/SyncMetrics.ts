/**
 * The downloader's metrics, for whatever exports Effect metrics: blocks imported, syncs ended and
 * peers dropped by the downloader's own judgement.
 *
 * @since 0.1.0
 */
import { Metric } from "effect"

/** Blocks the importer put into the chain. */
export const blocksImported = Metric.counter("ethsync_blocks_imported", {
  description: "blocks imported into the chain by syncs",
  incremental: true
})

/** Syncs that ended, successful or not. */
export const syncsEnded = Metric.counter("ethsync_syncs_ended", { description: "syncs that ended, however", incremental: true })

/** Peers the downloader dropped: a sync error the seed's table blames on them, or a bad block they delivered. */
export const peersDropped = Metric.counter("ethsync_peers_dropped", {
  description: "peers dropped for misbehaving",
  incremental: true
})

/** Hashes queued whose blocks have not arrived, as of the running sync's last step. */
export const queued = Metric.gauge("ethsync_queued_hashes", { description: "hashes queued whose blocks have not arrived" })

/** Blocks downloaded and waiting for import. */
export const cached = Metric.gauge("ethsync_cached_blocks", { description: "blocks downloaded and waiting for import" })

/** Block requests sent and not yet answered or expired. */
export const inFlight = Metric.gauge("ethsync_block_requests_in_flight", { description: "block requests awaiting an answer" })

/** Peers registered with the downloader. */
export const peers = Metric.gauge("ethsync_peers", { description: "peers registered with the downloader" })

/** Milliseconds from a block request to its answer. */
export const roundTrip = Metric.histogram("ethsync_block_round_trip_ms", {
  description: "milliseconds from a block request to its answer",
  boundaries: [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000]
})
