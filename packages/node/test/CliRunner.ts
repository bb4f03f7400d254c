/**
 * Running the ethsync CLI in tests: in process (fast; output captured by TestConsole) or as the
 * real executable in a child process of the Node that runs the tests.
 */
import * as ChildProcess from "node:child_process"
import { fileURLToPath } from "node:url"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Option } from "effect"
import { TestConsole } from "effect/testing"
import * as Ethsync from "../src/cli/Ethsync.ts"

/** The repository root, where the CLI is run from. */
export const repoRoot = fileURLToPath(new URL("../../..", import.meta.url))

/** The CLI entry point, relative to the root. */
export const entry = "packages/node/src/bin/ethsync.ts"

/** What a run of the CLI gave. */
export interface Outcome {
  /** The exit code (0 on success). */
  readonly code: number
  /** Lines written to stdout. */
  readonly stdout: ReadonlyArray<string>
  /** Lines written to stderr. */
  readonly stderr: ReadonlyArray<string>
}

/** Splits output into lines, dropping the empty last one. */
const lines = (text: string): Array<string> => text.split("\n").filter((line, i, all) => line !== "" || i < all.length - 1)

/** Runs the CLI in this process on real files. */
export const run = (args: ReadonlyArray<string>): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Ethsync.run(args))
    const code = Exit.isSuccess(exit) ? 0 : Option.match(Cause.findErrorOption(exit.cause), {
      onNone: () => -1,
      onSome: (error) => error._tag === "ExitCode" ? error.code : -1
    })
    const text = (entries: ReadonlyArray<unknown>) => entries.flatMap((entry) => lines(String(entry)))
    return { code, stdout: text(yield* TestConsole.logLines), stderr: text(yield* TestConsole.errorLines) }
  }).pipe(Effect.provide([NodeServices.layer, TestConsole.layer]))

/** A started child process of the CLI. */
export const start = (args: ReadonlyArray<string>): ChildProcess.ChildProcessWithoutNullStreams =>
  ChildProcess.spawn(process.execPath, [entry, ...args], { cwd: repoRoot })

/** Runs the CLI executable to its end. */
export const spawn = (args: ReadonlyArray<string>): Promise<Outcome> => outcome(start(args))

/** The capabilities that let root pass over file permissions, to be dropped. */
const overrides = "-dac_override,-dac_read_search"

/**
 * Runs the CLI executable to its end bound by file permissions, as a user is: when the tests run
 * as root, as root without the capabilities that override permissions (dropped by setpriv).
 */
export const spawnUnprivileged = (args: ReadonlyArray<string>): Promise<Outcome> =>
  outcome(
    process.getuid?.() === 0
      ? ChildProcess.spawn(
        "setpriv",
        [`--inh-caps=${overrides}`, `--bounding-set=${overrides}`, process.execPath, entry, ...args],
        { cwd: repoRoot }
      )
      : start(args)
  )

/** What a child process of the CLI gave, once it has ended. */
const outcome = (child: ChildProcess.ChildProcessWithoutNullStreams): Promise<Outcome> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk) => stdout += chunk)
    child.stderr.on("data", (chunk) => stderr += chunk)
    child.on("error", reject)
    child.on("close", (code) => resolve({ code: code ?? -1, stdout: lines(stdout), stderr: lines(stderr) }))
  })
