/**
 * The progress display: a live line redrawn in place on a terminal, a log line every few seconds
 * elsewhere, with the share done, blocks/s and an ETA.
 */
import { describe, expect, it } from "@effect/vitest"
import { Console, Effect, Layer, Logger, Sink, Stdio, Terminal } from "effect"
import { TestClock, TestConsole } from "effect/testing"
import * as Progress from "../src/Progress.ts"

/** Stdio and Terminal whose stderr is captured in `written`. */
const terminal = (isTerminal: boolean, written: Array<string>) =>
  Layer.mergeAll(
    Stdio.layerTest({
      stderrIsTerminal: Effect.succeed(isTerminal),
      stderr: () => Sink.forEach((chunk: string | Uint8Array) => Effect.sync(() => written.push(String(chunk))))
    }),
    Layer.succeed(Terminal.Terminal, Terminal.make({
      columns: Effect.succeed(80),
      rows: Effect.succeed(24),
      size: Effect.die("unused"),
      readInput: Effect.die("unused"),
      readLine: Effect.die("unused"),
      display: () => Effect.void
    }))
  )

describe("Progress", () => {
  it("writes the share done, blocks, blocks/s and the ETA, with a bar that fits the width", () => {
    const sample = { done: 250, total: 1000, blocks: 4000 }
    expect(Progress.line("importing", sample, 2000)).toBe("importing  25%  4,000 blocks  2,000 blocks/s  ETA 0:06")
    const wide = Progress.line("importing", sample, 2000, 79)
    expect(wide).toBe("importing [######................]  25%  4,000 blocks  2,000 blocks/s  ETA 0:06")
    expect(Progress.line("importing", sample, 2000, 60)).toBe("importing  25%  4,000 blocks  2,000 blocks/s  ETA 0:06")
    expect(Progress.line("importing", { done: 0, total: 10, blocks: 0 }, 0)).toMatch(/ETA -:--$/)
    expect(Progress.line("syncing", { done: 250, total: 1000, blocks: 250, eta: 90 }, 1000)).toMatch(/ETA 1:30$/)
    expect(Progress.line("importing", { done: 1, total: 3, blocks: 1000 }, 3000)).toMatch(/ 1,000 blocks {2}333 blocks\/s /)
  })

  it.effect("puts what the job writes to stderr through the Console on lines of its own above the live line", () =>
    Effect.gen(function*() {
      const shown = (isTerminal: boolean) =>
        Effect.scoped(Effect.gen(function*() {
          const display = yield* Progress.show("syncing", yield* Progress.make(100))
          yield* display.above(Effect.andThen(Console.error("peer dropped"), Console.log("stdout untouched")))
        })).pipe(Effect.provide(terminal(isTerminal, [])))
      yield* shown(true)
      yield* shown(false)
      expect(yield* TestConsole.errorLines).toEqual([`\r${" ".repeat(79)}\rpeer dropped`, "peer dropped"])
      expect(yield* TestConsole.logLines).toEqual(["stdout untouched", "stdout untouched"])
    }))

  it.effect("redraws one line in place on a terminal and ends it when the job is done", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const meter = yield* Progress.make(100)
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Progress.show("importing", meter)
        yield* meter.advance(50, 500)
        yield* TestClock.adjust("1 second")
      })).pipe(Effect.provide(terminal(true, written)))
      expect(written.length).toBeGreaterThan(2)
      expect(written.slice(0, -1).every((frame) => frame.startsWith("\r") && frame.length === 80)).toBe(true)
      expect(written.at(-2)).toMatch(/^\rimporting \[#+\.+\]  50%  500 blocks  500 blocks\/s  ETA 0:01 *$/)
      expect(written.at(-1)).toBe("\n")
    }))

  it.effect("logs a line every few seconds when stderr is not a terminal", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const logged: Array<string> = []
      const meter = yield* Progress.make(100)
      yield* Effect.scoped(Effect.gen(function*() {
        yield* Progress.show("importing", meter)
        yield* meter.advance(20, 200)
        yield* TestClock.adjust("11 seconds")
      })).pipe(
        Effect.provide(terminal(false, written)),
        Effect.provide(Logger.layer([Logger.make(({ message }) => logged.push(String(message)))]))
      )
      expect(written).toEqual([])
      expect(logged).toEqual([
        "importing  20%  200 blocks  40 blocks/s  ETA 0:20",
        "importing  20%  200 blocks  20 blocks/s  ETA 0:40"
      ])
    }))
})
