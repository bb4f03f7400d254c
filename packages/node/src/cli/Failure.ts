/**
 * How a failed command ends: one line on stderr naming what went wrong, never a stack trace for
 * an error a user can cause, and an exit code that tells the kinds apart.
 *
 * @since 0.1.0
 */
import { Cause, Console, Data, Effect, Option, Runtime } from "effect"

/** Exit codes of ethsync. */
export const exitCodes = {
  /** The input data was refused: an invalid or undecodable block, a malformed file, another chain's file. */
  refused: 1,
  /** The invocation cannot run: a bad flag, a missing file, an unusable datadir, a range beyond the chain. */
  usage: 2,
  /** A bug: a defect in ethsync. */
  internal: 70
} as const

/** Tags of the errors that mean the input data was refused. */
const refusedTags: ReadonlySet<string> = new Set([
  "BlockRejected",
  "UndecodableBlock",
  "MalformedFile",
  "TruncatedFile",
  "ForeignGenesis"
])

/** Ends the program with an exit code; what went wrong has already been printed. */
export class ExitCode extends Data.TaggedError("ExitCode")<{
  /** The process exit code. */
  readonly code: number
}> {
  /** Read by the runtime's teardown as the process exit code. */
  override get [Runtime.errorExitCode](): number {
    return this.code
  }
}

/** A message on one line: line breaks and the spaces around them become one space. */
export const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, " ").trim()

/** The tag of an error value, if it has one. */
const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string" ? error._tag : undefined

/**
 * Reports a failed run: an interruption passes through (exit 130); a usage error shown as help
 * already just sets the code; any other failure prints one line; a defect prints its cause.
 */
export const report = <E>(cause: Cause.Cause<E>): Effect.Effect<never, ExitCode | E> => {
  if (Cause.hasInterruptsOnly(cause)) return Effect.failCause(cause)
  const error = Cause.findErrorOption(cause)
  if (Option.isNone(error)) {
    return Effect.andThen(
      Console.error(`ethsync: internal error\n${Cause.pretty(cause)}`),
      Effect.fail(new ExitCode({ code: exitCodes.internal }))
    )
  }
  const tag = tagOf(error.value)
  if (tag === "ShowHelp") return Effect.fail(new ExitCode({ code: exitCodes.usage }))
  const message = error.value instanceof Error ? error.value.message : String(error.value)
  return Effect.andThen(
    Console.error(`ethsync: ${oneLine(message)}`),
    Effect.fail(new ExitCode({ code: tag !== undefined && refusedTags.has(tag) ? exitCodes.refused : exitCodes.usage }))
  )
}
