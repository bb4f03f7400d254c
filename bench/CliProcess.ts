/**
 * The `ethsync` executable (or another script of the repository) as a child process of the bench,
 * for the cases whose nodes must not share the bench's event loop and core (R1, R3, M1): started
 * with the Node that runs the bench, its stdout read line by line, and stopped by its pid (SIGTERM,
 * a bounded wait, then SIGKILL) when asked or at the latest when the caller's scope closes, so
 * that no child outlives a case.
 *
 * @since 0.2.0
 */
import { Data, Deferred, Effect, type Scope } from "effect"
import * as ChildProcess from "node:child_process"
import { fileURLToPath } from "node:url"

/** A child that did not do what the bench needs of it: it did not start, printed nothing in time, or died. */
export class CliProcessFailed extends Data.TaggedError("CliProcessFailed")<{
  /** The command, as `ethsync <subcommand>`. */
  readonly command: string
  /** What went wrong, with the tail of its stderr when there is one. */
  readonly reason: string
}> {
  override get message() {
    return `${this.command}: ${this.reason}`
  }
}

/** The repository root, where the executable is run from. */
const repoRoot = fileURLToPath(new URL("..", import.meta.url))

/** The executable's entry point, relative to the root. */
export const ethsync = "packages/node/src/bin/ethsync.ts"

/** The most stderr kept for error messages: its tail. */
const stderrKept = 4096

/** How long a stopped child has after SIGTERM before it is killed, and after SIGKILL before the bench gives up on it. */
const stopWait = { term: "15 seconds", kill: "5 seconds" } as const

/** A running child. */
export interface CliProcess {
  /** Its process id: where /proc/<pid>/status is read. */
  readonly pid: number
  /** The command, for messages. */
  readonly command: string
  /** Every complete stdout line so far. */
  readonly lines: ReadonlyArray<string>
  /** The last few KiB of its stderr. */
  readonly stderrTail: () => string
  /** Completes with its exit code (or the signal's name) once it has ended. */
  readonly exited: Deferred.Deferred<string>
  /** Completes with its stdout line number `index` (0 is the first) once printed; fails when the child ends first. */
  readonly line: (index: number) => Effect.Effect<string, CliProcessFailed>
  /** Stops it now (SIGTERM, then SIGKILL if it has not ended in time) and waits for its end. */
  readonly stop: Effect.Effect<void>
}

/** The failure of `child` for `reason`, with its stderr's tail. */
const failed = (child: CliProcess, reason: string) =>
  new CliProcessFailed({ command: child.command, reason: `${reason}; stderr: ${child.stderrTail().trim() || "(empty)"}` })

/** Waits at most `duration` for the child to end; whether it did. */
const awaitExit = (child: CliProcess, duration: "15 seconds" | "5 seconds") =>
  Effect.map(Effect.timeoutOption(Deferred.await(child.exited), duration), (ended) => ended._tag === "Some")

/** Stops the child: SIGTERM (a clean exit with its datadir closed), then SIGKILL if it has not ended in time. */
const stop = (child: CliProcess, kill: (signal: NodeJS.Signals) => void) =>
  Effect.gen(function*() {
    if (Deferred.isDoneUnsafe(child.exited)) return
    kill("SIGTERM")
    if (yield* awaitExit(child, stopWait.term)) return
    kill("SIGKILL")
    if (!(yield* awaitExit(child, stopWait.kill))) yield* Effect.logWarning(`${child.command} (pid ${child.pid}) did not end after SIGKILL`)
  })

/** Starts `ethsync <args>`, or `script` (a path from the repository's root) with `args`; it is stopped when the scope closes. */
export const start = (args: ReadonlyArray<string>, script: string = ethsync): Effect.Effect<CliProcess, CliProcessFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const command = script === ethsync ? `ethsync ${args[0] ?? ""}` : script
    const exited = yield* Deferred.make<string>()
    /** Complete stdout lines so far. */
    const lines: Array<string> = []
    /** The stdout line being printed, not yet ended by a newline. */
    let partial = ""
    /** The tail of stderr, at most stderrKept characters. */
    let stderr = ""
    /** Woken whenever a line is printed or the child ends. */
    const waiters = new Set<() => void>()
    const wake = () => {
      for (const waiter of waiters) waiter()
    }
    const spawned = yield* Effect.acquireRelease(
      Effect.try({
        try: () => ChildProcess.spawn(process.execPath, [script, ...args], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] }),
        catch: (error) => new CliProcessFailed({ command, reason: `cannot start it: ${String(error)}` })
      }),
      () => running.stop
    )
    const running: CliProcess = {
      pid: spawned.pid ?? -1,
      command,
      lines,
      stderrTail: () => stderr,
      exited,
      line: (index) =>
        Effect.callback<string, CliProcessFailed>((resume) => {
          const check = () => {
            if (lines.length > index) resume(Effect.succeed(lines[index]!))
            else if (Deferred.isDoneUnsafe(exited)) resume(Effect.fail(failed(running, `it ended before printing line ${index + 1}`)))
            else return false
            waiters.delete(check)
            return true
          }
          if (!check()) waiters.add(check)
          return Effect.sync(() => waiters.delete(check))
        }),
      stop: Effect.suspend(() => stop(running, (signal) => void spawned.kill(signal)))
    }
    spawned.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n")
      partial = parts.pop()!
      lines.push(...parts)
      wake()
    })
    spawned.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-stderrKept)
    })
    spawned.on("error", (error) => {
      stderr = (stderr + String(error)).slice(-stderrKept)
    })
    spawned.on("close", (code, signal) => {
      Deferred.doneUnsafe(exited, Effect.succeed(signal ?? String(code)))
      wake()
    })
    return running
  })

/** How long a child that serves has to open its datadir (or make its peer) and print its enode URL. */
const enodeWait = "60 seconds"

/** The enode URL that a serving child (`ethsync serve`, the attacker) prints as its first line. */
export const enode = (child: CliProcess): Effect.Effect<string, CliProcessFailed> =>
  child.line(0).pipe(Effect.timeoutOrElse({
    duration: enodeWait,
    orElse: () => Effect.fail(failed(child, `no enode URL within ${enodeWait}`))
  }))
