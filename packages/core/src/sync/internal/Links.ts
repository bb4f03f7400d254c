/**
 * The links to the peers registered with a downloader, outliving syncs: for each, the transport's handle, its
 * download state (a Peer, written only by the running sync), the order of its unanswered block
 * and hash requests, and an outbox that one sender fiber per peer empties in order, so a slow or
 * failing send never holds the sync that asked for it.
 *
 * @since 0.2.0
 */
import { Effect, type Fiber, Queue, Result } from "effect"
import type { PeerHandle, PeerTransportError } from "../PeerHandle.ts"
import type * as Hash from "../../chain/Hash.ts"
import { Peer } from "./PeerSet.ts"
import type { CrossCheck } from "./CrossChecks.ts"
import type { Request } from "./DownloadQueue.ts"

/**
 * A block request as its peer's order remembers it: which sync sent it (an answer to an earlier
 * sync's request is not this sync's business), and what it asks for.
 */
export type Asked =
  /** The one block of a cross-check. */
  | { readonly _tag: "Check"; readonly sync: number; readonly check: CrossCheck }
  /** The blocks of a download reservation: with several open, the reply is matched to its own. */
  | { readonly _tag: "Download"; readonly sync: number; readonly request: Request }

/** A request waiting in a peer's outbox. */
export type Outgoing =
  /** "Send me the hashes below `from`", for sync `sync`. */
  | { readonly _tag: "Hashes"; readonly from: Hash.Hash; readonly sync: number }
  /** "Send me the hashes of heights `from` .. `from + count - 1`" (eth/61), for sync `sync`. */
  | { readonly _tag: "HashesFromNumber"; readonly from: number; readonly count: number; readonly sync: number }
  /** "Send me these blocks"; `asked` joins the peer's request order when it goes out. */
  | { readonly _tag: "Blocks"; readonly hashes: ReadonlyArray<Hash.Hash>; readonly asked: Asked }

/** Most unanswered requests of one kind (block, hash) remembered per peer; older ones are forgotten. */
const maxUnanswered = 64

/** One registered peer. */
export interface Link {
  /** The transport's handle. */
  readonly handle: PeerHandle
  /** Its download state; measurements outlive syncs. */
  readonly peer: Peer
  /**
   * Its block requests sent and not yet answered, oldest first: eth/60 has no request ids, so a
   * Blocks reply answers the oldest. Pushed when a request goes out, shifted by every Blocks message
   * that arrives, whether or not a sync runs, so the order never drifts.
   */
  readonly unanswered: Array<Asked>
  /**
   * Ids of the syncs that sent its hash requests not yet answered, oldest first: a BlockHashes reply
   * answers the oldest, so a late answer to an earlier sync's request is not taken for this one's.
   */
  readonly unansweredHashes: Array<number>
  /**
   * Requests to send, in order; shut down when the peer leaves. Bound: a sync has at most one hash
   * request and requestsPerPeer block requests open with a peer (eth/60: and one cross-check per hash batch),
   * and asks again only after an answer or an expiry.
   */
  readonly outbox: Queue.Queue<Outgoing>
  /** The sender fiber, once started; interrupted when the peer leaves, also in the middle of a send that hangs. */
  sender: Fiber.Fiber<void> | undefined
}

/** A new link for `handle`. */
export const link = (handle: PeerHandle, maxBlockFetch: number): Effect.Effect<Link> =>
  Effect.map(Queue.unbounded<Outgoing>(), (outbox) => ({
    handle,
    peer: new Peer(handle, maxBlockFetch),
    unanswered: [],
    unansweredHashes: [],
    outbox,
    sender: undefined
  }))

/** Ends a link: its outbox refuses more requests and its sender stops, even in the middle of a send. */
export const close = (link: Link): void => {
  Queue.shutdownUnsafe(link.outbox)
  link.sender?.interruptUnsafe()
}

/** The request a Blocks message from the link's peer answers: the oldest unanswered one, if any. */
export const answered = (link: Link): Asked | undefined => link.unanswered.shift()

/** The sync whose hash request a BlockHashes message from the link's peer answers: the oldest unanswered, if any. */
export const answeredHashes = (link: Link): number | undefined => link.unansweredHashes.shift()

/** Appends `item` to a peer's unanswered requests, forgetting the oldest past the limit. */
const remember = <A>(unanswered: Array<A>, item: A): void => {
  unanswered.push(item)
  if (unanswered.length > maxUnanswered) unanswered.shift()
}

/** Sends one request through the link's handle. */
const send = (link: Link, request: Outgoing): Effect.Effect<void, PeerTransportError> => {
  switch (request._tag) {
    case "Hashes":
      remember(link.unansweredHashes, request.sync)
      return link.handle.requestHashes(request.from)
    case "HashesFromNumber":
      remember(link.unansweredHashes, request.sync)
      return link.handle.requestHashesFromNumber(request.from, request.count)
    case "Blocks":
      remember(link.unanswered, request.asked)
      return link.handle.requestBlocks(request.hashes)
  }
}

/**
 * Sends the link's requests in order until its outbox is shut down; a send that fails hands its
 * error to `failed` (which drops the peer) and ends the sender.
 */
export const sender = (link: Link, failed: (error: PeerTransportError) => Effect.Effect<void>): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (true) {
      const sent = yield* Effect.result(send(link, yield* Queue.take(link.outbox)))
      if (Result.isFailure(sent)) return yield* failed(sent.failure)
    }
  })
