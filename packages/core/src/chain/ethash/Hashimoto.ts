/**
 * Hashimoto-light: the Ethash proof-of-work function computed from the cache alone. Each of its
 * 64 accesses reads a 128-byte dataset row, whose two 64-byte items are derived from 256 cache
 * rows each; everything runs on preallocated `Int32Array`s, with no allocation per call.
 *
 * Speed: the two items of a row are independent, so they are computed in lockstep, their 32 mix
 * words in locals: the random cache reads of one overlap those of the other (the cache, 16 MiB
 * and up, misses the CPU's nearer caches). Row indices use `u - floor(u / rows) * rows`, exact
 * below 2^53 and about three times as fast in V8 as `%` on a uint32.
 *
 * @since 0.2.0
 */
import * as Cache from "./Cache.ts"
import * as Keccak from "./Keccak.ts"

/** The FNV prime Ethash mixes with (a multiply then xor, unlike FNV-1's xor then multiply). */
const fnvPrime = 0x01000193
/** Cache parents folded into each dataset item. */
const datasetParents = 256
/** Dataset rows read per hashimoto run. */
const accesses = 64
/** Words of the mix: one 128-byte dataset row. */
const mixWords = 32

/** Index `u` (a uint32) reduced modulo `rows`. */
const mod = (u: number, rows: number): number => u - Math.floor(u / rows) * rows

/** Scratch for one dataset item (16 words). */
const item = new Int32Array(16)

/** Computes dataset item `index` from the cache into 16 words at `out[outAt]`. */
export const datasetItem = (cache: Cache.Cache, index: number, out: Int32Array, outAt: number): void => {
  const words = cache.words
  const rows = cache.rows
  const mix = item
  const base = mod(index, rows) * 16
  for (let k = 0; k < 16; k++) mix[k] = words[base + k]!
  mix[0] = mix[0]! ^ index
  Keccak.hash512(mix, 0, 16, mix, 0)
  let m0 = mix[0]!, m1 = mix[1]!, m2 = mix[2]!, m3 = mix[3]!, m4 = mix[4]!, m5 = mix[5]!, m6 = mix[6]!, m7 = mix[7]!, m8 = mix[8]!, m9 = mix[9]!, m10 = mix[10]!, m11 = mix[11]!, m12 = mix[12]!, m13 = mix[13]!, m14 = mix[14]!, m15 = mix[15]!
  let at = 0, u = 0
  for (let i = 0; i < datasetParents; i += 16) {
    u = (Math.imul(index ^ i, fnvPrime) ^ m0) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 1), fnvPrime) ^ m1) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 2), fnvPrime) ^ m2) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 3), fnvPrime) ^ m3) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 4), fnvPrime) ^ m4) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 5), fnvPrime) ^ m5) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 6), fnvPrime) ^ m6) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 7), fnvPrime) ^ m7) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 8), fnvPrime) ^ m8) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 9), fnvPrime) ^ m9) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 10), fnvPrime) ^ m10) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 11), fnvPrime) ^ m11) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 12), fnvPrime) ^ m12) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 13), fnvPrime) ^ m13) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 14), fnvPrime) ^ m14) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
    u = (Math.imul(index ^ (i + 15), fnvPrime) ^ m15) >>> 0
    at = (u - Math.floor(u / rows) * rows) << 4
    m0 = Math.imul(m0, fnvPrime) ^ words[at]!; m1 = Math.imul(m1, fnvPrime) ^ words[at + 1]!; m2 = Math.imul(m2, fnvPrime) ^ words[at + 2]!; m3 = Math.imul(m3, fnvPrime) ^ words[at + 3]!
    m4 = Math.imul(m4, fnvPrime) ^ words[at + 4]!; m5 = Math.imul(m5, fnvPrime) ^ words[at + 5]!; m6 = Math.imul(m6, fnvPrime) ^ words[at + 6]!; m7 = Math.imul(m7, fnvPrime) ^ words[at + 7]!
    m8 = Math.imul(m8, fnvPrime) ^ words[at + 8]!; m9 = Math.imul(m9, fnvPrime) ^ words[at + 9]!; m10 = Math.imul(m10, fnvPrime) ^ words[at + 10]!; m11 = Math.imul(m11, fnvPrime) ^ words[at + 11]!
    m12 = Math.imul(m12, fnvPrime) ^ words[at + 12]!; m13 = Math.imul(m13, fnvPrime) ^ words[at + 13]!; m14 = Math.imul(m14, fnvPrime) ^ words[at + 14]!; m15 = Math.imul(m15, fnvPrime) ^ words[at + 15]!
  }
  mix[0] = m0; mix[1] = m1; mix[2] = m2; mix[3] = m3; mix[4] = m4; mix[5] = m5; mix[6] = m6; mix[7] = m7
  mix[8] = m8; mix[9] = m9; mix[10] = m10; mix[11] = m11; mix[12] = m12; mix[13] = m13; mix[14] = m14; mix[15] = m15
  Keccak.hash512(mix, 0, 16, out, outAt)
}

/** Scratch: the seed (16 words) then the compressed mix (8): the final hash's input. */
const seedAndMix = new Int32Array(24)
/** Scratch: the 32-word mix. */
const mix = new Int32Array(mixWords)
/** Scratch: the dataset row read at each access. */
const row = new Int32Array(mixWords)

/**
 * Runs hashimoto-light for a seal hash (8 words at `input[inputAt]`) and the nonce as a
 * little-endian 64-bit number (2 words after it), writing the compressed mix (8 words) then the
 * final hash (8 words) to `out[outAt]`.
 */
export const light = (cache: Cache.Cache, input: Int32Array, inputAt: number, out: Int32Array, outAt: number): void => {
  const s = seedAndMix
  Keccak.hash512(input, inputAt, 10, s, 0)
  for (let k = 0; k < mixWords; k++) mix[k] = s[k & 15]!
  const seedHead = s[0]!
  const rows = cache.datasetRows
  for (let i = 0; i < accesses; i++) {
    const parent = mod((Math.imul(i ^ seedHead, fnvPrime) ^ mix[i & 31]!) >>> 0, rows)
    datasetItem(cache, 2 * parent, row, 0)
    datasetItem(cache, 2 * parent + 1, row, 16)
    for (let k = 0; k < mixWords; k++) mix[k] = Math.imul(mix[k]!, fnvPrime) ^ row[k]!
  }
  for (let k = 0; k < 8; k++) {
    const a = mix[4 * k]!, b = mix[4 * k + 1]!, c = mix[4 * k + 2]!, d = mix[4 * k + 3]!
    s[16 + k] = Math.imul(Math.imul(Math.imul(a, fnvPrime) ^ b, fnvPrime) ^ c, fnvPrime) ^ d
  }
  for (let k = 0; k < 8; k++) out[outAt + k] = s[16 + k]!
  Keccak.hash256(s, 0, 24, out, outAt + 8)
}
