/**
 * A ChainStore in memory: for tests, the demo's peers and benchmarks.
 *
 * @since 0.1.0
 */
import { Effect, Layer, Option } from "effect"
import * as BatchValidation from "./BatchValidation.ts"
import * as Block from "./Block.ts"
import { ChainStore, collectRlps, type Head, type Shape } from "./ChainStore.ts"
import * as Hash from "./Hash.ts"
import * as SealVerifier from "./SealVerifier.ts"

/** A stored block with its total difficulty. */
interface Entry {
  /** The block. */
  readonly block: Block.Block
  /** Its total difficulty. */
  readonly td: bigint
}

/**
 * Builds a store holding `genesis` (and nothing else) whose inserts check seals with `verifier`:
 * by default none, since generated chains carry made-up seals.
 */
export const make = (genesis: Block.Block, verifier: SealVerifier.Shape = SealVerifier.none): Shape => {
  /** Every stored block by hash key, forks included. */
  const blocks = new Map<string, Entry>([[Hash.key(genesis.hash), { block: genesis, td: genesis.header.difficulty }]])
  /** Canonical chain: index = number. */
  const canonical: Array<Block.Block> = [genesis]
  /** The canonical head. */
  let head: Entry = blocks.get(Hash.key(genesis.hash))!

  /** Validation's lookup: by hash key alone, the height it is given not needed. */
  const lookup = (_hash: Hash.Hash, key: string) => {
    const entry = blocks.get(key)
    return entry && { header: entry.block.header, uncles: BatchValidation.uncleKeys(entry.block), td: entry.td }
  }

  /** Makes `entry` the head, rewriting the canonical index back to where it meets the old chain. */
  const setHead = (entry: Entry) => {
    head = entry
    canonical.length = entry.block.number + 1
    let block = entry.block
    while (canonical[block.number] !== block) {
      canonical[block.number] = block
      if (block.number === 0) break
      block = blocks.get(Hash.key(block.header.parentHash))!.block
    }
  }

  return {
    genesis,
    has: (hash) => Effect.sync(() => blocks.has(Hash.key(hash))),
    firstKnown: (hashes) => Effect.sync(() => hashes.findIndex((hash) => blocks.has(Hash.key(hash)))),
    get: (hash) => Effect.sync(() => Option.fromUndefinedOr(blocks.get(Hash.key(hash))?.block)),
    getByNumber: (number) => Effect.sync(() => Option.fromUndefinedOr(canonical[number])),
    canonicalHashes: (first, count) =>
      Effect.sync(() => {
        const hashes: Array<Hash.Hash> = []
        for (let number = Math.max(first, 0); number < Math.min(first + count, canonical.length); number++) {
          hashes.push(canonical[number]!.hash)
        }
        return hashes
      }),
    header: (hash) => Effect.sync(() => Option.fromUndefinedOr(blocks.get(Hash.key(hash))?.block.header)),
    blockRlps: (hashes, limits) => Effect.sync(() => collectRlps(hashes, limits, (hash) => blocks.get(Hash.key(hash))?.block.rlp)),
    headerRlps: (ids) =>
      Effect.sync(() =>
        ids.flatMap(({ number, hash }) => {
          const header = blocks.get(Hash.key(hash))?.block.header
          return header?.number === number ? header.rlp : []
        })
      ),
    bodyRlp: (hash) =>
      Effect.sync(() => Option.map(Option.fromUndefinedOr(blocks.get(Hash.key(hash))?.block), Block.bodyRlp)),
    td: (hash) => Effect.sync(() => Option.fromUndefinedOr(blocks.get(Hash.key(hash))?.td)),
    head: Effect.sync((): Head => ({ block: head.block, td: head.td })),
    insert: (batch) =>
      // The validation may be interrupted even when the insert is run uninterruptibly: nothing is written yet.
      Effect.flatMap(Effect.interruptible(BatchValidation.validate(batch, lookup, verifier)), ({ accepted, failure }) => {
        let best: Entry | undefined
        for (const entry of accepted) {
          blocks.set(entry.block.key, entry)
          if (entry.td > (best ?? head).td) best = entry
        }
        if (best) setHead(best)
        return failure ? Effect.fail(failure) : Effect.succeed(accepted.length)
      })
  }
}

/** The memory store as a layer, starting from `genesis`, checking seals with `verifier` (by default none). */
export const layer = (genesis: Block.Block, verifier: SealVerifier.Shape = SealVerifier.none): Layer.Layer<ChainStore> =>
  Layer.sync(ChainStore, () => make(genesis, verifier))
