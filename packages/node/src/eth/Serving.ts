/**
 * Answering a peer's requests from the ChainStore, as go-ethereum 1.0 does, within the limits
 * that keep one answer small: hashes from the canonical index in one read per request, blocks as
 * their stored bytes (never decoded or re-encoded).
 *
 * @since 0.2.0
 */
import { ChainStore, Hash, type Header } from "@ethsync/core"
import { Effect, Metric, Option } from "effect"
import * as NetMetrics from "../net/NetMetrics.ts"
import * as EthMessage from "./EthMessage.ts"

/** Most hashes one BlockHashes answer holds, whatever the request asks. */
export const maxHashes = 2048

/** Most blocks one Blocks answer holds. */
export const maxBlocks = 128

/** Most bytes of encoded blocks one Blocks answer holds (a lone larger block is still sent, alone). */
export const maxBlockBytes = 2 * 1024 * 1024

/**
 * Most hashes of one GetBlocks request looked up, as later go-ethereum bounds it: a client asks
 * for at most 128, so only a peer sending a 10 MiB list of unknown hashes is cut short by it.
 */
export const maxLookups = 2 * maxBlocks

/** The requests a server answers. */
export type Request = EthMessage.GetBlockHashes | EthMessage.GetBlockHashesFromNumber | EthMessage.GetBlocks

/**
 * The hashes of the ancestors of the block `hash`, newest first, from its parent down to the
 * genesis: at most `max` (capped at {@link maxHashes}); none for an unknown hash. A fork's blocks
 * are walked by their parent links until the canonical chain, whose hashes are read as one range.
 */
export const blockHashes = (hash: Hash.Hash, max: number): Effect.Effect<ReadonlyArray<Hash.Hash>, ChainStore.StoreError, ChainStore.ChainStore> =>
  Effect.gen(function*() {
    const store = yield* ChainStore.ChainStore
    const wanted = Math.min(max, maxHashes)
    const out: Array<Hash.Hash> = []
    let current: Option.Option<Header.Header> = wanted > 0 ? yield* store.header(hash) : Option.none()
    while (Option.isSome(current) && current.value.number > 0 && out.length < wanted) {
      const header = current.value
      const [canonical] = yield* store.canonicalHashes(header.number, 1)
      if (canonical !== undefined && Hash.equals(canonical, header.hash)) {
        const low = Math.max(0, header.number - (wanted - out.length))
        const range = yield* store.canonicalHashes(low, header.number - low + 1)
        // Unless a new head moved the chain between the two reads, the range ends with this block.
        const top = range[header.number - low]
        if (top !== undefined && Hash.equals(top, header.hash)) for (let i = range.length - 2; i >= 0; i--) out.push(range[i]!)
        return out
      }
      current = yield* store.header(header.parentHash)
      if (Option.isSome(current)) out.push(header.parentHash)
    }
    return out
  })

/** The canonical hashes from height `number` up, ascending: at most `amount` (capped at {@link maxHashes}), cut at the head. */
export const blockHashesFromNumber = (number: number, amount: number): Effect.Effect<ReadonlyArray<Hash.Hash>, ChainStore.StoreError, ChainStore.ChainStore> =>
  ChainStore.ChainStore.use((store) => store.canonicalHashes(number, Math.min(amount, maxHashes)))

/**
 * The stored RLP of the blocks with these hashes, in request order, unknown hashes skipped; it
 * stops at {@link maxBlocks} blocks, after {@link maxLookups} hashes, or before the block that
 * would take it past {@link maxBlockBytes} (a first block larger than that is sent alone, or it
 * could never be).
 */
export const blockRlps = (hashes: ReadonlyArray<Hash.Hash>): Effect.Effect<ReadonlyArray<Uint8Array>, ChainStore.StoreError, ChainStore.ChainStore> =>
  ChainStore.ChainStore.use((store) => store.blockRlps(hashes.slice(0, maxLookups), { blocks: maxBlocks, bytes: maxBlockBytes }))

/** The encoded answer to a request: BlockHashes or Blocks (its blocks counted as served). */
export const answer = (request: Request): Effect.Effect<EthMessage.Encoded, ChainStore.StoreError, ChainStore.ChainStore> => {
  switch (request._tag) {
    case "GetBlockHashes":
      return Effect.map(blockHashes(request.hash, request.max), (hashes) => EthMessage.encode(EthMessage.BlockHashes({ hashes })))
    case "GetBlockHashesFromNumber":
      return Effect.map(
        blockHashesFromNumber(request.number, request.amount),
        (hashes) => EthMessage.encode(EthMessage.BlockHashes({ hashes }))
      )
    case "GetBlocks":
      return blockRlps(request.hashes).pipe(
        Effect.tap((rlps) => Metric.update(NetMetrics.blocksServed, rlps.length)),
        Effect.map(EthMessage.encodeStoredBlocks)
      )
  }
}
