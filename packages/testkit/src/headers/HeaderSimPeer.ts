/**
 * A simulated header-first peer: it serves GetBlockHeaders (by hash or height, with skip, either
 * way) and GetBlockBodies from its own chain, after a virtual delay, through the engine's deliver
 * functions with the request's id. Attacks are specs whose hooks change or withhold answers.
 *
 * @since 0.3.0
 */
import { type Block, Hash, type Header, type HeaderDownloader, type HeaderPeer, type SyncError } from "@ethsync/core"
import { Clock, Duration, Effect, FiberSet } from "effect"

/** How a simulated header-first peer behaves. */
export interface Spec {
  /** Peer id. */
  readonly id: string
  /** Its canonical chain, genesis first (index = height). */
  readonly chain: ReadonlyArray<Block.Block>
  /** The head it advertises; its chain's last block unless given. */
  readonly head?: Hash.Hash
  /** Virtual delay before each answer; 1 ms unless given. */
  readonly latency?: Duration.Input
  /** Answers one request at a time, in the order asked, each `latency` after the one before (a link of little bandwidth). */
  readonly inOrder?: boolean
  /** Its answer to a header request, from the honest one; undefined: no answer at all. */
  readonly headers?: (request: HeaderPeer.HeaderRequest, honest: ReadonlyArray<Header.Header>) => ReadonlyArray<Header.Header> | undefined
  /** Its answer to a body request, from the honest one; undefined: no answer at all. */
  readonly bodies?: (hashes: ReadonlyArray<Hash.Hash>, honest: ReadonlyArray<HeaderPeer.Body>) => ReadonlyArray<HeaderPeer.Body> | undefined
  /** Answers it sends, under ids nobody gave it, after every header request it gets. */
  readonly unrequested?: number
  /** The total difficulty it claims for its head; 0 unless given. */
  readonly td?: bigint
}

/** What a peer was asked, for assertions. */
export interface Counters {
  /** Every request id it received, in order. */
  readonly ids: Array<bigint>
  /** Every header request received, in order. */
  readonly asked: Array<HeaderPeer.HeaderRequest>
  /** Header requests received. */
  headerRequests: number
  /** Body requests received. */
  bodyRequests: number
  /** Answers the engine refused (this peer no longer registered). */
  refused: number
}

/** A simulated peer as registered with an engine. */
export interface HeaderSimPeer {
  /** Its spec. */
  readonly spec: Spec
  /** The peer the engine calls. */
  readonly peer: HeaderPeer.HeaderPeer
  /** Its counters. */
  readonly counters: Counters
}

/** What a peer needs of its network to answer. */
export interface Wire {
  /** The engine answers go to. */
  readonly engine: HeaderDownloader.Shape
  /** Where answer fibers run; closing its scope interrupts answers still in flight. */
  readonly fibers: FiberSet.FiberSet
}

/** Most headers in one answer, as eth/62+ servers cap it. */
const maxHeaders = 1024

/** An honest peer holding `chain`. */
export const honest = (id: string, chain: ReadonlyArray<Block.Block>): Spec => ({ id, chain })

/** An honest peer whose every answer takes `latency` of virtual time. */
export const slow = (id: string, chain: ReadonlyArray<Block.Block>, latency: Duration.Input): Spec => ({ id, chain, latency })

/** The headers of `chain` a request asks for (by hash or height, every skip + 1-th, either way), at most 1024. */
export const serveHeaders = (chain: ReadonlyArray<Block.Block>, request: HeaderPeer.HeaderRequest): Array<Header.Header> => {
  const start = typeof request.origin === "number"
    ? request.origin
    : chain.findIndex((block) => Hash.equals(block.hash, request.origin as Hash.Hash))
  const out: Array<Header.Header> = []
  const stride = (request.skip + 1) * (request.reverse ? -1 : 1)
  for (let n = start; n >= 0 && n < chain.length && out.length < Math.min(request.amount, maxHeaders); n += stride) {
    out.push(chain[n]!.header)
  }
  return out
}

/** The bodies of the blocks `byKey` holds for `hashes`, in order, unknown hashes skipped. */
export const serveBodies = (byKey: ReadonlyMap<string, Block.Block>, hashes: ReadonlyArray<Hash.Hash>): Array<HeaderPeer.Body> => {
  const out: Array<HeaderPeer.Body> = []
  for (const hash of hashes) {
    const block = byKey.get(Hash.key(hash))
    if (block) out.push({ transactions: block.transactions, uncles: block.uncles })
  }
  return out
}

/** Builds the peer of `spec` on `wire` (not yet registered). */
export const make = (spec: Spec, wire: Wire): HeaderSimPeer => {
  /** What this peer was asked. */
  const counters: Counters = { ids: [], asked: [], headerRequests: 0, bodyRequests: 0, refused: 0 }
  /** Its blocks by hash key. */
  const byKey = new Map(spec.chain.map((block) => [block.key, block]))
  const latency = Duration.fromInputUnsafe(spec.latency ?? Duration.millis(1))
  /** Ids this peer makes up for its unrequested answers: far above any the engine hands out. */
  let madeUp = 1n << 60n
  /** For a peer answering in order: when (Clock millis) its link has sent the last answer asked of it. */
  let linkFree = 0
  /** Sends `answer` after the peer's latency (in order: after the answers before it), on a fiber of the wire. */
  const later = (answer: Effect.Effect<void, SyncError.UnknownPeer>) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      if (spec.inOrder) linkFree = Math.max(now, linkFree) + Duration.toMillis(latency)
      const wait = spec.inOrder ? Duration.millis(linkFree - now) : latency
      return Effect.asVoid(FiberSet.run(
        wire.fibers,
        Effect.sleep(wait).pipe(Effect.andThen(answer), Effect.catch(() => Effect.sync(() => void counters.refused++)))
      ))
    })
  const peer: HeaderPeer.HeaderPeer = {
    id: spec.id,
    head: spec.head ?? spec.chain[spec.chain.length - 1]!.hash,
    requestHeaders: (id, request) =>
      Effect.suspend(() => {
        counters.ids.push(id)
        counters.headerRequests++
        counters.asked.push(request)
        const honestAnswer = serveHeaders(spec.chain, request)
        const answer = spec.headers ? spec.headers(request, honestAnswer) : honestAnswer
        const floods = Array.from({ length: spec.unrequested ?? 0 }, () => wire.engine.deliverHeaders(spec.id, madeUp++, honestAnswer))
        return Effect.andThen(
          answer === undefined ? Effect.void : later(wire.engine.deliverHeaders(spec.id, id, answer)),
          floods.length === 0 ? Effect.void : later(Effect.asVoid(Effect.all(floods)))
        )
      }),
    requestBodies: (id, hashes) =>
      Effect.suspend(() => {
        counters.ids.push(id)
        counters.bodyRequests++
        const honestAnswer = serveBodies(byKey, hashes)
        const answer = spec.bodies ? spec.bodies(hashes, honestAnswer) : honestAnswer
        return answer === undefined ? Effect.void : later(wire.engine.deliverBodies(spec.id, id, answer))
      })
  }
  return { spec, peer, counters }
}
