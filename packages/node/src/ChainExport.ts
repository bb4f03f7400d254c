/**
 * Exporting the canonical chain, or a range of it, in the `geth export` format: each block's
 * stored RLP, one after the other, copied without being decoded. Exporting what was imported
 * gives the identical bytes.
 *
 * @since 0.1.0
 */
import { ChainStore } from "@ethsync/core"
import { Data, Effect, FileSystem, Option, type PlatformError } from "effect"
import * as FileFailure from "./FileFailure.ts"
import type * as LmdbChainStore from "./LmdbChainStore.ts"
import type * as Progress from "./Progress.ts"

/** The range asked for is not a part of the canonical chain. */
export class RangeOutsideChain extends Data.TaggedError("RangeOutsideChain")<{
  /** First block asked for. */
  readonly first: number
  /** Last block asked for. */
  readonly last: number
  /** The head's number. */
  readonly head: number
}> {
  override get message() {
    const why = this.first < 0 || this.first > this.last ? "not a range of block numbers" : `the chain's head is block ${this.head}`
    return `cannot export blocks ${this.first}..${this.last}: ${why}`
  }
}

/** The output file cannot be created or written. */
export class FileUnwritable extends Data.TaggedError("FileUnwritable")<{
  /** The file. */
  readonly path: string
  /** What the system said. */
  readonly reason: string
}> {
  override get message() {
    return `cannot write ${this.path}: ${this.reason}`
  }
}

/** Why an export stopped. */
export type ExportError = RangeOutsideChain | FileUnwritable | ChainStore.StoreError

/** What an export reads: the canonical head and each canonical block's stored bytes. */
export type Source = Pick<LmdbChainStore.Store, "head" | "canonicalRlp">

/** Which blocks to export and how to report. */
export interface Options {
  /** First block number. */
  readonly first: number
  /** Last block number; the head when left out. */
  readonly last?: number | undefined
  /** Advanced by the blocks written (its unit is blocks). */
  readonly meter?: Progress.Meter | undefined
}

/** What an export wrote. */
export interface Summary {
  /** First block written. */
  readonly first: number
  /** Last block written. */
  readonly last: number
  /** Bytes written. */
  readonly bytes: number
}

/** The blocks to export given the head's number (the last is the head unless given). */
export const range = (options: Options, head: number): { readonly first: number; readonly last: number } => ({
  first: options.first,
  last: options.last ?? head
})

/** Bytes gathered before each write to the file. */
const writeSize = 1024 * 1024

/** Writes canonical blocks `first..last` of `source` to the file at `path`, replacing it. */
export const exportChain = (
  source: Source,
  path: string,
  options: Options
): Effect.Effect<Summary, ExportError, FileSystem.FileSystem> =>
  Effect.scoped(Effect.gen(function*() {
    const head = (yield* source.head).block.number
    const { first, last } = range(options, head)
    if (first < 0 || first > last || last > head) return yield* new RangeOutsideChain({ first, last, head })
    const unwritable = (error: PlatformError.PlatformError) => new FileUnwritable({ path, reason: FileFailure.describe(error) })
    const file = yield* Effect.mapError((yield* FileSystem.FileSystem).open(path, { flag: "w" }), unwritable)
    /** Block RLPs gathered for the next write. */
    let pieces: Array<Uint8Array> = []
    /** Their bytes. */
    let size = 0
    /** Bytes written. */
    let bytes = 0
    const flush = Effect.suspend(() => {
      const buffer = new Uint8Array(size)
      let at = 0
      for (const piece of pieces) {
        buffer.set(piece, at)
        at += piece.length
      }
      const blocks = pieces.length
      pieces = []
      size = 0
      bytes += buffer.length
      return Effect.andThen(
        Effect.mapError(file.writeAll(buffer), unwritable),
        options.meter ? options.meter.advance(blocks, blocks) : Effect.void
      )
    })
    for (let number = first; number <= last; number++) {
      const rlp = yield* source.canonicalRlp(number)
      if (Option.isNone(rlp)) {
        return yield* new ChainStore.StoreError({ operation: `export block ${number}`, reason: "the canonical index has no block at that height" })
      }
      pieces.push(rlp.value)
      size += rlp.value.length
      if (size >= writeSize) yield* flush
    }
    yield* flush
    return { first, last, bytes }
  }))
