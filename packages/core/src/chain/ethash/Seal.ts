/**
 * The Ethash seal check of a header, in two halves so that the costly one can run elsewhere (a
 * worker thread): {@link writeInput} and {@link runBatch} compute hashimoto-light for packed
 * headers, and {@link judge} compares its output with the header's mixHash and difficulty.
 *
 * @since 0.2.0
 */
import * as Hash from "../Hash.ts"
import * as Header from "../Header.ts"
import * as Hex from "../Hex.ts"
import { InvalidBlock } from "../InvalidBlock.ts"
import type * as Cache from "./Cache.ts"
import * as Wasm from "./Wasm.ts"

/** Words of one header's hashimoto input: its seal hash (8) and its nonce, little-endian (2). */
export const inputWords = 10
/** Words of one header's hashimoto output: the compressed mix (8) and the final hash (8). */
export const outputWords = 16

/** 2^256: the difficulty target is 2^256 / difficulty. */
const two256 = 1n << 256n

/** The seal hash: keccak-256 of the header's RLP without mixHash and nonce. */
export const sealHash = (header: Header.Header): Uint8Array => Wasm.keccak256(Header.encodeUnsealed(header))

/** Packs `header`'s hashimoto input at word `at` of `into`. */
export const writeInput = (header: Header.Header, into: Int32Array, at: number): void => {
  const bytes = new Uint8Array(into.buffer, into.byteOffset + at * 4, inputWords * 4)
  bytes.set(sealHash(header), 0)
  for (let i = 0; i < 8; i++) bytes[32 + i] = header.nonce[7 - i]!
}

/** Runs hashimoto-light for every packed input (`inputWords` each), writing `outputWords` each. */
export const runBatch = (cache: Cache.Cache, input: Int32Array, output: Int32Array): void =>
  Wasm.hashimoto(cache.words, cache.rows, cache.datasetRows, input, output)

/** The bytes of `words` words at `at` of `from`. */
const bytesAt = (from: Int32Array, at: number, words: number): Uint8Array =>
  new Uint8Array(from.buffer, from.byteOffset + at * 4, words * 4)

/** Judges `header`'s seal from its hashimoto output at word `at` of `output`: the InvalidBlock, or undefined. */
export const judge = (header: Header.Header, output: Int32Array, at: number): InvalidBlock | undefined => {
  const mix = bytesAt(output, at, 8)
  if (!Hex.equals(mix, header.mixHash)) {
    return new InvalidBlock({
      rule: "sealMixHash",
      number: header.number,
      hash: Hash.toHex(header.hash),
      reason: `the seal's mix digest is ${Hex.fromBytes(mix)}, not the header's mixHash ${Hash.toHex(header.mixHash)}`
    })
  }
  const hash = new DataView(output.buffer, output.byteOffset + (at + 8) * 4, 32)
  const result = (hash.getBigUint64(0) << 192n) | (hash.getBigUint64(8) << 128n) | (hash.getBigUint64(16) << 64n) |
    hash.getBigUint64(24)
  if (header.difficulty === 0n || result > two256 / header.difficulty) {
    return new InvalidBlock({
      rule: "sealDifficulty",
      number: header.number,
      hash: Hash.toHex(header.hash),
      reason: header.difficulty === 0n
        ? "a difficulty of 0 sets no target to meet"
        : `the seal's hash ${Hex.fromBytes(bytesAt(output, at + 8, 8))} is above 2^256 / difficulty ${header.difficulty}`
    })
  }
  return undefined
}

/**
 * Checks the seals of `headers` here and now, in one batch (for tests, and callers without worker
 * threads): the InvalidBlock of each, or undefined when its seal is good.
 */
export const check = (cache: Cache.Cache, headers: ReadonlyArray<Header.Header>): Array<InvalidBlock | undefined> => {
  const input = new Int32Array(headers.length * inputWords)
  const output = new Int32Array(headers.length * outputWords)
  headers.forEach((header, i) => writeInput(header, input, i * inputWords))
  runBatch(cache, input, output)
  return headers.map((header, i) => judge(header, output, i * outputWords))
}
