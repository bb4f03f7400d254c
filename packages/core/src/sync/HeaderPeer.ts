/**
 * What a header-first transport (eth/66 and later, where every request carries an id) gives the
 * header-first sync engine for each remote peer: its identity and two requests. Answers come back
 * through the engine's deliver functions with the id of the request they answer; an answer whose id
 * is not one of that peer's open requests is unrequested and counts against the peer.
 *
 * @since 0.3.0
 */
import type { Effect } from "effect"
import type * as Hash from "../chain/Hash.ts"
import type * as Header from "../chain/Header.ts"
import type { PeerTransportError } from "./PeerHandle.ts"

/** "Up to `amount` headers from `origin`, every `skip + 1`-th, towards the genesis when `reverse`", as GetBlockHeaders says it. */
export interface HeaderRequest {
  /** The first header asked for: by hash, or by number on the peer's canonical chain. */
  readonly origin: Hash.Hash | number
  /** How many headers at most. */
  readonly amount: number
  /** How many blocks to leave out between two headers. */
  readonly skip: number
  /** Whether the headers go down towards the genesis rather than up. */
  readonly reverse: boolean
}

/** A block's body as BlockBodies carries it: matched to its header by transactions root and uncle hash. */
export interface Body {
  /** Each transaction's complete RLP item. */
  readonly transactions: ReadonlyArray<Uint8Array>
  /** The uncle headers. */
  readonly uncles: ReadonlyArray<Header.Header>
}

/** A remote header-first peer as the engine sees it. */
export interface HeaderPeer {
  /** Unique id of the peer (its node id, or a test name). */
  readonly id: string
  /** The head hash the peer advertised. */
  readonly head: Hash.Hash
  /** Sends GetBlockHeaders with this request id. Returns once sent. */
  readonly requestHeaders: (requestId: bigint, request: HeaderRequest) => Effect.Effect<void, PeerTransportError>
  /** Sends GetBlockBodies for these hashes with this request id. Returns once sent. */
  readonly requestBodies: (requestId: bigint, hashes: ReadonlyArray<Hash.Hash>) => Effect.Effect<void, PeerTransportError>
}
