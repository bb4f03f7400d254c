/**
 * The links to the peers registered with a downloader, outliving syncs: for each, the transport's handle, its
 * download state (a Peer, written only by the running sync), the order of its unanswered block
 * requests, and an outbox that one sender fiber per peer empties in order, so a slow or failing
 * send never holds the sync that asked for it.
 *
 * @since 0.2.0
 */
import { Effect, type Fiber, Queue, Result } from "effect"
import type { PeerHandle, PeerTransportError } from "../PeerHandle.ts"
import type * as Hash from "../../chain/Hash.ts"
import { Peer } from "./PeerSet.ts"
import type { CrossCheck } from "./CrossChecks.ts"

/** A block request as its peer's order remembers it: which sync sent it, and the check it serves, if any. */
export interface Asked {
  /** Id of the sync that sent it: an answer to an earlier sync's request is not this sync's business. */
  readonly sync: number
  /** The cross-check this request asks for, if it is one. */
  readonly check: CrossCheck | undefined
}

/** A request waiting in a peer's outbox. */
export type Outgoing =
  /** "Send me the hashes below `from`." */
  | { readonly _tag: "Hashes"; readonly from: Hash.Hash }
  /** "Send me these blocks"; `asked` joins the peer's request order when it goes out. */
  | { readonly _tag: "Blocks"; readonly hashes: ReadonlyArray<Hash.Hash>; readonly asked: Asked }

/** Most unanswered block requests remembered per peer; older ones are forgotten. */
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
  /** Requests to send, in order; shut down when the peer leaves. */
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

/**
 * Sends the link's requests in order until its outbox is shut down; a send that fails hands its
 * error to `failed` (which drops the peer) and ends the sender.
 */
export const sender = (link: Link, failed: (error: PeerTransportError) => Effect.Effect<void>): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (true) {
      const request = yield* Queue.take(link.outbox)
      if (request._tag === "Blocks") {
        link.unanswered.push(request.asked)
        if (link.unanswered.length > maxUnanswered) link.unanswered.shift()
      }
      const sent = yield* Effect.result(
        request._tag === "Hashes" ? link.handle.requestHashes(request.from) : link.handle.requestBlocks(request.hashes)
      )
      if (Result.isFailure(sent)) return yield* failed(sent.failure)
    }
  })
