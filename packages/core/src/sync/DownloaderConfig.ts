/**
 * The downloader's constants, as a service with the seed's values as defaults, so that tests and
 * benchmarks shrink them without touching globals. The seed's crossCheckCycle (a 1 s poll for
 * expired cross-checks) and its 20 ms scheduling tick have no counterpart: the downloader wakes at
 * each deadline and on each event instead.
 *
 * @since 0.1.0
 */
import { Context, Duration } from "effect"

/** Every tunable of the downloader. */
export interface Config {
  /** A hash reply that does not reach a known block must add at least this many new hashes. */
  readonly minHashFetch: number
  /** Hashes asked for per request. */
  readonly maxHashFetch: number
  /** Hashes asked for per eth/61 request by number (GetBlockHashesFromNumber): the ancestor search's window and the forward batch. */
  readonly maxHashesFromNumber: number
  /** Most hashes an eth/61 sync holds (those of blocks waiting for import included): its hash fetch waits while the next batch would not fit. */
  readonly maxQueuedHashes: number
  /** Upper bound of a peer's capacity (blocks per request). */
  readonly maxBlockFetch: number
  /** Block requests open with one peer at once: more than one keeps it serving while its last reply is handled. */
  readonly requestsPerPeer: number
  /** A hash request not answered in this time has timed out. */
  readonly hashTTL: Duration.Duration
  /** A cross-check's lifetime. */
  readonly blockSoftTTL: Duration.Duration
  /** A block request older than this expires; a reply slower than this leaves the peer capacity 1. */
  readonly blockHardTTL: Duration.Duration
  /** How long a block request should take: a peer is asked for its throughput times this. */
  readonly targetRoundTrip: Duration.Duration
  /** A peer whose round trip is this many times the best peer's is asked only when no one else can. */
  readonly slowPeerFactor: number
  /** Cap of the ban list. */
  readonly maxBannedHashes: number
  /** Blocks handed to the chain at once. */
  readonly maxBlockProcess: number
  /**
   * Blocks a sync (either engine) gathers for one import while more are on their way, stored in one
   * insert (one commit, one flush: a store on disk pays per commit), when larger than
   * maxBlockProcess ({@link commitSize}); 0 hands over whatever is ready, in chunks of
   * maxBlockProcess, as the seed does.
   */
  readonly importBatch: number
  /** Blocks downloaded but not imported, in-flight requests included. */
  readonly blockCacheLimit: number
  /** Replies of one peer waiting for the sync to look at them; a peer with more waits in its own deliver call. */
  readonly replyBacklog: number
  /** A peer that sends more replies than this that nobody asked for, in one sync, is dropped. */
  readonly maxUnrequestedReplies: number
}

/**
 * The seed's values; for what the seed lacks (targetRoundTrip, slowPeerFactor, replyBacklog,
 * maxUnrequestedReplies, requestsPerPeer: the seed had one request per peer, and importBatch: 0,
 * the seed's imports) ethsync's defaults, and for eth/61 (maxHashesFromNumber, maxQueuedHashes)
 * go-ethereum 1.0's: 512 hashes per request (what its peers serve at most) and 256 Ki queued.
 */
export const seed: Config = {
  minHashFetch: 512,
  maxHashFetch: 2048,
  maxHashesFromNumber: 512,
  maxQueuedHashes: 256 * 1024,
  maxBlockFetch: 128,
  requestsPerPeer: 2,
  hashTTL: Duration.seconds(5),
  blockSoftTTL: Duration.seconds(3),
  blockHardTTL: Duration.seconds(9),
  targetRoundTrip: Duration.seconds(1),
  slowPeerFactor: 4,
  maxBannedHashes: 4096,
  maxBlockProcess: 256,
  importBatch: 0,
  blockCacheLimit: 1024,
  replyBacklog: 8,
  maxUnrequestedReplies: 16
}

/** The configuration in force; the seed's values unless provided otherwise. */
export const DownloaderConfig = Context.Reference<Config>("@ethsync/core/DownloaderConfig", { defaultValue: () => seed })

/**
 * Blocks the importer of either engine stores in one insert: the larger of maxBlockProcess and
 * importBatch (the node commands commit 1,024, as `ethsync import` does: a store on disk pays per
 * commit).
 */
export const commitSize = (config: Config): number => Math.max(config.maxBlockProcess, config.importBatch)
