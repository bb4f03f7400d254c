/**
 * The downloader's configuration for a chain on disk: each import into the LMDB store is one
 * commit flushed to disk, which costs about the same for 128 blocks as for 1,024 (7-15 ms here),
 * so a sync imports up to 1,024 blocks at once, as `ethsync import` commits them, instead of the
 * seed's 256; and its cache holds 2,048 blocks, so that requests go on while a batch fills and
 * while it is committed. An eth/61 sync holds at most 8,192 hashes rather than go-ethereum 1.0's
 * 256 Ki: a queued hash costs about 650 bytes (M1: the heap grew 170 MiB as 256 Ki filled), and
 * four caches' worth keeps the hash stream far enough ahead of the block fetchers.
 *
 * @since 0.2.0
 */
import { DownloaderConfig } from "@ethsync/core"
import { Effect } from "effect"

/** Most blocks imported in one commit. */
export const importBatch = 1024

/** Blocks downloaded but not yet imported (requested ones included): two import batches. */
export const cacheLimit = 2 * importBatch

/** Most hashes an eth/61 sync holds (those of downloaded blocks included): four caches. */
export const queuedHashes = 4 * cacheLimit

/** `config` with the disk's import batch, cache and hash queue. */
export const of = (config: DownloaderConfig.Config): DownloaderConfig.Config => ({
  ...config,
  maxBlockProcess: importBatch,
  blockCacheLimit: cacheLimit,
  maxQueuedHashes: queuedHashes
})

/** Runs `effect` with the configuration in force made the disk's. */
export const provide = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(DownloaderConfig.DownloaderConfig, (config) =>
    Effect.provideService(effect, DownloaderConfig.DownloaderConfig, of(config)))
