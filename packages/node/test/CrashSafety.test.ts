/**
 * Crash safety: an import killed with SIGKILL at random moments leaves a consistent datadir each
 * time (the head a valid, fully readable block; the index and TDs agreeing from genesis to it),
 * and a last import finishes the job.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as CliRunner from "./CliRunner.ts"
import * as Consistency from "./Consistency.ts"

/** Blocks after genesis; at 25 blocks per transaction the import commits 160 times. */
const length = 4000
const kills = 4

/** Starts an import, waits until it is importing, lets it run `delay` ms, then kills it with SIGKILL. */
const killedImport = (args: ReadonlyArray<string>, delay: number): Promise<void> =>
  new Promise((resolve, reject) => {
    const child = CliRunner.start(args)
    let stderr = ""
    child.stderr.on("data", (chunk) => {
      stderr += chunk
      if (stderr.includes("importing")) setTimeout(() => child.kill("SIGKILL"), delay)
    })
    child.on("error", reject)
    child.on("close", (_, signal) =>
      signal === "SIGKILL" ? resolve() : reject(new Error(`the import ended before it was killed: ${stderr}`)))
  })

describe("crash safety", () => {
  it("an import killed with SIGKILL at random moments leaves a consistent datadir, and a last import finishes", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethsync-crash-"))
    try {
      const blocks = await Effect.runPromise(ChainGenerator.generate(ChainGenerator.testGenesis, length, { uncles: true, transactions: true }))
      const file = Path.join(dir, "chain.rlp")
      Fs.writeFileSync(file, Buffer.concat([ChainGenerator.testGenesis.rlp, ...blocks.map((b) => b.rlp)]))
      const datadir = Path.join(dir, "datadir")
      const args = ["import", "--verify-seals", "none", "--batch-size", "25", "--datadir", datadir, file]
      const heads: Array<number> = []
      for (let i = 0; i < kills; i++) {
        // Well inside the import: at 20,000 blocks/s it would still be importing after 160 ms.
        const delay = 10 + Math.floor(Math.random() * 150)
        await killedImport(args, delay)
        const head = await Effect.runPromise(Consistency.check(datadir))
        heads.push(head.number)
      }
      expect(heads.some((n) => n > 0 && n < length), `heads after the kills: ${heads.join(", ")}`).toBe(true)
      const last = await CliRunner.spawn(args)
      expect(last.code).toBe(0)
      expect(last.stdout[0]).toMatch(new RegExp(`^imported ${length - heads.at(-1)!} new blocks of ${length + 1} read `))
      const head = await Effect.runPromise(Consistency.check(datadir))
      expect(Hash.toHex(head.hash)).toBe(Hash.toHex(blocks[length - 1]!.hash))
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
