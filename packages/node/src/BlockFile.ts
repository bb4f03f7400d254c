/**
 * Reading a `geth export`-format file (concatenated RLP blocks) as a stream of decoded blocks, in
 * linear time and without holding the file in memory.
 *
 * @since 0.1.0
 */
import { Block, type BlockDecodeError, Bytes, Rlp, RlpSplitter } from "@ethsync/core"
import { Data, Effect, FileSystem, type PlatformError, Result, Stream } from "effect"
import * as FileFailure from "./FileFailure.ts"

/** A block read from a file, with its place in the file. */
export interface Positioned {
  /** The decoded block (its RLP is a view of the bytes read). */
  readonly block: Block.Block
  /** Its index among the file's blocks, from 0. */
  readonly position: number
  /** Byte offset of its first byte in the file. */
  readonly offset: number
}

/** The file cannot be opened or read. */
export class FileUnreadable extends Data.TaggedError("FileUnreadable")<{
  /** The file. */
  readonly path: string
  /** What the system said. */
  readonly reason: string
}> {
  override get message() {
    return `cannot read ${this.path}: ${this.reason}`
  }
}

/** The file's bytes stop being RLP items: garbage where the next block should start. */
export class MalformedFile extends Data.TaggedError("MalformedFile")<{
  /** The file. */
  readonly path: string
  /** Index of the block that should have started there. */
  readonly position: number
  /** Byte offset of the bad item. */
  readonly offset: number
  /** What is wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `${this.path}: the block at position ${this.position} (byte ${this.offset}) is not valid RLP: ${this.reason}`
  }
}

/** The file ends inside a block. */
export class TruncatedFile extends Data.TaggedError("TruncatedFile")<{
  /** The file. */
  readonly path: string
  /** Index of the cut block. */
  readonly position: number
  /** Byte offset where the cut block starts. */
  readonly offset: number
  /** Bytes of it the file holds. */
  readonly present: number
}> {
  override get message() {
    return `${this.path} is truncated: the block at position ${this.position} (byte ${this.offset}) ends after ${this.present} bytes`
  }
}

/** An RLP item of the file that is not a Frontier block. */
export class UndecodableBlock extends Data.TaggedError("UndecodableBlock")<{
  /** The file. */
  readonly path: string
  /** Index of the item among the file's blocks. */
  readonly position: number
  /** Byte offset of the item. */
  readonly offset: number
  /** What the decoder found wrong. */
  readonly error: BlockDecodeError.BlockDecodeError
}> {
  override get message() {
    return `${this.path}: the block at position ${this.position} (byte ${this.offset}) does not decode: ${this.error.message}`
  }
}

/** Why a block file could not be read to its end. */
export type BlockFileError = FileUnreadable | MalformedFile | TruncatedFile | UndecodableBlock

/** The tags of the BlockFileErrors. */
const blockFileErrorTags: ReadonlySet<string> = new Set(["FileUnreadable", "MalformedFile", "TruncatedFile", "UndecodableBlock"])

/** Whether an error is a BlockFileError: the file's fault, not the fault of what was done with its blocks. */
export const isBlockFileError = (error: { readonly _tag: string }): error is BlockFileError => blockFileErrorTags.has(error._tag)

/** Bytes read from the file at a time. */
const defaultChunkSize = 1024 * 1024

/** Longest RLP prefix: a list or string marker and up to 8 length bytes. */
const longestPrefix = 9

/**
 * Whether `head` (the first bytes of an item, up to `longestPrefix`) starts with a well-formed
 * RLP prefix. A prefix cut short by the end of the file is padded with 0x80 bytes, which pass
 * every prefix check, so it counts as well-formed.
 */
const wellFormedPrefix = (head: Uint8Array): boolean => {
  const padded = new Uint8Array(longestPrefix).fill(0x80)
  padded.set(head.subarray(0, longestPrefix))
  return !(Rlp.readItem(padded, 0, Number.MAX_SAFE_INTEGER) instanceof Rlp.RlpError)
}

/** A failed read of the file at `path`, as a FileUnreadable. */
const unreadable = (path: string) => (error: PlatformError.PlatformError) =>
  new FileUnreadable({ path, reason: FileFailure.describe(error) })

/**
 * The blocks of the file at `path`, in order. Fails at the first malformed or undecodable item
 * (or a cut-off end), after emitting every block before it.
 */
export const stream = (
  path: string,
  options?: { readonly chunkSize?: number | undefined }
): Stream.Stream<Positioned, BlockFileError, FileSystem.FileSystem> =>
  Stream.unwrap(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    /** Blocks emitted so far: the next block's position. */
    let position = 0
    /** Bytes of the blocks emitted so far: the next block's offset. */
    let offset = 0

    const decode = (item: Uint8Array): Effect.Effect<Positioned, UndecodableBlock> => {
      const block = Block.decode(item)
      if (Result.isFailure(block)) return Effect.fail(new UndecodableBlock({ path, position, offset, error: block.failure }))
      const positioned = { block: block.success, position, offset }
      position++
      offset += item.length
      return Effect.succeed(positioned)
    }

    /**
     * The splitter stops where no whole item starts. If the item's prefix is well-formed, the file
     * ends inside the item (truncated); if not, the bytes there are no RLP item at all (malformed).
     */
    const stopped = (error: Rlp.RlpError): Effect.Effect<never, BlockFileError> =>
      Effect.gen(function*() {
        const size = Number((yield* fs.stat(path)).size)
        const prefix = Stream.runCollect(fs.stream(path, { offset: error.offset, bytesToRead: longestPrefix }))
        return yield* wellFormedPrefix(Bytes.concat(yield* prefix))
          ? new TruncatedFile({ path, position, offset: error.offset, present: size - error.offset })
          : new MalformedFile({ path, position, offset: error.offset, reason: error.reason })
      }).pipe(Effect.catchTag("PlatformError", (e) => Effect.fail(unreadable(path)(e))))

    return RlpSplitter.split(fs.stream(path, { chunkSize: options?.chunkSize ?? defaultChunkSize })).pipe(
      Stream.mapEffect(decode),
      Stream.catchTags({
        PlatformError: (error) => Stream.fail(unreadable(path)(error)),
        RlpError: (error) => Stream.fromEffect(stopped(error))
      })
    )
  }))

/** The sizes of files together, in bytes. */
export const totalSize = (paths: ReadonlyArray<string>): Effect.Effect<number, FileUnreadable, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    Effect.reduce(paths, () => 0, (total, path) =>
      Effect.map(Effect.mapError(fs.stat(path), unreadable(path)), (info) => total + Number(info.size))))

/** The first block of a file, if it has one (reads only the start of the file). */
export const first = (path: string): Effect.Effect<Positioned | undefined, BlockFileError, FileSystem.FileSystem> =>
  stream(path, { chunkSize: 64 * 1024 }).pipe(Stream.take(1), Stream.runCollect, Effect.map((blocks) => blocks[0]))

