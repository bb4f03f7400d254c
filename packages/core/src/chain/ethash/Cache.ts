/**
 * The Ethash light cache of an epoch: rows of 16 little-endian words made by sequential keccak-512
 * from the seed, then mixed by 3 rounds of RandMemoHash. Light verification reads only this.
 *
 * @since 0.2.0
 */
import * as Epoch from "./Epoch.ts"
import * as Wasm from "./Wasm.ts"

/** 32-bit words per cache row. */
export const rowWords = 16

/** An epoch's cache, with the row counts hashimoto needs. */
export interface Cache {
  /** The epoch it belongs to. */
  readonly epoch: number
  /** The cache itself, `rows * 16` words (possibly over a SharedArrayBuffer shared by worker threads). */
  readonly words: Int32Array
  /** Rows of the cache. */
  readonly rows: number
  /** 128-byte rows of the epoch's full dataset. */
  readonly datasetRows: number
}

/** Words of an epoch's cache. */
export const wordsOf = (epoch: number): number => Epoch.cacheBytes(epoch) / 4

/** Fills `words` (a whole number of rows) with the cache of `seed`: the generation step, for any size. */
export const generate = (seed: Uint8Array, words: Int32Array): void => Wasm.makeCache(seed, words)

/** Wraps words already holding `epoch`'s cache (built elsewhere, or read back from a file). */
export const fromWords = (epoch: number, words: Int32Array): Cache => ({
  epoch,
  words,
  rows: words.length / rowWords,
  datasetRows: Epoch.datasetBytes(epoch) / Epoch.datasetRowBytes
})

/** Builds `epoch`'s cache into `words` (its length must be wordsOf(epoch)), or into new memory. */
export const make = (epoch: number, words: Int32Array = new Int32Array(wordsOf(epoch))): Cache => {
  generate(Epoch.seedHash(epoch), words)
  return fromWords(epoch, words)
}
