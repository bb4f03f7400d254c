/**
 * Answering a header-first (eth/62-68) peer's requests from the ChainStore, within the limits that
 * keep one answer small, as go-ethereum does: headers and bodies as their stored bytes (never
 * decoded or re-encoded), an empty receipt list for each block we hold (ethsync keeps no
 * receipts), and empty answers for state and pooled transactions (it keeps neither).
 *
 * @since 0.2.0
 */
import { ChainStore, Hash, type Header } from "@ethsync/core"
import { Effect, Metric, Option } from "effect"
import * as NetMetrics from "../net/NetMetrics.ts"
import * as HeaderFirstMessage from "./HeaderFirstMessage.ts"

/** Most headers one BlockHeaders answer holds, whatever the request asks. */
export const maxHeaders = 1024

/** Most bodies one BlockBodies answer holds. */
export const maxBodies = 1024

/** Most bytes of encoded bodies one BlockBodies answer holds (a lone larger body is still sent, alone). */
export const maxBodyBytes = 2 * 1024 * 1024

/** Most blocks one Receipts answer covers. */
export const maxReceiptBlocks = 1024

/** Most hashes of one GetBlockBodies or GetReceipts request looked up: a flood of unknown hashes costs no more. */
export const maxLookups = 2 * maxBodies

/**
 * Most parent links followed from a fork block towards the canonical chain for a reverse header
 * request: a deeper fork is cut short there rather than walked to the genesis.
 */
export const maxForkHops = 128

/** The requests a server answers. */
export type Request =
  | HeaderFirstMessage.GetBlockHeaders
  | HeaderFirstMessage.GetBlockBodies
  | HeaderFirstMessage.GetReceipts
  | HeaderFirstMessage.GetNodeData
  | HeaderFirstMessage.GetPooledTransactions

/** Whether a stored header is the canonical one at its height. */
const isCanonical = (store: ChainStore.Shape, header: Header.Header) =>
  Effect.map(store.canonicalHashes(header.number, 1), ([hash]) => hash !== undefined && Hash.equals(hash, header.hash))

/**
 * The canonical blocks at `start`, `start ± step`, … (downwards when `reverse`), by number and
 * hash: at most `count`, none when `start` is past the head, cut at the genesis or the head. One
 * range read when `step` is 1.
 */
const canonicalRun = (store: ChainStore.Shape, start: number, count: number, step: number, reverse: boolean) =>
  Effect.gen(function*(): Effect.fn.Return<ReadonlyArray<ChainStore.BlockId>, ChainStore.StoreError> {
    if (step === 1 && !reverse) return (yield* store.canonicalHashes(start, count)).map((hash, i) => ({ number: start + i, hash }))
    if (step === 1) {
      const low = Math.max(0, start - count + 1)
      const hashes = yield* store.canonicalHashes(low, start - low + 1)
      return hashes.length === start - low + 1 ? hashes.map((hash, i) => ({ number: low + i, hash })).reverse() : []
    }
    const out: Array<ChainStore.BlockId> = []
    for (let i = 0, number = start; i < count && number >= 0 && Number.isSafeInteger(number); i++) {
      const [hash] = yield* store.canonicalHashes(number, 1)
      if (hash === undefined) break
      out.push({ number, hash })
      number = reverse ? number - step : number + step
    }
    return out
  })

/**
 * The headers from a fork block: the block itself and, downwards, every `step`-th ancestor, walked
 * by parent links until the canonical chain (at most {@link maxForkHops} links), then read from the
 * canonical index. Upwards only the block itself: go-ethereum serves no fork's descendants either.
 */
const forkHeaders = (store: ChainStore.Shape, origin: Header.Header, count: number, step: number, reverse: boolean) =>
  Effect.gen(function*() {
    const out: Array<Uint8Array> = [origin.rlp]
    let next = origin.number - step
    let current = origin
    for (let hops = 0; reverse && out.length < count && next >= 0 && hops < maxForkHops; hops++) {
      const parent = yield* store.header(current.parentHash)
      if (Option.isNone(parent)) break
      current = parent.value
      if (yield* isCanonical(store, current)) {
        return [...out, ...(yield* store.headerRlps(yield* canonicalRun(store, next, count - out.length, step, true)))]
      }
      if (current.number === next) {
        out.push(current.rlp)
        next -= step
      }
    }
    return out
  })

/**
 * The stored header bytes a GetBlockHeaders asks for: from `origin` (a hash, a fork's included, or
 * a canonical number), every `skip + 1`-th block, upwards or (when `reverse`) downwards; at most
 * `amount`, capped at {@link maxHeaders}; cut at the head or the genesis, not refused; none for an
 * unknown origin.
 */
export const headerRlps = (request: {
  readonly origin: Hash.Hash | number
  readonly amount: number
  readonly skip: number
  readonly reverse: boolean
}): Effect.Effect<ReadonlyArray<Uint8Array>, ChainStore.StoreError, ChainStore.ChainStore> =>
  Effect.gen(function*() {
    const store = yield* ChainStore.ChainStore
    const count = Math.min(request.amount, maxHeaders)
    const step = request.skip + 1
    if (count === 0) return []
    if (typeof request.origin === "number") {
      return yield* store.headerRlps(yield* canonicalRun(store, request.origin, count, step, request.reverse))
    }
    const origin = yield* store.header(request.origin)
    if (Option.isNone(origin)) return []
    if (!(yield* isCanonical(store, origin.value))) return yield* forkHeaders(store, origin.value, count, step, request.reverse)
    return yield* store.headerRlps(yield* canonicalRun(store, origin.value.number, count, step, request.reverse))
  })

/**
 * The stored body bytes of the blocks with these hashes, in request order, unknown hashes skipped;
 * it stops at {@link maxBodies} bodies, after {@link maxLookups} hashes, or before the body that
 * would take it past {@link maxBodyBytes} (a first body larger than that is sent alone).
 */
export const bodyRlps = (hashes: ReadonlyArray<Hash.Hash>): Effect.Effect<ReadonlyArray<Uint8Array>, ChainStore.StoreError, ChainStore.ChainStore> =>
  Effect.gen(function*() {
    const store = yield* ChainStore.ChainStore
    const out: Array<Uint8Array> = []
    let bytes = 0
    for (const hash of hashes.slice(0, maxLookups)) {
      if (out.length >= maxBodies) break
      const rlp = yield* store.bodyRlp(hash)
      if (Option.isNone(rlp)) continue
      if (out.length > 0 && bytes + rlp.value.length > maxBodyBytes) break
      out.push(rlp.value)
      bytes += rlp.value.length
    }
    return out
  })

/**
 * How many of these hashes name blocks we hold (unknown hashes skipped, at most
 * {@link maxReceiptBlocks}, after at most {@link maxLookups} hashes): each gets an empty receipt list.
 */
export const receiptBlocks = (hashes: ReadonlyArray<Hash.Hash>): Effect.Effect<number, ChainStore.StoreError, ChainStore.ChainStore> =>
  Effect.gen(function*() {
    const store = yield* ChainStore.ChainStore
    let held = 0
    for (const hash of hashes.slice(0, maxLookups)) {
      if (held >= maxReceiptBlocks) break
      if (yield* store.has(hash)) held++
    }
    return held
  })

/**
 * The encoded answer to a request, carrying its request id: BlockHeaders, BlockBodies (their
 * headers and bodies counted as served), Receipts, NodeData or PooledTransactions.
 */
export const answer = (request: Request): Effect.Effect<HeaderFirstMessage.Encoded, ChainStore.StoreError, ChainStore.ChainStore> => {
  const { requestId } = request
  switch (request._tag) {
    case "GetBlockHeaders":
      return headerRlps(request).pipe(
        Effect.tap((rlps) => Metric.update(NetMetrics.headersServed, rlps.length)),
        Effect.map((rlps) => HeaderFirstMessage.encodeStored("BlockHeaders", requestId, rlps))
      )
    case "GetBlockBodies":
      return bodyRlps(request.hashes).pipe(
        Effect.tap((rlps) => Metric.update(NetMetrics.bodiesServed, rlps.length)),
        Effect.map((rlps) => HeaderFirstMessage.encodeStored("BlockBodies", requestId, rlps))
      )
    case "GetReceipts":
      return Effect.map(
        receiptBlocks(request.hashes),
        (held) => HeaderFirstMessage.encode(HeaderFirstMessage.Receipts({ requestId, receipts: Array.from({ length: held }, () => []) }))
      )
    case "GetNodeData":
      return Effect.succeed(HeaderFirstMessage.encode(HeaderFirstMessage.NodeData({ requestId, values: [] })))
    case "GetPooledTransactions":
      return Effect.succeed(HeaderFirstMessage.encode(HeaderFirstMessage.PooledTransactions({ requestId, transactions: [] })))
  }
}
