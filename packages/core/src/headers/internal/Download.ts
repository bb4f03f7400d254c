/**
 * The download of a header-first sync, once the common ancestor is known: the skeleton from the
 * sync peer, its segments filled by every peer in parallel (fillsPerPeer fills out with each, so
 * a peer serves the next while the last is checked), each segment checked by the header
 * rules (and the seal, when a verifier is in context) in height order before its bodies are asked
 * for, bodies from every peer, and the blocks handed to the importer in order. Event-driven: it
 * looks again after every answer, peer change, import and deadline.
 *
 * Memory: a fill is asked for only when it starts within `window` heights above the last block
 * handed to the importer, and bodies only for fetched headers, so the headers, bodies and blocks
 * held stay within `window` plus one segment, besides the importer's batch (at most what was held)
 * and the skeleton's anchors (a new skeleton batch is asked for only when fewer than half a batch of
 * segments wait to be asked for).
 *
 * @since 0.3.0
 */
import { Clock, Duration, Effect, Metric, Option, Result } from "effect"
import * as Block from "../../chain/Block.ts"
import type * as Header from "../../chain/Header.ts"
import * as HeaderRules from "../../chain/HeaderRules.ts"
import {
  BadSkeleton,
  FillMismatch,
  InvalidHeader,
  NoPeers,
  PeersUnavailable,
  Timeout,
  UnknownPeer,
  UnmatchedBody
} from "../../sync/SyncError.ts"
import { commitSize } from "../../sync/DownloaderConfig.ts"
import * as SyncMetrics from "../../sync/SyncMetrics.ts"
import type { Body, HeaderRequest } from "../../sync/HeaderPeer.ts"
import type * as Importer from "../../sync/internal/Importer.ts"
import * as Bodies from "./Bodies.ts"
import * as Links from "./Links.ts"
import { checkFill, type Segment, Skeleton } from "./Skeleton.ts"
import * as Sync from "./Sync.ts"

/** Why a download fails. */
export type Failure = Sync.Stop | BadSkeleton | InvalidHeader | Timeout | NoPeers | PeersUnavailable | UnknownPeer

/**
 * Milliseconds between two updates of the sync's gauges: the sync loops once per answer, and
 * updating them every time was about 2% of a mainnet sync's CPU in a profile. They show the state
 * of a step at most this much older than the sync's latest; the engine zeroes them when the sync
 * ends.
 */
const gaugePeriod = 100

/** The transactions and uncles of an empty block (shared). */
const noParts: ReadonlyArray<never> = []

/** A peer as this sync uses it. */
interface PeerState {
  /** Its id. */
  readonly id: string
  /** Its link (measurements outlive syncs). */
  readonly link: Links.Link
  /** Its fill requests in flight (at most fillsPerPeer: the next is served while one is handled), by id. */
  readonly fills: Map<bigint, Segment>
  /** Its body request in flight, if any. */
  bodies: { readonly id: bigint; readonly heights: ReadonlyArray<number> } | undefined
  /** Heights whose body it did not give when asked: it is not asked for them again this sync. */
  readonly lacks: Set<number>
}

/** A validated header waiting for its body. */
interface Waiting {
  /** The header. */
  readonly header: Header.Header
  /** The peer that filled it. */
  readonly filler: string
}

/** Downloads and imports the sync peer's chain from `ancestor` (stored) to `head`. */
export const run = (sync: Sync.Sync, ancestor: Header.Header, head: Header.Header): Effect.Effect<void, Failure> =>
  Effect.gen(function*() {
    const { origin, settings } = sync
    const targetRoundTrip = Duration.toMillis(sync.config.targetRoundTrip)
    /** The peers this sync may ask, by id. */
    const peers = new Map<string, PeerState>()
    /** The skeleton and its segments. */
    const skeleton = new Skeleton(ancestor, head, settings.maxHeaderFetch)
    /** The skeleton request in flight, if any. */
    let skeletonAsk: { readonly id: bigint; readonly request: HeaderRequest } | undefined
    /** Validated headers waiting for their bodies, by height. */
    const waiting = new Map<number, Waiting>()
    /** Heights of `waiting` not asked for. */
    const pending = new Bodies.Pending()
    /** Blocks assembled and not yet handed to the importer, by height. */
    const blocks = new Map<number, Importer.Pending>()
    /** The last validated header: the next segment's first header is checked against it. */
    let parent = ancestor
    /** The height of the last block handed to the importer. */
    let handed = ancestor.number

    const join = (id: string) => {
      const link = sync.links.get(id)
      if (link && !peers.has(id)) peers.set(id, { id, link, fills: new Map(), bodies: undefined, lacks: new Set() })
    }
    for (const id of sync.links.keys()) join(id)

    /** Takes a peer out of this sync, its requests abandoned and their work back in the queue. */
    const leave = (id: string) => {
      const peer = peers.get(id)
      if (!peer) return
      peers.delete(id)
      for (const [fill, segment] of peer.fills) {
        Sync.abandon(sync, fill)
        segment.request = undefined
      }
      if (peer.bodies) {
        Sync.abandon(sync, peer.bodies.id)
        for (const height of peer.bodies.heights) if (waiting.has(height)) pending.add(height)
      }
      if (skeletonAsk && id === origin) {
        Sync.abandon(sync, skeletonAsk.id)
        skeletonAsk = undefined
      }
    }

    /** Drops a misbehaving peer; the sync goes on without it. */
    const dropPeer = (id: string, reason: string) =>
      Effect.suspend(() => {
        leave(id)
        return sync.drop(id, reason)
      })

    /** Peers fastest first (one not yet measured counts as fast), and a test of slowness against the fastest. */
    const ranked = () => {
      const list = [...peers.values()].sort((a, b) => (a.link.roundTrip ?? 0) - (b.link.roundTrip ?? 0))
      const best = list.find((p) => p.link.roundTrip !== undefined)?.link.roundTrip
      const isSlow = (peer: PeerState) =>
        best !== undefined && peer.link.roundTrip !== undefined && peer.link.roundTrip > sync.config.slowPeerFactor * best
      return { list, isSlow }
    }

    /**
     * Sends every request there is room and a peer for. A slow peer (its round trip over
     * slowPeerFactor times the fastest peer's) is asked only for what no other peer can give, so
     * that it never holds up the heights the import waits for. Bodies are asked for first: they
     * are for lower heights than any fill, and a peer answers in the order it was asked.
     */
    const schedule = (now: number) => {
      const { isSlow, list } = ranked()
      const fast = list.filter((p) => !isSlow(p))
      for (const peer of list) {
        if (pending.size === 0) break
        if (peer.bodies) continue
        const allowed = isSlow(peer)
          ? (h: number) => !peer.lacks.has(h) && fast.every((p) => p.lacks.has(h))
          : (h: number) => !peer.lacks.has(h)
        const heights = pending.take(Links.capacity(peer.link, targetRoundTrip, settings.maxBodyFetch), allowed)
        if (heights.length === 0) continue
        const id = Sync.requestBodies(sync, peer.id, heights.map((h) => waiting.get(h)!.header.hash), now)
        peer.bodies = { id, heights }
      }
      if (!skeletonAsk && peers.has(origin) && skeleton.unassigned < settings.maxSkeletonSize / 2) {
        const request = skeleton.request(settings.maxSkeletonSize)
        if (request) skeletonAsk = { id: Sync.requestHeaders(sync, origin, request, now), request }
      }
      for (const segment of skeleton.segments) {
        if (segment.headers !== undefined || segment.request !== undefined) continue
        // Validated segments leave the list, so the first one left is not always the lowest height to
        // fetch: the window counts from the last block handed to the importer, whichever segment it is.
        if (segment.from - handed > settings.window) break
        // A fill that contradicted the skeleton is settled by the sync peer itself.
        const eligible = (p: PeerState) => !segment.failed.has(p.id) && (segment.suspects.size === 0 || p.id === origin)
        // Of the peers with room, the one with the fewest fills out (the faster of equals): every peer has one before any has two.
        let peer: PeerState | undefined
        for (const p of fast.some(eligible) ? fast : list) {
          if (p.fills.size < settings.fillsPerPeer && eligible(p) && (!peer || p.fills.size < peer.fills.size)) peer = p
        }
        if (!peer) continue
        const id = Sync.requestHeaders(sync, peer.id, { origin: segment.from, amount: segment.to - segment.from + 1, skip: 0, reverse: false }, now)
        segment.request = id
        peer.fills.set(id, segment)
      }
    }

    /**
     * Hands the importer the blocks that follow the last one handed, if it is idle. The importer
     * commits `commitSize` blocks at a time, each commit a flush to disk, so while blocks above
     * these are still to come it gets whole chunks only (all that is ready when that is less than
     * a chunk: an idle importer does not wait); the rest go with the next batch.
     */
    const feed = Effect.suspend(() => {
      if (sync.progress.importing) return Effect.void
      let ready = 0
      while (blocks.has(handed + ready + 1)) ready++
      const chunk = commitSize(sync.config)
      const count = handed + ready < head.number && ready > chunk ? ready - (ready % chunk) : ready
      if (count === 0) return Effect.void
      const batch: Array<Importer.Pending> = []
      for (let i = 0; i < count; i++) {
        batch.push(blocks.get(++handed)!)
        blocks.delete(handed)
      }
      return Sync.feedImporter(sync, batch)
    })

    /**
     * Ends the sync on a header that breaks the rules. Its fill linked up to the skeleton, or is a
     * short run the sync peer itself sent (`Skeleton.split`, whose rest must still link up), so the
     * header is the sync peer's chain: the error names the sync peer, and a filler that served it
     * is dropped too. Bans the header's hash, and the head's when the head is proven to descend
     * from it (every segment above it filled, so linked by parent hashes), so that no peer
     * advertising that head is registered or synced with again.
     */
    const reject = (filler: string, header: Header.Header, reason: string) =>
      Effect.gen(function*() {
        const error = new InvalidHeader({ peer: origin, number: header.number, reason })
        yield* sync.banList.add(header.hash)
        if (skeleton.complete && skeleton.segments.every((segment) => segment.headers !== undefined)) yield* sync.banList.add(head.hash)
        if (filler !== origin) yield* dropPeer(filler, error.message)
        return yield* error
      })

    /** Checks the filled segments at the front against their parents, in height order, and queues their bodies. */
    const validate = Effect.gen(function*() {
      while (skeleton.segments[0]?.headers) {
        const segment = skeleton.segments.shift()!
        const headers = segment.headers!
        const filler = segment.filler!
        for (const header of headers) {
          const broken = HeaderRules.check(header, parent)
          if (broken) return yield* reject(filler, header, broken.message)
          parent = header
        }
        if (Option.isSome(sync.verifier)) {
          const seals = yield* sync.verifier.value.verify(headers)
          const bad = seals.findIndex((error) => error !== undefined)
          if (bad >= 0) return yield* reject(filler, headers[bad]!, seals[bad]!.message)
        }
        // The sync peer's chain is proven here: who filled it otherwise served another chain.
        for (const suspect of segment.suspects) yield* dropPeer(suspect, new FillMismatch({ peer: suspect, from: segment.from }).message)
        const empty: Array<Block.Parts> = []
        for (const header of headers) {
          if (Bodies.isEmpty(header)) {
            empty.push({ header, transactions: noParts, uncles: noParts })
          } else {
            waiting.set(header.number, { header, filler })
            pending.add(header.number)
          }
        }
        for (const block of Block.makeAll(empty)) blocks.set(block.number, { block, origin: filler })
      }
    })

    /** Takes headers answering `request`: the skeleton, or a fill. */
    const onHeaders = (request: Sync.Request, headers: ReadonlyArray<Header.Header>, now: number) =>
      Effect.gen(function*() {
        if (skeletonAsk?.id === request.id) {
          const asked = skeletonAsk.request
          skeletonAsk = undefined
          const wrong = skeleton.add(asked, headers)
          if (wrong) return yield* new BadSkeleton({ peer: origin, reason: wrong })
          return
        }
        const peer = peers.get(request.peer)
        const segment = peer?.fills.get(request.id)
        if (!peer || !segment) return
        peer.fills.delete(request.id)
        segment.request = undefined
        Links.timed(peer.link, now - request.sent)
        const fill = checkFill(segment, headers)
        if (fill._tag === "Match") {
          segment.headers = headers
          segment.filler = peer.id
          return yield* validate
        }
        // The sync peer's own chain, cut short by a cap on its answers: kept, and the rest asked for.
        if (fill._tag === "Partial" && headers.length > 0 && peer.id === origin) {
          skeleton.split(segment, headers, peer.id)
          return yield* validate
        }
        const reason = fill._tag === "Wrong" ? fill.reason : `only ${headers.length} of ${segment.to - segment.from + 1} headers`
        if (peer.id === origin) return yield* new BadSkeleton({ peer: origin, reason: `its own fill from ${segment.from}: ${reason}` })
        // A peer that lacks the headers is asked for others; one that sent another chain is a suspect.
        segment.failed.add(peer.id)
        if (fill._tag === "Wrong") segment.suspects.add(peer.id)
      })

    /** Takes bodies answering `request`: matched to the headers asked for, the missing ones asked of others. */
    const onBodies = (request: Sync.Request, bodies: ReadonlyArray<Body>, now: number) =>
      Effect.gen(function*() {
        const peer = peers.get(request.peer)
        if (!peer?.bodies || peer.bodies.id !== request.id) return
        const heights = peer.bodies.heights.filter((h) => waiting.has(h))
        peer.bodies = undefined
        const matched = yield* Bodies.match(heights.map((h) => waiting.get(h)!.header), bodies)
        if (Result.isFailure(matched)) {
          for (const height of heights) pending.add(height)
          return yield* dropPeer(peer.id, new UnmatchedBody({ peer: peer.id, reason: matched.failure }).message)
        }
        for (const block of matched.success) {
          waiting.delete(block.number)
          blocks.set(block.number, { block, origin: peer.id })
        }
        // Servers cap answers by size: only an answer with no body at all says the peer lacks them.
        for (const height of heights) {
          if (!waiting.has(height)) continue
          if (matched.success.length === 0) peer.lacks.add(height)
          pending.add(height)
        }
        const elapsed = now - request.sent
        Links.measure(peer.link, matched.success.length, elapsed)
        yield* Metric.update(SyncMetrics.roundTrip, elapsed)
      })

    /** Expires the requests past their deadline: their work goes to other peers; the sync peer's skeleton or fill ends the sync. */
    const expire = (now: number) =>
      Effect.gen(function*() {
        for (const request of [...sync.requests.values()]) {
          if (request.deadline > now) continue
          Sync.abandon(sync, request.id)
          if (request.peer === origin && (skeletonAsk?.id === request.id || peers.get(origin)?.fills.has(request.id))) {
            return yield* new Timeout({ peer: origin })
          }
          const peer = peers.get(request.peer)
          if (!peer) continue
          Links.expired(peer.link, now - request.sent)
          const segment = peer.fills.get(request.id)
          if (segment) {
            segment.failed.add(peer.id)
            segment.request = undefined
            peer.fills.delete(request.id)
          } else if (peer.bodies?.id === request.id) {
            for (const height of peer.bodies.heights) {
              if (!waiting.has(height)) continue
              peer.lacks.add(height)
              pending.add(height)
            }
            peer.bodies = undefined
          }
        }
      })

    /** Whether every block up to the head has been imported. */
    const done = () =>
      skeleton.complete && skeleton.segments.length === 0 && waiting.size === 0 && blocks.size === 0 && !sync.progress.importing &&
      handed === head.number

    /** The error that ends a sync nobody can take further, if it is stuck. */
    const stuck = (): Failure | undefined => {
      if (peers.size === 0) return new NoPeers()
      if (!skeleton.complete && !peers.has(origin)) return new UnknownPeer({ peer: origin })
      if (sync.requests.size > 0 || sync.progress.importing) return undefined
      let unfilled = 0
      for (const segment of skeleton.segments) unfilled += segment.to - segment.from + 1
      return new PeersUnavailable({ peer: origin, pending: waiting.size + unfilled })
    }

    /** When the gauges were last updated (Clock millis). */
    let gauged = -Infinity

    while (true) {
      const looked = yield* Clock.currentTimeMillis
      schedule(looked)
      yield* feed
      sync.queued = waiting.size
      sync.cached = blocks.size
      if (looked - gauged >= gaugePeriod) {
        gauged = looked
        yield* Metric.update(SyncMetrics.queued, waiting.size)
        yield* Metric.update(SyncMetrics.cached, blocks.size)
        yield* Metric.update(SyncMetrics.inFlight, sync.requests.size)
      }
      if (done()) return
      const failure = stuck()
      if (failure) return yield* failure
      const event = yield* Sync.next(sync, Sync.nextDeadline(sync))
      const now = yield* Clock.currentTimeMillis
      switch (event._tag) {
        case "Headers":
          yield* onHeaders(event.request, event.headers, now)
          break
        case "Bodies":
          yield* onBodies(event.request, event.bodies, now)
          break
        case "Joined":
          join(event.id)
          break
        case "Left":
          leave(event.id)
          break
        case "Tick":
          yield* expire(now)
          break
        case "Changed":
          break
      }
    }
  })
