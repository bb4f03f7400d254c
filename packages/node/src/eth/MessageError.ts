/**
 * Why a message received on the eth capability was refused before it reached anything: its
 * code, its size, or its content. A peer that sends one is disconnected; nothing is thrown.
 *
 * @since 0.2.0
 */
import { Data } from "effect"
import type { EthVersion } from "./EthVersion.ts"
import type { HeaderFirstVersion } from "./HeaderFirstVersion.ts"

/** A message code as go-ethereum logs it (`0x08`); anything that is not a code, as it is. */
const codeText = (code: number): string =>
  Number.isInteger(code) && code >= 0 ? `0x${code.toString(16).padStart(2, "0")}` : String(code)

/** A message code the negotiated eth version does not have. */
export class UnknownMessageCode extends Data.TaggedError("UnknownMessageCode")<{
  /** The negotiated version. */
  readonly version: EthVersion | HeaderFirstVersion
  /** The code received, relative to the eth capability's offset. */
  readonly code: number
}> {
  override get message() {
    return `code ${codeText(this.code)} is not an eth/${this.version} message`
  }
}

/** A payload larger than any eth message may be. */
export class MessageTooLarge extends Data.TaggedError("MessageTooLarge")<{
  /** The message's code. */
  readonly code: number
  /** The payload's size in bytes. */
  readonly size: number
  /** The most bytes a payload may have. */
  readonly limit: number
}> {
  override get message() {
    return `message ${codeText(this.code)} of ${this.size} bytes exceeds the limit of ${this.limit}`
  }
}

/** A payload that is not RLP, not the message's shape, or has a field out of range. */
export class MalformedMessage extends Data.TaggedError("MalformedMessage")<{
  /** The message the code announced (`Status`, `Blocks`, …). */
  readonly kind: string
  /** The part at fault as a path: `payload`, `td`, `hashes[3]`, `blocks[2].header.difficulty`. */
  readonly field: string
  /** What is wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `malformed ${this.kind}: ${this.field}: ${this.reason}`
  }
}

/** Why a received message could not be decoded. */
export type DecodeError = UnknownMessageCode | MessageTooLarge | MalformedMessage
