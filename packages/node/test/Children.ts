/**
 * Bounded waits on child processes of the CLI: a line they print, their end, their stop by pid,
 * and the metrics they serve with `--metrics`. Every wait fails with what was seen so far once
 * its time is up, so a test never hangs on a child.
 */
import type * as ChildProcess from "node:child_process"

/** A child of the CLI, as `CliRunner.start` gives it. */
export type Child = ChildProcess.ChildProcessWithoutNullStreams

/** How a child ended: its exit code, or the signal that ended it. */
export interface End {
  /** The exit code, null when a signal ended it. */
  readonly code: number | null
  /** The signal that ended it, null when it exited. */
  readonly signal: NodeJS.Signals | null
  /** Everything it wrote to stdout from when the wait began. */
  readonly stdout: string
}

/**
 * The first match of `pattern` in what the child writes to `stream` from now on (its first group,
 * else the match); fails once `millis` have passed or the child has ended without it.
 */
export const match = (child: Child, stream: "stdout" | "stderr", pattern: RegExp, millis: number): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ""
    const fail = (why: string) => () => reject(new Error(`no match of ${pattern} on ${stream} ${why}; so far: ${text}`))
    const timer = setTimeout(fail(`within ${millis} ms`), millis)
    child.on("close", () => {
      clearTimeout(timer)
      fail("before the process ended")()
    })
    child[stream].on("data", (chunk) => {
      text += chunk
      const found = pattern.exec(text)
      if (found) {
        clearTimeout(timer)
        resolve(found[1] ?? found[0])
      }
    })
  })

/** Whether the child has ended. */
export const hasEnded = (child: Child): boolean => child.exitCode !== null || child.signalCode !== null

/** The child's end, and what it wrote to stdout meanwhile; fails if it has not ended within `millis`. */
export const ending = (child: Child, millis: number): Promise<End> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} did not end within ${millis} ms`)), millis)
    child.stdout.on("data", (chunk) => stdout += chunk)
    const done = () => {
      clearTimeout(timer)
      resolve({ code: child.exitCode, signal: child.signalCode, stdout })
    }
    if (hasEnded(child)) done()
    else child.on("close", done)
  })

/** Kills the child by its pid with SIGKILL, unless it has ended, and waits for its end (bounded: 10 s). */
export const kill = async (child: Child): Promise<End> => {
  const end = ending(child, 10_000)
  if (!hasEnded(child) && child.pid !== undefined) process.kill(child.pid, "SIGKILL")
  return end
}

/** The URL of the metrics a child serves with `--metrics`, as it logs it (bounded: 30 s). */
export const metricsUrl = (child: Child): Promise<string> =>
  match(child, "stderr", /serving metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/, 30_000)

/** The value of the first series of the metric `name` in a Prometheus text page; 0 when it is not there yet. */
const metricValue = (page: string, name: string): number => {
  const found = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, "m").exec(page)
  return found === null ? 0 : Number(found[1])
}

/** The value of the metric `name` that the server at `url` reports now. */
export const scrape = async (url: string, name: string): Promise<number> =>
  metricValue(await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text(), name)

/** Waits until `condition` holds, checking every `everyMillis`; fails naming `what` after `millis`. */
export const until = async (what: string, condition: () => Promise<boolean>, millis: number, everyMillis = 20): Promise<void> => {
  const deadline = Date.now() + millis
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${millis} ms`)
    await new Promise((resolve) => setTimeout(resolve, everyMillis))
  }
}
