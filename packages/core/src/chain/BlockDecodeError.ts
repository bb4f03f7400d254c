/**
 * The error of bytes that are not a well-formed Frontier block or header.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/** Bytes that do not decode as a Frontier block: names the field and what is wrong with it. */
export class BlockDecodeError extends Data.TaggedError("BlockDecodeError")<{
  /** The field at fault, as a path: `header.extraData`, `uncles[2].nonce`, `block`. */
  readonly field: string
  /** What is wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `${this.field}: ${this.reason}`
  }
}
