/**
 * Progress of long jobs (imports, exports, syncs): a meter the job advances, and a display that
 * shows it while the job runs: a live line with a bar, blocks/s and an ETA when stderr is a
 * terminal, a log line every few seconds when it is not.
 *
 * @since 0.1.0
 */
import { Clock, Console, Duration, Effect, Ref, Schedule, type Scope, Stdio, Stream, Terminal } from "effect"
import { count } from "./Wording.ts"

/** How far a job has got. */
export interface Sample {
  /** Work done, in the job's unit (bytes of input for an import, blocks for a sync). */
  readonly done: number
  /** Work in all, in the same unit. */
  readonly total: number
  /** Blocks handled so far, for the speed. */
  readonly blocks: number
  /** Seconds left, when the job knows better than its average speed so far tells. */
  readonly eta?: number | undefined
}

/** A job's progress: advanced by the job, read by the display. */
export interface Meter {
  /** Adds work done and blocks handled. */
  readonly advance: (done: number, blocks: number) => Effect.Effect<void>
  /** The figures so far. */
  readonly sample: Effect.Effect<Sample>
}

/** A meter for a job of `total` units, at zero. */
export const make = (total: number): Effect.Effect<Meter> =>
  Effect.map(Ref.make<Sample>({ done: 0, total, blocks: 0 }), (ref) => ({
    advance: (done, blocks) => Ref.update(ref, (s) => ({ done: s.done + done, total: s.total, blocks: s.blocks + blocks })),
    sample: Ref.get(ref)
  }))

/** How often the live line is redrawn. */
const redrawEvery = Duration.millis(200)
/** How often a log line is written when stderr is not a terminal. */
const logEvery = Duration.seconds(5)
/** Most characters of the bar; it shrinks to fit the terminal. */
const maxBarWidth = 30
/** Width assumed when the terminal does not say. */
const defaultColumns = 80

/** Seconds as `m:ss` or `h:mm:ss`. */
const clock = (seconds: number): string => {
  const s = Math.round(seconds)
  const mm = String(Math.floor(s / 60) % 60).padStart(2, "0")
  const ss = String(s % 60).padStart(2, "0")
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${Math.floor(s / 60)}:${ss}`
}

/** The figures of a sample taken `elapsed` ms after the start: share done, blocks/s, ETA. */
export const figures = (sample: Sample, elapsed: number) => {
  const fraction = sample.total > 0 ? Math.min(1, sample.done / sample.total) : 1
  const seconds = Math.max(elapsed, 1) / 1000
  const eta = sample.eta ?? (sample.done > 0 ? (sample.total - sample.done) / (sample.done / seconds) : undefined)
  return { fraction, rate: sample.blocks / seconds, eta }
}

/**
 * One line for a sample: `label [####....]  52%  4,260 blocks  9,801 blocks/s  ETA 0:01`, the bar
 * sized so the line fits `width` characters (left out when `width` is undefined).
 */
export const line = (label: string, sample: Sample, elapsed: number, width?: number): string => {
  const { fraction, rate, eta } = figures(sample, elapsed)
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4)
  const figuresText = `${percent}  ${count(sample.blocks)} blocks  ${count(rate)} blocks/s  ETA ${eta === undefined ? "-:--" : clock(eta)}`
  const barWidth = width === undefined ? 0 : Math.min(maxBarWidth, width - label.length - figuresText.length - 4)
  if (barWidth < 5) return `${label} ${figuresText}`
  const filled = Math.round(fraction * barWidth)
  return `${label} [${"#".repeat(filled)}${".".repeat(barWidth - filled)}] ${figuresText}`
}

/** A meter being shown. */
export interface Display {
  /**
   * Runs `effect` so that what it writes to stderr through the Console (log lines) lands on lines
   * of its own above the live line instead of running into it; unchanged without a live line.
   */
  readonly above: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
}

/** `console`, its stderr output starting with `blank` (which wipes the live line and returns to its start). */
const wiping = (console: Console.Console, blank: string): Console.Console =>
  Object.assign(Object.create(console), {
    error: (...args: ReadonlyArray<unknown>) =>
      typeof args[0] === "string" ? console.error(blank + args[0], ...args.slice(1)) : console.error(blank, ...args)
  })

/**
 * Shows `meter` for as long as the scope is open. On a terminal the line is redrawn in place and
 * left, final, when the scope closes; elsewhere an info log line is written every few seconds.
 * Run the job through the returned display's `above` to keep its log lines off the live line.
 */
export const show = (label: string, meter: Pick<Meter, "sample">): Effect.Effect<Display, never, Scope.Scope | Stdio.Stdio | Terminal.Terminal> =>
  Effect.gen(function*() {
    const stdio = yield* Stdio.Stdio
    const start = yield* Clock.currentTimeMillis
    const elapsed = Effect.map(Clock.currentTimeMillis, (now) => now - start)
    if (!(yield* stdio.stderrIsTerminal)) {
      const log = Effect.flatMap(Effect.all([meter.sample, elapsed]), ([sample, ms]) => Effect.logInfo(line(label, sample, ms)))
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(logEvery), log)))
      const plain: Display = { above: (effect) => effect }
      return plain
    }
    const columns = yield* (yield* Terminal.Terminal).columns
    const width = (columns > 0 ? columns : defaultColumns) - 1
    const write = (text: string) => Effect.ignore(Stream.run(Stream.make(text), stdio.stderr()))
    const draw = Effect.flatMap(Effect.all([meter.sample, elapsed]), ([sample, ms]) =>
      write(`\r${line(label, sample, ms, width).slice(0, width).padEnd(width)}`))
    yield* Effect.addFinalizer(() => Effect.andThen(draw, write("\n")))
    yield* Effect.forkScoped(Effect.repeat(draw, Schedule.spaced(redrawEvery)))
    const console = wiping(yield* Console.Console, `\r${" ".repeat(width)}\r`)
    const live: Display = { above: (effect) => Effect.provideService(effect, Console.Console, console) }
    return live
  })
