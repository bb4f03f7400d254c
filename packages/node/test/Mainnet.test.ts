/**
 * The real mainnet file (blocks 0..8191, `ETHSYNC_MAINNET_RLP`) through the ethsync executable:
 * import into an empty datadir with every seal checked, status, export, a second import that
 * changes nothing, the same chain imported without seal checks, and a file with one bad seal.
 */
import { describe, expect, it } from "@effect/vitest"
import { Block, RlpSplitter } from "@ethsync/core"
import { Effect, Result } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as CliRunner from "./CliRunner.ts"

const file = process.env["ETHSYNC_MAINNET_RLP"]
if (!file) {
  console.log(
    "Mainnet.test.ts skipped: ETHSYNC_MAINNET_RLP is not set. Point it at the geth-export file of mainnet blocks 0..8191 " +
      "(../shared/data/mainnet-0-8191.rlp) to import real blocks."
  )
}

/** What `status --json` reports after importing blocks 0..8191. */
const expected = {
  genesis: "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3",
  number: 8191,
  hash: "0xa6860fefa339c963e1bb622526cc8dd4344eedd2a9b969e74de5cccc445fbed4",
  td: "1344623723034024"
}

describe.skipIf(!file)("the mainnet file through the CLI", () => {
  it("imports with seals checked, reports the head, exports the identical bytes, re-imports nothing, and imports the same without seal checks", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethsync-mainnet-"))
    try {
      const datadir = Path.join(dir, "datadir")
      // The import runs the executable; the later commands run in process (the same program, quicker).
      const run = (args: ReadonlyArray<string>) => Effect.runPromise(CliRunner.run(args))
      const status = async () => JSON.parse((await run(["status", "--datadir", datadir, "--json"])).stdout[0]!)
      const first = await CliRunner.spawn(["import", "--datadir", datadir, file!])
      expect(first.code).toBe(0)
      expect(first.stdout[0]).toMatch(/^imported 8191 new blocks of 8192 read /)
      expect(await status()).toEqual(expected)
      const out = Path.join(dir, "export.rlp")
      expect((await run(["export", "--datadir", datadir, out])).code).toBe(0)
      expect(Fs.readFileSync(out).equals(Fs.readFileSync(file!))).toBe(true)
      const again = await run(["import", "--log-level", "warn", "--datadir", datadir, file!])
      expect(again.code).toBe(0)
      expect(again.stdout[0]).toMatch(/^imported 0 new blocks of 8192 read /)
      expect(await status()).toEqual(expected)
      const unchecked = Path.join(dir, "unchecked")
      expect((await run(["import", "--log-level", "warn", "--verify-seals", "none", "--datadir", unchecked, file!])).code).toBe(0)
      expect(JSON.parse((await run(["status", "--datadir", unchecked, "--json"])).stdout[0]!)).toEqual(expected)
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!file)("a mainnet file with a bad seal", () => {
  it("stops the import at the block before it, naming the seal rule", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethsync-mainnet-"))
    try {
      const bytes = new Uint8Array(Fs.readFileSync(file!))
      const items = [...RlpSplitter.items(bytes)]
      const offset = items.slice(0, 5000).reduce((n, item) => n + item.length, 0)
      const decoded = Block.decode(bytes.subarray(offset, offset + items[5000]!.length))
      if (Result.isFailure(decoded)) throw decoded.failure
      // The header's nonce is a view into `bytes`: block 5000's nonce changes in place, its size does not.
      decoded.success.header.nonce[7]! ^= 1
      const spoiled = Path.join(dir, "bad-seal.rlp")
      Fs.writeFileSync(spoiled, bytes)
      const datadir = Path.join(dir, "datadir")
      const outcome = await Effect.runPromise(CliRunner.run(["import", "--log-level", "warn", "--datadir", datadir, spoiled]))
      expect(outcome.code).toBe(1)
      expect(outcome.stderr).toHaveLength(1)
      expect(outcome.stderr[0]).toMatch(new RegExp(`^ethsync: ${spoiled}: block 5000 \\(0x[0-9a-f]{64}\\) breaks the sealMixHash rule: `))
      const status = await Effect.runPromise(CliRunner.run(["status", "--datadir", datadir, "--json"]))
      expect(JSON.parse(status.stdout[0]!).number).toBe(4999)
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
