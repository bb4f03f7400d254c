/**
 * The downloader's configuration for the node commands (`serve`, `sync`, `node`): the one in
 * force, except that an eth/61 sync holds at most 8,192 hashes rather than go-ethereum 1.0's
 * 256 Ki. A queued hash costs about 650 bytes (M1: the heap grew 170 MiB as 256 Ki filled);
 * 8,192 is eight of the seed's 1,024-block caches, so the hash stream, which asks for 512 at a
 * time, stays far ahead of the block fetchers.
 *
 * @since 0.2.0
 */
import { DownloaderConfig } from "@ethsync/core"
import { Effect } from "effect"

/** Most hashes an eth/61 sync holds (those of downloaded blocks not yet imported included). */
export const queuedHashes = 8 * 1024

/** `config` with the node's cap on queued hashes. */
export const of = (config: DownloaderConfig.Config): DownloaderConfig.Config => ({ ...config, maxQueuedHashes: queuedHashes })

/** Runs `effect` with the configuration in force made the node's. */
export const provide = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(DownloaderConfig.DownloaderConfig, (config) =>
    Effect.provideService(effect, DownloaderConfig.DownloaderConfig, of(config)))
