/**
 * ethsync against a client nobody here wrote, the EthereumJS client 0.10.5 (eth/66-68 only), on
 * 127.0.0.1 with the real mainnet blocks 1..1024, both ways: the client, started empty, syncs them
 * from `ethsync serve` and executes every one (so what ethsync serves is real), and reports
 * ethsync's head over its JSON-RPC; `ethsync sync` syncs them from the client loaded with them
 * and ends with the client's head hash and TD.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import { Effect, Schedule, type Scope } from "effect"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import * as CliRunner from "../CliRunner.ts"
import * as TempDir from "../TempDir.ts"
import * as EthereumJsClient from "./EthereumJsClient.ts"

Mainnet.warnIfSkipped("interop/EthereumJs.test.ts")

/** The blocks synced each way. */
const last = 1024

/** The flags every ethsync run of these tests has: quiet, seals not checked (the blocks are mainnet's, the point is the wire). */
const quiet = ["--log-level", "warn", "--verify-seals", "none"]

/** An ethsync process that runs until the scope closes (then SIGINT, and SIGKILL if it lingers); its stdout's first line. */
const background = (args: ReadonlyArray<string>): Effect.Effect<string, Error, Scope.Scope> =>
  Effect.gen(function*() {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => CliRunner.start(args)),
      (child) =>
        Effect.promise(() =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve()
            const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
            child.once("exit", () => {
              clearTimeout(timer)
              resolve()
            })
            child.kill("SIGINT")
          })
        )
    )
    child.stderr.resume()
    return yield* firstLine(child)
  })

/** The first line a child writes to stdout (within 30 s). */
const firstLine = (child: ChildProcess.ChildProcessWithoutNullStreams): Effect.Effect<string, Error> =>
  Effect.callback<string, Error>((resume) => {
    let text = ""
    const timer = setTimeout(() => resume(Effect.fail(new Error("no output within 30 s"))), 30_000)
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString()
      const end = text.indexOf("\n")
      if (end >= 0) {
        clearTimeout(timer)
        resume(Effect.succeed(text.slice(0, end)))
      }
    })
    child.once("exit", (code) => resume(Effect.fail(new Error(`ethsync exited with ${code}`))))
  })

/** Runs ethsync to its end, killed after `millis`. */
const bounded = (args: ReadonlyArray<string>, millis: number): Effect.Effect<CliRunner.Outcome> =>
  Effect.promise(() => {
    const child = CliRunner.start(args)
    const timer = setTimeout(() => child.kill("SIGKILL"), millis)
    return new Promise<CliRunner.Outcome>((resolve) => {
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk) => stdout += chunk)
      child.stderr.on("data", (chunk) => stderr += chunk)
      child.on("close", (code) => {
        clearTimeout(timer)
        resolve({ code: code ?? -1, stdout: stdout.split("\n"), stderr: stderr.split("\n") })
      })
    })
  })

/** What `ethsync status` says of a datadir: its head number, hash and TD. */
const statusOf = (datadir: string) =>
  Effect.map(CliRunner.run(["status", "--datadir", datadir]), (outcome) => {
    const text = outcome.stdout.join("\n")
    const head = /^head\s+(\d+) (0x[0-9a-f]{64})$/m.exec(text)
    const td = /^td\s+(\d+)$/m.exec(text)
    return { number: Number(head?.[1]), hash: head?.[2], td: td?.[1] }
  })

/** The client's block `number`: its hash and TD. */
const clientBlock = (client: EthereumJsClient.Client, number: number) =>
  Effect.map(client.rpc("eth_getBlockByNumber", [`0x${number.toString(16)}`, false]), (result) => {
    const block = result as { readonly hash: string; readonly totalDifficulty: string }
    return { hash: block.hash, td: BigInt(block.totalDifficulty).toString() }
  })

describe.skipIf(Mainnet.skipReason !== undefined)("the EthereumJS client on the other end", () => {
  it.live(`the client, started empty, syncs mainnet blocks 1..${last} from ethsync serve and reports its head`, () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const blocks = Path.join(dir, "blocks.rlp")
      EthereumJsClient.writeMainnetBlocks(blocks, 1, last)
      const datadir = Path.join(dir, "served")
      const imported = yield* CliRunner.run(["import", "--datadir", datadir, "--network", "mainnet", ...quiet, blocks])
      expect(imported.code).toBe(0)
      const ours = yield* statusOf(datadir)
      expect(ours.number).toBe(last)

      const client = yield* EthereumJsClient.start()
      expect(yield* client.blockNumber).toBe(0)
      yield* background(["serve", "--datadir", datadir, "--port", "0", "--peer", client.enode, ...quiet])
      const head = yield* client.blockNumber.pipe(
        Effect.repeat({ until: (number) => number >= last, schedule: Schedule.spaced("500 millis") }),
        Effect.timeout("120 seconds")
      )
      expect(head).toBe(last)
      expect((yield* clientBlock(client, last)).hash).toBe(ours.hash)
    }), 240_000)

  it.live(`ethsync syncs mainnet blocks 1..${last} from the client and ends with its head hash and TD`, () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const blocks = Path.join(dir, "blocks.rlp")
      EthereumJsClient.writeMainnetBlocks(blocks, 1, last)
      const client = yield* EthereumJsClient.start({ loadBlocksFromRlp: blocks })
      expect(yield* client.blockNumber).toBe(last)
      const theirs = yield* clientBlock(client, last)

      const datadir = Path.join(dir, "synced")
      const outcome = yield* bounded(
        ["sync", "--datadir", datadir, "--network", "mainnet", "--peer", client.enode, "--exit-when-synced", ...quiet],
        180_000
      )
      expect(outcome.code, outcome.stderr.join("\n")).toBe(0)
      expect(outcome.stdout.join("\n")).toMatch(new RegExp(`synced ${last.toLocaleString("en-US")} blocks .* head ${last} ${theirs.hash}; 0 peers dropped`))
      const ours = yield* statusOf(datadir)
      expect(ours).toEqual({ number: last, hash: theirs.hash, td: theirs.td })
    }), 240_000)
})
