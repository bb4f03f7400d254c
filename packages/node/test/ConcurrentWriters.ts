/**
 * Several processes writing one datadir at once (ConcurrentWriter): each started, all waited
 * for until loaded, then released together, so their opening and writing overlap; every wait is
 * bounded.
 */
import * as ChildProcess from "node:child_process"
import { fileURLToPath } from "node:url"
import * as Children from "./Children.ts"

/** The child program. */
const program = fileURLToPath(new URL("./ConcurrentWriter.ts", import.meta.url))

/** What a child gave: its exit code, and what it wrote. */
export interface Outcome {
  /** The exit code, null when a signal ended it. */
  readonly code: number | null
  /** What it wrote to stdout after its "ready". */
  readonly stdout: string
  /** What it wrote to stderr. */
  readonly stderr: string
}

/**
 * Runs one child per argument list (the datadir, then optionally a chain's seed and length),
 * releases them together once all are loaded, and gives how each ended; fails when one is not
 * loaded or not ended within `millis` (every child is then killed).
 */
export const atOnce = async (argLists: ReadonlyArray<ReadonlyArray<string>>, millis: number): Promise<Array<Outcome>> => {
  const children = argLists.map((args) => ChildProcess.spawn(process.execPath, [program, ...args]))
  const stderrs = children.map((child) => {
    const text = { value: "" }
    child.stderr.on("data", (chunk) => text.value += chunk)
    return text
  })
  try {
    await Promise.all(children.map((child) => Children.match(child, "stdout", /ready/, millis)))
    const ends = children.map((child) => Children.ending(child, millis))
    for (const child of children) child.stdin.end("go\n")
    return (await Promise.all(ends)).map(({ code, stdout }, i) => ({ code, stdout, stderr: stderrs[i]!.value }))
  } finally {
    for (const child of children) if (!Children.hasEnded(child)) child.kill("SIGKILL")
  }
}
