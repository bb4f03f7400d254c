/**
 * The settings of Node and of the C library under which the `ethsync` executable runs, to hold
 * the anonymous memory of a long command (a sync above all) down, and the relaunch that applies
 * them. V8 sizes its young generation when it makes the heap and glibc reads its arena count when
 * it starts, so neither can be changed once the process runs: the executable, before it loads
 * anything else, replaces itself (`process.execve`: the same process id, the same stdin, stdout
 * and stderr, nothing else of the first start kept) with Node started with them. A setting the
 * user gave (on Node's command line, in `NODE_OPTIONS` or in the environment) is left as given.
 *
 * In an M1 sync (bench/Memory.ts) V8 let its old generation fill with garbage to about 2.5 times
 * the live heap of ~77 MiB before a full collection, and kept a 32 MiB young generation: the
 * anonymous memory was 335-350 MiB at 1 M blocks, and is about 140 MiB with these
 * (docs/PERFORMANCE.md, "V8's headroom taken back"). `serve` keeps V8's own growth of the old
 * generation (`servedBy`): with its small live heap, 20 % kept V8 marking the heap all the time it
 * served (docs/PERFORMANCE.md, "R1, the server's side").
 *
 * @since 0.2.0
 */
import * as Fs from "node:fs"

/** A V8 flag and its value, as it is written on Node's command line. */
interface V8Flag {
  /** The flag's name with its leading dashes, in dashes (V8 also takes it in underscores). */
  readonly name: string
  /** Its value. */
  readonly value: string
  /** Whether `serve` is given it too. */
  readonly servedBy: boolean
}

/** The V8 flags; none caps the heap (its limit stays V8's), so a command whose live set grows still gets the memory. */
const v8Flags: ReadonlyArray<V8Flag> = [
  // The old generation grows to 1.2 times what was live after the last full collection (V8 picks 1.1
  // to 4 times by its own speed, and took about 2.5 in a sync): more, shorter collections, less garbage kept.
  // Not for `serve`: a server's live heap stays the idle program's (~41 MiB), whose limit this puts
  // about 17 MiB above it, and V8 starts marking once less than its young generation (16 MiB) is
  // left: a full collection for every MiB promoted, half of the server's CPU.
  { name: "--heap-growing-percent", value: "20", servedBy: false },
  // Semi-spaces of 8 MiB, not V8's 16: a young generation of 16 MiB, not 32 (4 MiB took 6 MiB less
  // again in M1, at twice the time in collections).
  { name: "--max-semi-space-size", value: "8", servedBy: true }
]

/** The C library's settings, by environment variable. */
const environment: Readonly<Record<string, string>> = {
  // glibc's malloc: two arenas for all threads (LMDB's writer, libuv's pool, V8's helpers), not one
  // per thread up to eight per core, each holding on to the memory its thread freed.
  MALLOC_ARENA_MAX: "2"
}

/** What the process was started with, as far as the relaunch depends on it. */
export interface Start {
  /** Node's own arguments (`process.execArgv`). */
  readonly execArgv: ReadonlyArray<string>
  /** The script and its arguments (`process.argv` without Node's path). */
  readonly script: ReadonlyArray<string>
  /** The environment. */
  readonly env: Readonly<Record<string, string | undefined>>
}

/** A flag's name as V8 reads it: underscores and dashes are the same. */
const normalName = (argument: string): string => argument.split("=")[0]!.replaceAll("_", "-")

/** Whether the user gave the flag named `name`: on Node's command line or in `NODE_OPTIONS`. */
const givenByUser = (start: Start, name: string): boolean =>
  [...start.execArgv, ...(start.env["NODE_OPTIONS"] ?? "").split(/\s+/)].some((argument) => normalName(argument) === name)

/**
 * The flags of the root command that take their value as the next argument when not written
 * `--flag=value`: ethsync's `--log-format` and the command line library's `--log-level` and
 * `--completions`.
 */
const rootFlagsWithValues: ReadonlySet<string> = new Set(["--log-format", "--log-level", "--completions"])

/** The subcommand the arguments (after the script) name: the first that is neither a root flag nor a root flag's value. */
export const subcommandOf = (args: ReadonlyArray<string>): string | undefined => {
  for (let i = 0; i < args.length; i++) {
    const argument = args[i]!
    if (!argument.startsWith("-")) return argument
    if (rootFlagsWithValues.has(argument)) i++
  }
  return undefined
}

/**
 * Node's arguments (after its path) and the environment to relaunch with, or undefined when the
 * process already runs with every setting (as given by the user or by an earlier relaunch). Node's
 * own arguments keep their order after the added flags. `serve` gets only the flags `servedBy`.
 */
export const relaunch = (
  start: Start
): { readonly args: ReadonlyArray<string>; readonly env: Readonly<Record<string, string | undefined>> } | undefined => {
  const serving = subcommandOf(start.script.slice(1)) === "serve"
  const flags = v8Flags.filter((flag) => (flag.servedBy || !serving) && !givenByUser(start, flag.name))
  const variables = Object.entries(environment).filter(([name]) => start.env[name] === undefined)
  if (flags.length === 0 && variables.length === 0) return undefined
  return {
    args: [...flags.map((flag) => `${flag.name}=${flag.value}`), ...start.execArgv, ...start.script],
    env: { ...start.env, ...Object.fromEntries(variables) }
  }
}

/**
 * Replaces this process with Node run under the settings, unless it already runs so; returns
 * only then, where the platform has no `execve`, or where Node's executable cannot be run again
 * (said on stderr): the command then runs as it is. Node 22 cannot report a failed `execve` to its
 * caller (it aborts the process), so what can be checked beforehand is.
 */
export const apply = (): void => {
  const next = relaunch({ execArgv: process.execArgv, script: process.argv.slice(1), env: process.env })
  if (next === undefined || process.execve === undefined) return
  try {
    Fs.accessSync(process.execPath, Fs.constants.X_OK)
  } catch (error) {
    process.stderr.write(`ethsync: runs without its memory settings: Node's executable cannot be run again (${String(error)})\n`)
    return
  }
  process.execve(process.execPath, [process.execPath, ...next.args], next.env)
}
