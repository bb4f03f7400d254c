/**
 * A simulated remote peer: it answers hash requests (by hash, and by number when it speaks eth/61)
 * from its own hash list and block requests from its own blocks, after a virtual delay, through
 * the downloader's deliver functions, as the seed's test peers do. Honest, slow and every attack of
 * the seed's scenarios (and their eth/61 counterparts) are specs of this one peer.
 *
 * @since 0.1.0
 */
import { type Block, type Downloader, Hash, type PeerHandle, type SyncError } from "@ethsync/core"
import { Duration, Effect, FiberSet } from "effect"
import type * as HashList from "./HashList.ts"
import type { TestChain } from "./TestChain.ts"

/** Where a peer's blocks come from: blocks by hash key (a Map is one). */
export interface BlockSource {
  /** The block with this hash key, if the peer has it. */
  readonly get: (key: string) => Block.Block | undefined
}

/** How a simulated peer behaves. */
export interface Spec {
  /** Peer id. */
  readonly id: string
  /** Its hash chain, newest first. */
  readonly hashes: HashList.HashList
  /** Its blocks. */
  readonly blocks: BlockSource
  /** Virtual delay before each answer; 1 ms unless given. */
  readonly latency?: Duration.Input
  /** Most hashes per reply; the downloader's maxHashFetch unless given. */
  readonly maxHashes?: number
  /** Blocks added, unrequested, to every block reply. */
  readonly extraBlocks?: ReadonlyArray<Block.Block>
  /** The total difficulty it claims for its head; 0 unless given. */
  readonly td?: bigint
  /** The eth version it speaks: 61 answers hash requests by number too; 60 unless given. */
  readonly version?: 60 | 61
  /** Hash requests it answers before it leaves them unanswered (a hash source that times out); all unless given. */
  readonly hashReplies?: number
  /** Virtual delay before each block answer; `latency` unless given. */
  readonly blockLatency?: Duration.Input
}

/** What a peer was asked and what it answered, for assertions. */
export interface Counters {
  /** Hash requests received. */
  hashRequests: number
  /** Block requests received. */
  blockRequests: number
  /** Hashes asked for in block requests. */
  blocksAsked: number
  /** Blocks sent in replies (extra ones included). */
  blocksSent: number
  /** Replies the downloader refused (no sync running, or this peer no longer registered). */
  refused: number
}

/** A simulated peer as registered with a downloader. */
export interface SimPeer {
  /** Its spec. */
  readonly spec: Spec
  /** The handle the downloader calls. */
  readonly handle: PeerHandle.PeerHandle
  /** Its counters. */
  readonly counters: Counters
}

/** What a peer needs of its network to answer. */
export interface Wire {
  /** The downloader answers go to. */
  readonly downloader: Downloader.Shape
  /** Where answer fibers run; closing its scope interrupts answers still in flight. */
  readonly fibers: FiberSet.FiberSet
  /** Hashes per reply when the spec does not say. */
  readonly maxHashFetch: number
  /** Told of every hash delivered, so the harness can check none stays queued after a sync. */
  readonly sent: (hashes: ReadonlyArray<Hash.Hash>) => void
}

/** Most blocks in one reply: the eth/60 limit. */
const maxBlocksPerReply = 128

/** An honest peer holding all of `chain`. */
export const honest = (id: string, chain: TestChain): Spec => ({ id, hashes: chain.hashes, blocks: chain.blockMap })

/** `spec` speaking eth/61: its syncs run forward by number. */
export const eth61 = (spec: Spec): Spec => ({ ...spec, version: 61 })

/** An honest peer whose every answer takes `latency` of virtual time. */
export const slow = (id: string, chain: TestChain, latency: Duration.Input): Spec => ({ ...honest(id, chain), latency })

/** `spec`, adding `block` unrequested to every block reply. */
export const withUnrequested = (spec: Spec, block: Block.Block): Spec => ({
  ...spec,
  extraBlocks: [...(spec.extraBlocks ?? []), block]
})

/** Up to `limit` hashes that follow `from` in `list`; none when `from` is not in it. */
const hashesAfter = (list: HashList.HashList, from: Hash.Hash, limit: number): Array<Hash.Hash> => {
  const start = list.indexOf(from)
  const out: Array<Hash.Hash> = []
  if (start < 0) return out
  for (let i = start + 1; i < list.length && out.length < limit; i++) out.push(list.at(i))
  return out
}

/** The blocks `blocks` has for `hashes`, in request order, unknown ones skipped, at most `limit`. */
const blocksFor = (blocks: BlockSource, hashes: ReadonlyArray<Hash.Hash>, limit: number): Array<Block.Block> => {
  const out: Array<Block.Block> = []
  for (const hash of hashes) {
    if (out.length >= limit) break
    const block = blocks.get(Hash.key(hash))
    if (block) out.push(block)
  }
  return out
}

/**
 * What the peer of `spec` answers a request for the hashes below `from`: up to its `maxHashes`
 * (`maxHashFetch` unless given). Any transport that carries a spec answers with it.
 */
export const hashReply = (spec: Spec, from: Hash.Hash, maxHashFetch: number): Array<Hash.Hash> =>
  hashesAfter(spec.hashes, from, spec.maxHashes ?? maxHashFetch)

/**
 * What the peer of `spec` answers a request for the hashes of heights `number` .. `number + amount
 * - 1`: those its list holds (it ends at the genesis, height 0), ascending, at most its `maxHashes`.
 */
export const numberReply = (spec: Spec, number: number, amount: number): Array<Hash.Hash> => {
  const { hashes } = spec
  const limit = Math.min(amount, spec.maxHashes ?? amount)
  const out: Array<Hash.Hash> = []
  for (let height = number; height < hashes.length && out.length < limit; height++) out.push(hashes.at(hashes.length - 1 - height))
  return out
}

/** What the peer of `spec` answers a request for `hashes`: the blocks it has, then its extra blocks. */
export const blockReply = (spec: Spec, hashes: ReadonlyArray<Hash.Hash>): Array<Block.Block> => {
  const blocks = blocksFor(spec.blocks, hashes, maxBlocksPerReply)
  if (spec.extraBlocks) blocks.push(...spec.extraBlocks)
  return blocks
}

/** Builds the peer of `spec` on `wire` (not yet registered). */
export const make = (spec: Spec, wire: Wire): SimPeer => {
  /** What this peer was asked and answered. */
  const counters: Counters = { hashRequests: 0, blockRequests: 0, blocksAsked: 0, blocksSent: 0, refused: 0 }
  const latency = Duration.fromInputUnsafe(spec.latency ?? Duration.millis(1))
  const blockLatency = spec.blockLatency === undefined ? latency : Duration.fromInputUnsafe(spec.blockLatency)
  /** Sends `answer` after `delay`, on a fiber of the wire. */
  const later = (answer: Effect.Effect<void, SyncError.NoSyncActive | SyncError.UnknownPeer>, delay = latency) =>
    Effect.asVoid(FiberSet.run(
      wire.fibers,
      Effect.sleep(delay).pipe(
        Effect.andThen(answer),
        Effect.catch(() => Effect.sync(() => void counters.refused++))
      )
    ))
  /** Counts a hash request and sends `answer` to it, unless the peer leaves hash requests unanswered. */
  const answerHashes = (answer: () => Array<Hash.Hash>) =>
    Effect.suspend(() => {
      if (++counters.hashRequests > (spec.hashReplies ?? Infinity)) return Effect.void
      const hashes = answer()
      return later(Effect.suspend(() => {
        wire.sent(hashes)
        return wire.downloader.deliverHashes(spec.id, hashes)
      }))
    })
  const handle: PeerHandle.PeerHandle = {
    id: spec.id,
    head: spec.hashes.at(0),
    version: spec.version ?? 60,
    requestHashes: (from) => answerHashes(() => hashReply(spec, from, wire.maxHashFetch)),
    requestHashesFromNumber: (number, amount) => answerHashes(() => numberReply(spec, number, amount)),
    requestBlocks: (hashes) =>
      Effect.suspend(() => {
        counters.blockRequests++
        counters.blocksAsked += hashes.length
        const blocks = blockReply(spec, hashes)
        return later(Effect.suspend(() => {
          counters.blocksSent += blocks.length
          return wire.downloader.deliverBlocks(spec.id, blocks)
        }), blockLatency)
      })
  }
  return { spec, handle, counters }
}
