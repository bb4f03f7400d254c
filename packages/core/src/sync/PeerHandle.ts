/**
 * What a transport gives the downloader for each remote peer: its identity and two requests.
 * Answers do not come back here: they arrive later through the downloader's deliver functions,
 * matched by peer id only, as on the eth/60 wire.
 *
 * @since 0.1.0
 */
import type { Effect } from "effect"
import type * as Hash from "../chain/Hash.ts"

/** A remote peer as the downloader sees it. */
export interface PeerHandle {
  /** Unique id of the peer (its node id, or a test name). */
  readonly id: string
  /** The head hash the peer advertised. */
  readonly head: Hash.Hash
  /** Sends "give me up to N hashes of the ancestors of `from`, newest first". Returns once sent. */
  readonly requestHashes: (from: Hash.Hash) => Effect.Effect<void>
  /** Sends "give me the blocks with these hashes". Returns once sent. */
  readonly requestBlocks: (hashes: ReadonlyArray<Hash.Hash>) => Effect.Effect<void>
}
