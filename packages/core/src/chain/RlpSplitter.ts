/**
 * Splits concatenated RLP blocks (the `geth export` format) in linear time, from one buffer or
 * from a stream of chunks of any size.
 *
 * @since 0.1.0
 */
import { Effect, Stream } from "effect"
import * as Bytes from "./Bytes.ts"
import * as Rlp from "./Rlp.ts"

/** The bytes of each top-level item of `bytes`, as views; stops at the first malformed item. */
export function* items(bytes: Uint8Array): Generator<Uint8Array, Rlp.RlpError | undefined> {
  let at = 0
  while (at < bytes.length) {
    const item = Rlp.readItem(bytes, at)
    if (item instanceof Rlp.RlpError) return item
    yield Rlp.raw(bytes, item)
    at = item.end
  }
  return undefined
}

/**
 * Incremental splitter: feed chunks, get the complete items each one finishes. An unfinished item
 * is gathered chunk by chunk and joined once, when its last byte arrives, so reading a file is
 * linear whatever the chunk size.
 */
export class Splitter {
  /** Chunks holding the start of an unfinished item, not yet joined. */
  #parts: Array<Uint8Array> = []
  /** Total bytes in `#parts`. */
  #partsLength = 0
  /** Bytes the unfinished item needs in all, once its length is known (0 until then). */
  #needed = 0
  /** Offset in the stream of the first byte of `#parts`, for error messages. */
  #consumed = 0
  /** The first malformed item's error: once found, every later `push` and `end` report it. */
  #error: Rlp.RlpError | undefined = undefined

  /**
   * Adds a chunk; returns the items it completes, or the error of the first malformed item. The
   * items before a malformed one are always handed out first: when a chunk completes some items and
   * then hits a malformed one, this call returns the items and the next `push` or `end` the error.
   */
  push(chunk: Uint8Array): Array<Uint8Array> | Rlp.RlpError {
    if (this.#error) return this.#error
    this.#parts.push(chunk)
    this.#partsLength += chunk.length
    if (this.#partsLength < this.#needed) return []
    const buffer = this.#parts.length === 1 ? chunk : Bytes.concat(this.#parts)
    const out: Array<Uint8Array> = []
    let at = 0
    this.#needed = 0
    while (at < buffer.length) {
      const item = Rlp.readItem(buffer, at)
      if (item instanceof Rlp.RlpError) {
        const needed = bytesNeeded(buffer, at)
        if (needed > buffer.length - at) {
          this.#needed = needed
          break
        }
        const error = new Rlp.RlpError({ offset: this.#consumed + item.offset, reason: item.reason })
        this.#error = error
        return out.length === 0 ? error : out
      }
      out.push(buffer.subarray(item.start, item.end))
      at = item.end
    }
    this.#consumed += at
    this.#parts = at === buffer.length ? [] : [buffer.subarray(at)]
    this.#partsLength = buffer.length - at
    return out
  }

  /** Ends the input: an error if an item was left unfinished. */
  end(): Rlp.RlpError | undefined {
    if (this.#error) return this.#error
    if (this.#partsLength === 0) return undefined
    return new Rlp.RlpError({
      offset: this.#consumed,
      reason: `input ends inside an item (${this.#partsLength} bytes of it present)`
    })
  }
}

/**
 * How many bytes the item at `at` occupies as far as its prefix tells (prefix and length bytes
 * included); 0 when the prefix itself is malformed, so the caller reports the error.
 */
const bytesNeeded = (buffer: Uint8Array, at: number): number => {
  const prefix = buffer[at]!
  const short = prefix - (prefix >= 0xc0 ? 0xc0 : 0x80)
  if (short <= 55) return 1 + short
  const lengthOfLength = short - 55
  if (at + 1 + lengthOfLength > buffer.length) return 1 + lengthOfLength
  const item = Rlp.readItem(buffer, at, Number.MAX_SAFE_INTEGER)
  return item instanceof Rlp.RlpError ? 0 : item.end - at
}

/**
 * Splits a stream of byte chunks into a stream of complete RLP items. Items are views into the
 * chunks, not copies: the producer must not reuse a chunk's buffer once it is emitted.
 */
export const split = <E, R>(chunks: Stream.Stream<Uint8Array, E, R>): Stream.Stream<Uint8Array, E | Rlp.RlpError, R> =>
  Stream.suspend(() => {
    const splitter = new Splitter()
    const pieces = chunks.pipe(
      Stream.mapEffect((chunk) => {
        const out = splitter.push(chunk)
        return out instanceof Rlp.RlpError ? Effect.fail(out) : Effect.succeed(out)
      }),
      Stream.flatMap((out) => Stream.fromIterable(out))
    )
    const tail = Stream.fromEffect(Effect.suspend(() => {
      const error = splitter.end()
      return error ? Effect.fail(error) : Effect.void
    })).pipe(Stream.drain)
    return Stream.concat(pieces, tail)
  })
