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
