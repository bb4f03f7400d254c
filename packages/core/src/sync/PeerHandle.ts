/**
 * What a transport gives the downloader for each remote peer: its identity, its eth version and
 * its requests. Answers do not come back here: they arrive later through the downloader's deliver
 * functions, matched by peer id and by the order of the peer's requests, as on the eth/60-61 wire.
 *
 * @since 0.1.0
 */
import { Data, type Effect } from "effect"
import type * as Hash from "../chain/Hash.ts"

/** A request could not be sent to a peer (its socket failed or closed): the peer is dropped. */
export class PeerTransportError extends Data.TaggedError("PeerTransportError")<{
  /** The peer the request was for. */
  readonly peer: string
  /** What went wrong, in words. */
  readonly reason: string
}> {
  override get message() { return `sending to peer ${this.peer} failed: ${this.reason}` }
}

/** A remote peer as the downloader sees it. */
export interface PeerHandle {
  /** Unique id of the peer (its node id, or a test name). */
  readonly id: string
  /** The head hash the peer advertised. */
  readonly head: Hash.Hash
  /** The eth protocol version spoken with it: 61 and above sync forward by number, 60 by the seed's algorithm. */
  readonly version: number
  /** Sends "give me up to N hashes of the ancestors of `from`, newest first". Returns once sent. */
  readonly requestHashes: (from: Hash.Hash) => Effect.Effect<void, PeerTransportError>
  /**
   * Sends "give me the hashes of heights `from` .. `from + count - 1`, ascending" (eth/61's
   * GetBlockHashesFromNumber; the downloader never asks it of an eth/60 peer). Returns once sent;
   * the answer arrives through `deliverHashes`, as any hash answer.
   */
  readonly requestHashesFromNumber: (from: number, count: number) => Effect.Effect<void, PeerTransportError>
  /** Sends "give me the blocks with these hashes". Returns once sent. */
  readonly requestBlocks: (hashes: ReadonlyArray<Hash.Hash>) => Effect.Effect<void, PeerTransportError>
}
