/**
 * Ethash epochs: every 30,000 blocks share one seed, and so one cache and one dataset, whose sizes
 * grow linearly with the epoch and are trimmed to a prime number of rows.
 *
 * @since 0.2.0
 */
import { keccak_256 } from "@noble/hashes/sha3.js"

/** Blocks per epoch. */
export const length = 30000
/** Bytes of a cache row (one keccak-512 output). */
export const cacheRowBytes = 64
/** Bytes of a dataset row as hashimoto reads it (two dataset items). */
export const datasetRowBytes = 128

/** The epoch a block number falls in. */
export const ofBlock = (blockNumber: number): number => Math.floor(blockNumber / length)

/** Whether n is prime (trial division up to its square root: under 12,000 for any epoch's row count). */
const isPrime = (n: number): boolean => {
  if (n < 2) return false
  if (n % 2 === 0) return n === 2
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false
  return true
}

/** The largest size below `limit` bytes that is a prime number of `row`-byte rows. */
const primeRows = (limit: number, row: number): number => {
  let size = limit - row
  while (!isPrime(size / row)) size -= 2 * row
  return size
}

/** The cache's size in bytes: 16,776,896 for epoch 0. */
export const cacheBytes = (epoch: number): number => primeRows(2 ** 24 + 2 ** 17 * epoch, cacheRowBytes)

/** The full dataset's size in bytes (light verification needs only its row count): 1,073,739,904 for epoch 0. */
export const datasetBytes = (epoch: number): number => primeRows(2 ** 30 + 2 ** 23 * epoch, datasetRowBytes)

/** The epoch's seed: keccak-256 applied `epoch` times to 32 zero bytes. */
export const seedHash = (epoch: number): Uint8Array => {
  let seed = new Uint8Array(32)
  for (let i = 0; i < epoch; i++) seed = keccak_256(seed)
  return seed
}
