/**
 * Access to the real mainnet blocks 0..8191, read (never copied) from the file that
 * ETHSYNC_MAINNET_RLP names. Loaded once per test file, on first use.
 */
import { existsSync, readFileSync } from "node:fs"
import { Result } from "effect"
import * as Block from "../../src/chain/Block.ts"
import * as RlpSplitter from "../../src/chain/RlpSplitter.ts"

/** The path of the concatenated RLP file, or undefined when the variable is unset. */
export const rlpPath: string | undefined = process.env["ETHSYNC_MAINNET_RLP"] || undefined

/** Why the real-data tests did not run, or undefined when they do. */
export const skipReason: string | undefined = rlpPath === undefined
  ? "skipped: ETHSYNC_MAINNET_RLP is not set (point it at mainnet-0-8191.rlp to run the real-data tests)"
  : undefined

/** The per-block total difficulty file that sits beside the RLP file (`<name>.td.txt`). */
export const tdPath: string | undefined = rlpPath === undefined ? undefined : rlpPath.replace(/\.rlp$/, "") + ".td.txt"

/** Whether the total-difficulty file is present beside the RLP file. */
export const hasTdFile: boolean = rlpPath !== undefined && tdPath !== undefined && existsSync(tdPath)

/** The real data: the file's bytes, its top-level items, and each item decoded. */
export interface Mainnet {
  readonly bytes: Uint8Array
  readonly items: ReadonlyArray<Uint8Array>
  readonly blocks: ReadonlyArray<Block.Block>
}

let cached: Mainnet | undefined

/** Reads and decodes the file once; throws (failing the calling test) if any block does not decode. */
export const load = (): Mainnet => {
  if (cached) return cached
  if (rlpPath === undefined) throw new Error(skipReason)
  const bytes = new Uint8Array(readFileSync(rlpPath))
  const items = [...RlpSplitter.items(bytes)]
  const blocks = items.map((item, i) => {
    const decoded = Block.decode(item)
    if (Result.isFailure(decoded)) throw new Error(`block ${i} does not decode: ${decoded.failure.message}`)
    return decoded.success
  })
  cached = { bytes, items, blocks }
  return cached
}

/** Says once, visibly, that the real-data tests of a file were skipped and why. */
export const warnIfSkipped = (what: string): void => {
  if (skipReason) console.warn(`${what}: ${skipReason}`)
}
