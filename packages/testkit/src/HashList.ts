/**
 * A simulated peer's hash chain, newest first (its head at index 0), read by position and searched
 * by hash. Views over shared block arrays and computed lists keep million-hash attacks cheap: no
 * hash is materialised or indexed before a peer is asked for it.
 *
 * @since 0.1.0
 */
import { type Block, Hash } from "@ethsync/core"

/** A hash chain, newest first. */
export interface HashList {
  /** Number of hashes. */
  readonly length: number
  /** The hash at `index` (0 is the head). */
  readonly at: (index: number) => Hash.Hash
  /** Position of the first occurrence of `hash`, or -1. */
  readonly indexOf: (hash: Hash.Hash) => number
}

/** Positions by hash key, built on first search; the first occurrence wins. */
const lazyIndex = (list: Pick<HashList, "length" | "at">): (hash: Hash.Hash) => number => {
  /** Hash key -> first position; built when first needed. */
  let index: Map<string, number> | undefined
  return (hash) => {
    if (index === undefined) {
      index = new Map()
      for (let i = 0; i < list.length; i++) {
        const key = Hash.key(list.at(i))
        if (!index.has(key)) index.set(key, i)
      }
    }
    return index.get(Hash.key(hash)) ?? -1
  }
}

/** A list over an array of hashes (not copied). */
export const fromArray = (hashes: ReadonlyArray<Hash.Hash>): HashList => {
  const at = (i: number) => hashes[i]!
  return { length: hashes.length, at, indexOf: lazyIndex({ length: hashes.length, at }) }
}

/** The hashes of `chain` (oldest first, as generated), newest first; searched by the blocks' cached keys. */
export const ofChain = (chain: ReadonlyArray<Block.Block>): HashList => {
  const last = chain.length - 1
  /** Block key -> position in `chain`; built on first search. */
  let index: Map<string, number> | undefined
  return {
    length: chain.length,
    at: (i) => chain[last - i]!.hash,
    indexOf: (hash) => {
      if (index === undefined) index = new Map(chain.map((block, i) => [block.key, i]))
      const position = index.get(Hash.key(hash))
      return position === undefined ? -1 : last - position
    }
  }
}

/** `list` without its first `count` hashes: a peer that holds a shorter tail of the same chain. */
export const drop = (list: HashList, count: number): HashList => ({
  length: Math.max(0, list.length - count),
  at: (i) => list.at(i + count),
  indexOf: (hash) => {
    const i = list.indexOf(hash)
    return i < count ? -1 : i - count
  }
})

/** First byte of every made-up hash, so they never collide with keccak digests of test blocks by design. */
const madeUpMarker = 0xee

/**
 * `count` made-up hashes computed from their position (tagged with `tag` so that two lists differ),
 * then `root`: a fake chain hanging off a real block, with no block behind any made-up hash.
 */
export const madeUp = (count: number, root: Hash.Hash, tag: number): HashList => {
  const at = (i: number): Hash.Hash => {
    if (i === count) return root
    const bytes = new Uint8Array(32)
    const view = new DataView(bytes.buffer)
    bytes[0] = madeUpMarker
    view.setUint32(1, tag)
    view.setUint32(28, i)
    return Hash.makeUnsafe(bytes)
  }
  return {
    length: count + 1,
    at,
    indexOf: (hash) => {
      if (Hash.equals(hash, root)) return count
      if (hash[0] !== madeUpMarker) return -1
      const i = new DataView(hash.buffer, hash.byteOffset, 32).getUint32(28)
      return i < count && Hash.equals(at(i), hash) ? i : -1
    }
  }
}

/**
 * A list of `length` hashes computed on demand by `compute` and remembered: for attacks whose every
 * hash costs a keccak (forged blocks), only the part a sync actually reads is ever computed.
 */
export const lazy = (length: number, compute: (index: number) => Hash.Hash): HashList => {
  /** Hashes computed so far, by position. */
  const computed: Array<Hash.Hash> = []
  /** Hash key -> position, for every computed hash. */
  const positions = new Map<string, number>()
  const at = (i: number): Hash.Hash => {
    while (computed.length <= i) {
      const hash = compute(computed.length)
      const key = Hash.key(hash)
      if (!positions.has(key)) positions.set(key, computed.length)
      computed.push(hash)
    }
    return computed[i]!
  }
  return {
    length,
    at,
    indexOf: (hash) => {
      const key = Hash.key(hash)
      while (!positions.has(key) && computed.length < length) at(computed.length)
      return positions.get(key) ?? -1
    }
  }
}

/** Every hash of `list`, newest first, as an array (for attacks that rearrange a real chain). */
export const toArray = (list: HashList): Array<Hash.Hash> => Array.from({ length: list.length }, (_, i) => list.at(i))
