/**
 * The downloader's configuration for a chain on disk: each import into the LMDB store is one
 * commit flushed to disk, which costs about the same for 128 blocks as for 1,024 (7-15 ms here),
 * so a sync imports up to 1,024 blocks at once, as `ethsync import` commits them, instead of the
 * seed's 256; and its cache holds 2,048 blocks, so that requests go on while a batch fills and
 * while it is committed.
 *
 * @since 0.2.0
 */
import { DownloaderConfig } from "@ethsync/core"
import { Effect } from "effect"

/** Most blocks imported in one commit. */
export const importBatch = 1024

/** Blocks downloaded but not yet imported (requested ones included): two import batches. */
export const cacheLimit = 2 * importBatch

/** `config` with the disk's import batch and cache. */
export const of = (config: DownloaderConfig.Config): DownloaderConfig.Config => ({
  ...config,
  maxBlockProcess: importBatch,
  blockCacheLimit: cacheLimit
})

/** Runs `effect` with the configuration in force made the disk's. */
export const provide = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(DownloaderConfig.DownloaderConfig, (config) =>
    Effect.provideService(effect, DownloaderConfig.DownloaderConfig, of(config)))
