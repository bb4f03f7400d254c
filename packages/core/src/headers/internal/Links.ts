/**
 * The links to the peers registered with a header-first engine, outliving syncs: for each, the
 * transport's handle, the ids of its open requests (with request ids, an answer belongs to exactly
 * one of them), what was measured of its speed, and an outbox that one sender fiber empties, so a
 * slow or failing send never holds the sync that asked for it.
 *
 * @since 0.3.0
 */
import { Effect, type Fiber, Queue, Result } from "effect"
import type * as Hash from "../../chain/Hash.ts"
import type { HeaderPeer, HeaderRequest } from "../../sync/HeaderPeer.ts"
import type { PeerTransportError } from "../../sync/PeerHandle.ts"

/** What a request asks for, so an answer of the other kind is not taken for it. */
export type Kind = "Headers" | "Bodies"

/** A request waiting in a peer's outbox. */
export type Outgoing =
  /** GetBlockHeaders with this id. */
  | { readonly _tag: "Headers"; readonly id: bigint; readonly request: HeaderRequest }
  /** GetBlockBodies with this id. */
  | { readonly _tag: "Bodies"; readonly id: bigint; readonly hashes: ReadonlyArray<Hash.Hash> }

/** An open request: which sync sent it and what it asks for. */
export interface Open {
  /** Id of the sync that sent it: an answer to an earlier sync's request is nobody's business. */
  readonly sync: number
  /** What it asks for. */
  readonly kind: Kind
}

/** Ids of expired or abandoned requests remembered per peer, so a late answer is not taken for a flood. */
const maxRetired = 256

/** One registered peer. */
export interface Link {
  /** The transport's handle. */
  readonly handle: HeaderPeer
  /** Its requests sent and not yet answered, expired or abandoned, by id. */
  readonly open: Map<bigint, Open>
  /** Ids of its requests that expired or whose sync ended, oldest first: an answer to one is late, not unrequested. */
  readonly retired: Set<bigint>
  /** Answers it sent this sync that no open request of its asked for; too many and it is dropped. */
  unrequested: number
  /** Smoothed bodies per second of its body answers; undefined until one arrived. */
  throughput: number | undefined
  /** Smoothed milliseconds its answers with headers or bodies took; undefined until one arrived. */
  roundTrip: number | undefined
  /** Requests to send; shut down when the peer leaves. */
  readonly outbox: Queue.Queue<Outgoing>
  /** The sender fiber, once started; interrupted when the peer leaves, also in the middle of a send. */
  sender: Fiber.Fiber<void> | undefined
}

/** What an answer with a given id is to its peer. */
export type Answer =
  /** It answers the open request `open` (now closed). */
  | { readonly _tag: "Open"; readonly open: Open }
  /** It answers a request that expired or whose sync ended: ignored. */
  | { readonly _tag: "Late" }
  /** No request of this peer, of this kind, has this id. */
  | { readonly _tag: "Unrequested" }

/** A new link for `handle`. */
export const make = (handle: HeaderPeer): Effect.Effect<Link> =>
  Effect.map(Queue.unbounded<Outgoing>(), (outbox) => ({
    handle,
    open: new Map(),
    retired: new Set(),
    unrequested: 0,
    throughput: undefined,
    roundTrip: undefined,
    outbox,
    sender: undefined
  }))

/** Ends a link: its outbox refuses more requests and its sender stops, even in the middle of a send. */
export const close = (link: Link): void => {
  Queue.shutdownUnsafe(link.outbox)
  link.sender?.interruptUnsafe()
}

/** Opens request `id` of `sync` on the link and queues it for sending. */
export const send = (link: Link, sync: number, outgoing: Outgoing): void => {
  link.open.set(outgoing.id, { sync, kind: outgoing._tag })
  Queue.offerUnsafe(link.outbox, outgoing)
}

/** Closes request `id` without an answer (it expired, or its sync ended): a later answer is late. */
export const retire = (link: Link, id: bigint): void => {
  if (!link.open.delete(id)) return
  link.retired.add(id)
  if (link.retired.size > maxRetired) link.retired.delete(link.retired.values().next().value!)
}

/** Matches an answer of `kind` with id `id` to the link's requests, closing the one it answers. */
export const answer = (link: Link, id: bigint, kind: Kind): Answer => {
  const open = link.open.get(id)
  if (open !== undefined && open.kind === kind) {
    link.open.delete(id)
    return { _tag: "Open", open }
  }
  if (open === undefined && link.retired.delete(id)) return { _tag: "Late" }
  return { _tag: "Unrequested" }
}

/** Weight of the newest measurement in the smoothed throughput and round trip. */
const smoothing = 0.3

/** Records an answer with something in it that took `elapsed` millis: the round trip. */
export const timed = (link: Link, elapsed: number): void => {
  const ms = Math.max(1, elapsed)
  link.roundTrip = link.roundTrip === undefined ? ms : link.roundTrip + smoothing * (ms - link.roundTrip)
}

/** Records a body answer of `delivered` bodies that took `elapsed` millis: the throughput, and the round trip when it brought bodies. */
export const measure = (link: Link, delivered: number, elapsed: number): void => {
  const rate = (delivered * 1000) / Math.max(1, elapsed)
  link.throughput = link.throughput === undefined ? rate : link.throughput + smoothing * (rate - link.throughput)
  if (delivered > 0) timed(link, elapsed)
}

/** Sends the link's requests in order until its outbox is shut down; a failed send hands its error to `failed` and ends the sender. */
export const sender = (link: Link, failed: (error: PeerTransportError) => Effect.Effect<void>): Effect.Effect<void> =>
  Effect.gen(function*() {
    while (true) {
      const request = yield* Queue.take(link.outbox)
      const sent = yield* Effect.result(
        request._tag === "Headers"
          ? link.handle.requestHeaders(request.id, request.request)
          : link.handle.requestBodies(request.id, request.hashes)
      )
      if (Result.isFailure(sent)) return yield* failed(sent.failure)
    }
  })

/** Records a request of the link's peer that expired after `elapsed` millis: it counts as that slow. */
export const expired = (link: Link, elapsed: number): void => {
  link.throughput = 0
  link.roundTrip = Math.max(link.roundTrip ?? 0, elapsed)
}

/** Bodies to ask the link's peer for at once: its measured throughput times the target round trip, within 1..max; max until measured. */
export const capacity = (link: Link, targetRoundTrip: number, max: number): number =>
  link.throughput === undefined ? max : Math.max(1, Math.min(max, Math.floor((link.throughput * targetRoundTrip) / 1000)))
