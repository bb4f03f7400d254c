/**
 * The error of a well-formed block that breaks a Frontier chain rule.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/** The Frontier rules a block is checked by, each named as the error reports it. */
export type Rule =
  | "unknownParent"
  | "parentHash"
  | "number"
  | "timestamp"
  | "extraData"
  | "gasLimit"
  | "gasUsed"
  | "difficulty"
  | "uncleHash"
  | "transactionsRoot"
  | "tooManyUncles"
  | "duplicateUncle"
  | "uncleIncluded"
  | "uncleIsAncestor"
  | "uncleParent"
  | "sealMixHash"
  | "sealDifficulty"

/** A block that breaks a chain rule: which rule, which block, and what the numbers were. */
export class InvalidBlock extends Data.TaggedError("InvalidBlock")<{
  /** The rule broken. */
  readonly rule: Rule
  /** The offending block's number. */
  readonly number: number
  /** The offending block's hash, 0x-hex. */
  readonly hash: string
  /** What was expected and what was found. */
  readonly reason: string
}> {
  override get message() {
    return `block ${this.number} (${this.hash}) breaks the ${this.rule} rule: ${this.reason}`
  }
}
