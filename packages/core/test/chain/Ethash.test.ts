/**
 * Ethash in core: the sizes and seeds of epochs, the WebAssembly keccak against @noble/hashes, the
 * cache and hashimoto on a small made-up cache against a straightforward reference written here,
 * and the seal check of real mainnet headers, changed ones failing with the rule named.
 */
import { keccak_256, keccak_512 } from "@noble/hashes/sha3.js"
import { describe, expect, it } from "@effect/vitest"
import * as Cache from "../../src/chain/ethash/Cache.ts"
import * as Epoch from "../../src/chain/ethash/Epoch.ts"
import * as Seal from "../../src/chain/ethash/Seal.ts"
import * as Wasm from "../../src/chain/ethash/Wasm.ts"
import * as Header from "../../src/chain/Header.ts"
import * as Hex from "../../src/chain/Hex.ts"
import { load, skipReason, warnIfSkipped } from "../support/mainnet.ts"
import { block1, changed, uncleOf3 } from "../support/sealedHeaders.ts"

/** Bytes of words (little-endian, as Ethash defines them). */
const bytesOf = (words: Int32Array): Uint8Array => new Uint8Array(words.buffer, words.byteOffset, words.byteLength)

/** Deterministic pseudo-random words. */
const wordsFrom = (seed: number, count: number): Int32Array => {
  const out = new Int32Array(count)
  for (let i = 0; i < count; i++) {
    seed = Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5 | 0
    out[i] = seed
  }
  return out
}

// A straightforward Ethash, written from the specification on bytes, with @noble/hashes' keccak.
const fnv = (a: number, b: number) => ((Math.imul(a, 0x01000193) ^ b) >>> 0)
const u32 = (bytes: Uint8Array, word: number) => new DataView(bytes.buffer, bytes.byteOffset).getUint32(word * 4, true)
const putU32 = (bytes: Uint8Array, word: number, value: number) =>
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(word * 4, value, true)

const referenceCache = (seed: Uint8Array, rows: number): Array<Uint8Array> => {
  const cache: Array<Uint8Array> = [keccak_512(seed)]
  for (let i = 1; i < rows; i++) cache.push(keccak_512(cache[i - 1]!))
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < rows; i++) {
      const v = u32(cache[i]!, 0) % rows
      const xored = cache[(i - 1 + rows) % rows]!.map((b, k) => b ^ cache[v]![k]!)
      cache[i] = keccak_512(xored)
    }
  }
  return cache
}

const referenceItem = (cache: Array<Uint8Array>, index: number): Uint8Array => {
  const rows = cache.length
  const start = cache[index % rows]!.slice()
  putU32(start, 0, u32(start, 0) ^ index)
  let mix = keccak_512(start)
  for (let i = 0; i < 256; i++) {
    const parent = cache[fnv(index ^ i, u32(mix, i % 16)) % rows]!
    const next = new Uint8Array(64)
    for (let k = 0; k < 16; k++) putU32(next, k, fnv(u32(mix, k), u32(parent, k)))
    mix = next
  }
  return keccak_512(mix)
}

const referenceHashimoto = (cache: Array<Uint8Array>, datasetRows: number, sealHash: Uint8Array, nonce: Uint8Array) => {
  const seed = keccak_512(Uint8Array.from([...sealHash, ...[...nonce].reverse()]))
  const mix = new Uint8Array(128)
  mix.set(seed, 0)
  mix.set(seed, 64)
  for (let i = 0; i < 64; i++) {
    const parent = fnv(i ^ u32(seed, 0), u32(mix, i % 32)) % datasetRows
    const row = Uint8Array.from([...referenceItem(cache, 2 * parent), ...referenceItem(cache, 2 * parent + 1)])
    for (let k = 0; k < 32; k++) putU32(mix, k, fnv(u32(mix, k), u32(row, k)))
  }
  const digest = new Uint8Array(32)
  for (let k = 0; k < 8; k++) {
    putU32(digest, k, fnv(fnv(fnv(u32(mix, 4 * k), u32(mix, 4 * k + 1)), u32(mix, 4 * k + 2)), u32(mix, 4 * k + 3)))
  }
  return { digest, result: keccak_256(Uint8Array.from([...seed, ...digest])) }
}

describe("Ethash epochs", () => {
  it("gives the specification's sizes and seeds", () => {
    expect(Epoch.cacheBytes(0)).toBe(16_776_896)
    expect(Epoch.datasetBytes(0)).toBe(1_073_739_904)
    expect(Epoch.cacheBytes(1)).toBe(16_907_456)
    expect(Epoch.datasetBytes(1)).toBe(1_082_130_304)
    expect(Epoch.ofBlock(29_999)).toBe(0)
    expect(Epoch.ofBlock(30_000)).toBe(1)
    expect(Hex.fromBytes(Epoch.seedHash(0))).toBe("0x" + "00".repeat(32))
    expect(Hex.fromBytes(Epoch.seedHash(1))).toBe("0x290decd9548b62a8d60345a988386fc84ba6bc95484008f6362f93160ef3e563")
  })
})

describe("Ethash keccak (WebAssembly)", () => {
  it("matches @noble/hashes' keccak-512 and keccak-256 for every input size that fits one block", () => {
    for (let lanes = 0; lanes <= 8; lanes++) {
      const input = bytesOf(wordsFrom(lanes + 1, 2 * lanes))
      expect(Hex.fromBytes(Wasm.keccak(input, 9, 8))).toBe(Hex.fromBytes(keccak_512(input)))
    }
    for (let lanes = 0; lanes <= 16; lanes++) {
      const input = bytesOf(wordsFrom(lanes + 100, 2 * lanes))
      expect(Hex.fromBytes(Wasm.keccak(input, 17, 4))).toBe(Hex.fromBytes(keccak_256(input)))
    }
  })

  it("matches @noble/hashes' keccak-256 on bytes of any length, across block boundaries", () => {
    for (const length of [0, 1, 31, 135, 136, 137, 271, 272, 530, 70_000]) {
      const input = Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff)
      expect(Hex.fromBytes(Wasm.keccak256(input))).toBe(Hex.fromBytes(keccak_256(input)))
    }
  })
})

describe("Ethash on a small made-up cache", () => {
  const rows = 1021
  const seed = Epoch.seedHash(3)
  const words = new Int32Array(rows * Cache.rowWords)
  Cache.generate(seed, words)
  const reference = referenceCache(seed, rows)
  const cache: Cache.Cache = { epoch: 3, words, rows, datasetRows: 4093 }

  it("generates the same cache as the reference", () => {
    expect(Hex.fromBytes(bytesOf(words))).toBe(Hex.fromBytes(Uint8Array.from(reference.flatMap((row) => [...row]))))
  })

  it("computes the same hashimoto outputs as the reference, for batches of any length", () => {
    // 9 headers: a whole lockstep group of 8, and a padded last group.
    const headers = Array.from({ length: 9 }, (_, i) =>
      changed(i % 2 === 0 ? block1 : uncleOf3, { nonce: bytesOf(wordsFrom(i + 7, 2)) }))
    const input = new Int32Array(headers.length * Seal.inputWords)
    const output = new Int32Array(headers.length * Seal.outputWords)
    headers.forEach((header, i) => Seal.writeInput(header, input, i * Seal.inputWords))
    Seal.runBatch(cache, input, output)
    headers.forEach((header, i) => {
      const expected = referenceHashimoto(reference, cache.datasetRows, Seal.sealHash(header), header.nonce)
      const at = i * Seal.outputWords
      expect(Hex.fromBytes(bytesOf(output.subarray(at, at + 8)))).toBe(Hex.fromBytes(expected.digest))
      expect(Hex.fromBytes(bytesOf(output.subarray(at + 8, at + 16)))).toBe(Hex.fromBytes(expected.result))
    })
  })
})

describe("Ethash seals of real headers (epoch 0's cache, built once)", () => {
  const epoch0 = Cache.make(0)

  it("accepts real seals", () => {
    expect(Seal.check(epoch0, [block1, uncleOf3])).toEqual([undefined, undefined])
  })

  it("rejects a changed nonce or mixHash as sealMixHash, and a raised difficulty as sealDifficulty", () => {
    const nonce = block1.nonce.slice()
    nonce[7] = nonce[7]! ^ 1
    const mixHash = block1.mixHash.slice() as typeof block1.mixHash
    mixHash[0] = mixHash[0]! ^ 0x80
    // A difficulty change alters the seal hash and so the mix: it is caught as a mix mismatch too.
    const failures = Seal.check(epoch0, [
      changed(block1, { nonce }),
      changed(block1, { mixHash }),
      changed(block1, { difficulty: block1.difficulty * 1000n })
    ])
    expect(failures.map((failure) => failure?.rule)).toEqual(["sealMixHash", "sealMixHash", "sealMixHash"])
    expect(failures[1]?.message).toContain("not the header's mixHash")
  })

  it("rejects a good mix whose hash misses the difficulty as sealDifficulty", () => {
    // The mix is judged against the stored header's output; the same output under a higher
    // difficulty (same seal hash, so same mix) must fail the target, not the mix.
    const input = new Int32Array(Seal.inputWords)
    const output = new Int32Array(Seal.outputWords)
    Seal.writeInput(block1, input, 0)
    Seal.runBatch(epoch0, input, output)
    const harder = new Header.Header({ ...block1, difficulty: 1n << 250n }, block1.rlp)
    const failure = Seal.judge(harder, output, 0)
    expect(failure?.rule).toBe("sealDifficulty")
    expect(failure?.message).toContain("above 2^256 / difficulty")
    const zero = Seal.judge(new Header.Header({ ...block1, difficulty: 0n }, block1.rlp), output, 0)
    expect([zero?.rule, zero?.reason]).toEqual(["sealDifficulty", "a difficulty of 0 sets no target to meet"])
    expect(Seal.judge(block1, output, 0)).toBeUndefined()
  })

  it.skipIf(skipReason !== undefined)("accepts the first 1,000 mainnet headers, checked in one batch", () => {
    const headers = load().blocks.slice(1, 1001).map((block) => block.header)
    expect(Seal.check(epoch0, headers).filter((failure) => failure !== undefined)).toEqual([])
  })
  warnIfSkipped("Ethash.test.ts (mainnet headers)")
})
