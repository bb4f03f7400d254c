/**
 * The downloader's configuration for the node commands (`serve`, `sync`, `node`): the one in
 * force, except that an eth/61 sync holds at most 8,192 hashes rather than go-ethereum 1.0's
 * 256 Ki. A queued hash costs about 650 bytes (M1: the heap grew 170 MiB as 256 Ki filled);
 * 8,192 is eight of the seed's 1,024-block caches, so the hash stream, which asks for 512 at a
 * time, stays far ahead of the block fetchers. And the hash-chain sync stores its blocks as
 * `ethsync import` does, 1,024 to a commit (each commit is flushed to disk), gathering them in a
 * cache of twice that, so that the next batch downloads while one is stored, from peers kept busy
 * by four requests each; the header-first sync commits as many at a time. It asks for as many headers and bodies per request as ethsync and go-ethereum
 * serve (1,024; bodies within 2 MiB), not go-ethereum's 192 and 128: a fifth of the fills and an
 * eighth of the body requests. A shorter answer (bodies, or the sync
 * peer's own headers) is kept and the rest asked for again.
 *
 * @since 0.2.0
 */
import { DownloaderConfig, HeaderConfig } from "@ethsync/core"
import { Effect } from "effect"
import * as HeaderFirstServing from "./eth/HeaderFirstServing.ts"

/** Most hashes an eth/61 sync holds (those of downloaded blocks not yet imported included). */
export const queuedHashes = 8 * 1024

/** Blocks the hash-chain sync stores per commit: as many as `ethsync import` does. */
export const importBatch = 1024

/** Blocks the hash-chain sync holds, downloaded or in flight: a batch being gathered while the one before is stored. */
export const blockCache = 2 * importBatch

/**
 * Block requests the hash-chain sync keeps open with a peer: four replies of 128 blocks, half a
 * batch, so that a peer keeps serving while a batch is stored (about 30 ms of the syncing node's
 * thread per 1,024 blocks), where with two it idled after 256 (R1, branch r1c).
 */
export const requestsPerPeer = 4

/** `config` with the node's cap on queued hashes, its import batches and the requests it keeps open. */
export const of = (config: DownloaderConfig.Config): DownloaderConfig.Config => ({
  ...config,
  maxQueuedHashes: queuedHashes,
  importBatch,
  blockCacheLimit: Math.max(config.blockCacheLimit, blockCache),
  requestsPerPeer: Math.max(config.requestsPerPeer, requestsPerPeer)
})

/** Headers per header-first fill (and the skeleton's spacing): as many as ethsync and go-ethereum serve at once. */
export const headerFetch = HeaderFirstServing.maxHeaders

/** Bodies per header-first request: as many as ethsync and go-ethereum serve at once (within 2 MiB). */
export const bodyFetch = HeaderFirstServing.maxBodies

/**
 * Header-first fills out with one peer at once: four, as the hash-chain sync's block requests (R2-ethsync:
 * 10-15 % faster than two); each one's deadline counts those ahead of it on the peer's link.
 */
export const fillsPerPeer = 4

/** `settings` with the node's header-first request sizes and fills per peer. */
export const ofHeaders = (settings: HeaderConfig.Config): HeaderConfig.Config => ({
  ...settings,
  maxHeaderFetch: headerFetch,
  maxBodyFetch: bodyFetch,
  fillsPerPeer: Math.max(settings.fillsPerPeer, fillsPerPeer)
})

/** Runs `effect` with the configurations in force (the downloader's and the header-first engine's) made the node's. */
export const provide = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.gen(function*() {
    const config = yield* DownloaderConfig.DownloaderConfig
    const settings = yield* HeaderConfig.HeaderConfig
    return yield* effect.pipe(
      Effect.provideService(DownloaderConfig.DownloaderConfig, of(config)),
      Effect.provideService(HeaderConfig.HeaderConfig, ofHeaders(settings))
    )
  })
