/**
 * `ethsync serve`, `sync` and `node` as executables on 127.0.0.1, on a generated chain: serve in
 * one process (its metrics scraped), sync --exit-when-synced in another, a sync from the peer of
 * its static-nodes.json; SIGINT ends serve, a running sync and a node with exit code 0 and
 * datadirs that reopen at their head; a restarted serve keeps its node id.
 */
import { describe, expect, it } from "@effect/vitest"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect } from "effect"
import type * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as CliRunner from "../CliRunner.ts"
import * as TestChain from "../TestChain.ts"

/** The generated chain's seals are made up: the commands are told not to check them. */
const genesis = ChainGenerator.testGenesis
const blocks = await Effect.runPromise(ChainGenerator.generate(genesis, 300, { uncles: true, transactions: true }))

/** The first line a child writes to stdout (bounded: 30 s). */
const firstLine = (child: ChildProcess.ChildProcessWithoutNullStreams): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ""
    const timer = setTimeout(() => reject(new Error(`no line on stdout within 30 s; so far: ${text}`)), 30_000)
    child.stdout.on("data", (chunk) => {
      text += chunk
      const end = text.indexOf("\n")
      if (end >= 0) {
        clearTimeout(timer)
        resolve(text.slice(0, end))
      }
    })
  })

/** The first match of `pattern` in what a child writes to stderr (bounded: 30 s). */
const onStderr = (child: ChildProcess.ChildProcessWithoutNullStreams, pattern: RegExp): Promise<string> =>
  new Promise((resolve, reject) => {
    let text = ""
    const timer = setTimeout(() => reject(new Error(`no match of ${pattern} on stderr within 30 s; so far: ${text}`)), 30_000)
    child.stderr.on("data", (chunk) => {
      text += chunk
      const match = pattern.exec(text)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
  })

/** Everything a child writes to stdout from now on, and its exit code once it ends (bounded: 30 s). */
const ending = (child: ChildProcess.ChildProcessWithoutNullStreams): Promise<{ readonly code: number | null; readonly stdout: string }> =>
  new Promise((resolve, reject) => {
    let stdout = ""
    const timer = setTimeout(() => reject(new Error("the process did not end within 30 s")), 30_000)
    child.stdout.on("data", (chunk) => stdout += chunk)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout })
    })
  })

/** The head number `status --json` reports for a datadir. */
const headOf = async (datadir: string): Promise<number> => {
  const outcome = await Effect.runPromise(CliRunner.run(["status", "--datadir", datadir, "--json"]))
  expect(outcome.code).toBe(0)
  return JSON.parse(outcome.stdout[0]!).number
}

/** Waits until a datadir's head is `number`, as `status` reads it beside the process writing it (bounded: 30 s). */
const untilHead = async (datadir: string, number: number): Promise<void> => {
  for (let tries = 0; tries < 150; tries++) {
    const outcome = await Effect.runPromise(CliRunner.run(["status", "--datadir", datadir, "--json"]))
    if (outcome.code === 0 && JSON.parse(outcome.stdout[0]!).number === number) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error(`datadir ${datadir} did not reach block ${number} within 30 s`)
}

describe("ethsync serve, sync and node", () => {
  it("a sync from a serve exits 0 once synced; SIGINT ends serve, a running sync and a node with 0", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethsync-node-cli-"))
    const children: Array<ChildProcess.ChildProcessWithoutNullStreams> = []
    try {
      const file = Path.join(dir, "chain.rlp")
      Fs.writeFileSync(file, TestChain.fileBytes([genesis, ...blocks]))
      const served = Path.join(dir, "served")
      expect((await Effect.runPromise(CliRunner.run(["import", "--verify-seals", "none", "--datadir", served, file]))).code).toBe(0)

      const serve = CliRunner.start(["serve", "--datadir", served, "--port", "0", "--metrics", "127.0.0.1:0"])
      children.push(serve)
      const metricsUrl = onStderr(serve, /serving metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/)
      const enode = await firstLine(serve)
      expect(enode).toMatch(/^enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+$/)
      const serveEnd = ending(serve)

      const synced = Path.join(dir, "synced")
      const sync = await CliRunner.spawn([
        "sync", "--log-level", "warn", "--verify-seals", "none", "--datadir", synced, "--genesis", file, "--port", "0", "--peer", enode, "--exit-when-synced"
      ])
      expect(sync.code).toBe(0)
      expect(sync.stdout[0]).toMatch(/^synced 300 blocks in \d+\.\d\d s \(.* blocks\/s\); head 300 0x[0-9a-f]{64}; 0 peers dropped$/)
      expect(await headOf(synced)).toBe(300)
      // The server's metrics: the headers and bodies it sent over eth/68, by message.
      const scraped = await (await fetch(await metricsUrl)).text()
      expect(scraped).toMatch(/^ethsync_net_messages\{direction="out",message="BlockBodies"\} [1-9]\d*$/m)
      expect(scraped).toMatch(/^ethsync_net_messages\{direction="in",message="GetBlockHeaders"\} [1-9]\d*$/m)

      // A sync that does not exit by itself, its peer in static-nodes.json: SIGINT ends it with its summary and exit code 0.
      const other = Path.join(dir, "other")
      Fs.mkdirSync(other)
      Fs.writeFileSync(Path.join(other, "static-nodes.json"), JSON.stringify([enode]))
      const running = CliRunner.start(["sync", "--log-level", "warn", "--verify-seals", "none", "--datadir", other, "--genesis", file, "--port", "0"])
      children.push(running)
      const runningEnd = ending(running)
      await untilHead(other, 300)
      running.kill("SIGINT")
      const stopped = await runningEnd
      expect(stopped.code).toBe(0)
      expect(stopped.stdout).toMatch(/^synced 300 blocks in /)

      // A node prints its enode URL first, syncs from its peer, and ends with 0 on SIGINT too.
      const third = Path.join(dir, "third")
      const node = CliRunner.start(["node", "--log-level", "warn", "--verify-seals", "none", "--datadir", third, "--genesis", file, "--port", "0", "--peer", enode])
      children.push(node)
      expect(await firstLine(node)).toMatch(/^enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+$/)
      const nodeEnd = ending(node)
      await untilHead(third, 300)
      node.kill("SIGINT")
      expect((await nodeEnd).code).toBe(0)
      expect(await headOf(third)).toBe(300)

      serve.kill("SIGINT")
      expect((await serveEnd).code).toBe(0)
      expect(await headOf(served)).toBe(300)
      // Its node key is kept in the datadir: started again, it has the same node id.
      const again = CliRunner.start(["serve", "--log-level", "warn", "--datadir", served, "--port", "0"])
      children.push(again)
      expect((await firstLine(again)).split("@")[0]).toBe(enode.split("@")[0])
      const againEnd = ending(again)
      again.kill("SIGTERM")
      expect((await againEnd).code).toBe(0)
      expect(await headOf(other)).toBe(300)
    } finally {
      for (const child of children) child.kill("SIGKILL")
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
