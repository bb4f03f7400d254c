/**
 * The ethsync CLI on a generated chain: import, status, export, and the one-line errors a user
 * can cause. Run in process, except where the exit code of the real executable is the point.
 */
import { describe, expect, it } from "@effect/vitest"
import { Genesis, Hash } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as ChainDb from "../src/ChainDb.ts"
import * as CliRunner from "./CliRunner.ts"
import * as TempDir from "./TempDir.ts"
import * as TestChain from "./TestChain.ts"
import * as WriteLock from "./WriteLock.ts"

const genesis = ChainGenerator.testGenesis
/** Blocks 1..300, some with transactions, some with uncles. */
const blocks = await Effect.runPromise(ChainGenerator.generate(genesis, 300, { uncles: true, transactions: true }))
const chain = [genesis, ...blocks]

/** A folder with the chain as files: whole, without block 0, in two halves, and the genesis alone. */
const files = Effect.map(TempDir.make, (dir) => {
  const write = (name: string, bytes: Uint8Array) => {
    const path = Path.join(dir, name)
    Fs.writeFileSync(path, bytes)
    return path
  }
  return {
    dir,
    datadir: Path.join(dir, "datadir"),
    whole: write("chain.rlp", TestChain.fileBytes(chain)),
    noGenesis: write("no-genesis.rlp", TestChain.fileBytes(blocks)),
    firstHalf: write("first.rlp", TestChain.fileBytes(chain.slice(0, 150))),
    secondHalf: write("second.rlp", TestChain.fileBytes(chain.slice(150))),
    genesisOnly: write("genesis.rlp", TestChain.fileBytes([genesis])),
    mainnetGenesis: write("mainnet-genesis.rlp", TestChain.fileBytes([Genesis.mainnet]))
  }
})

/** Expects a failed run: this exit code and exactly one line on stderr, matching `pattern`. */
const expectFailure = (outcome: CliRunner.Outcome, code: number, pattern: RegExp) => {
  expect(outcome.stderr).toHaveLength(1)
  expect(outcome.stderr[0]).toMatch(pattern)
  expect(outcome.code).toBe(code)
}

const quiet = ["--log-level", "warn"]
/** The generated chain's seals are made up. */
const noSeals = ["--verify-seals", "none"]

/** Runs the CLI executable bound by file permissions. */
const unprivileged = (args: ReadonlyArray<string>) => Effect.promise(() => CliRunner.spawnUnprivileged(args))

/**
 * Sets the modes of a datadir folder and of the files in it until the scope closes, then gives
 * the owner back every right, so the folder can be removed.
 */
const permissions = (datadir: string, folder: number, file: number) => {
  const set = (folderMode: number, fileMode: number) =>
    Effect.sync(() => {
      Fs.chmodSync(datadir, 0o700)
      for (const name of Fs.readdirSync(datadir)) Fs.chmodSync(Path.join(datadir, name), fileMode)
      Fs.chmodSync(datadir, folderMode)
    })
  return Effect.acquireRelease(set(folder, file), () => set(0o700, 0o600))
}

describe("ethsync CLI", () => {
  it.live("imports a file into an empty datadir, reports it, exports the same bytes, and re-imports nothing", () =>
    Effect.gen(function*() {
      const f = yield* files
      const imported = yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.whole])
      expect(imported.code).toBe(0)
      expect(imported.stdout[0]).toMatch(/^imported 300 new blocks of 301 read in .* head 300 0x/)
      const status = yield* CliRunner.run(["status", "--datadir", f.datadir, "--json"])
      expect(JSON.parse(status.stdout[0]!)).toEqual({
        genesis: Hash.toHex(genesis.hash),
        number: 300,
        hash: Hash.toHex(blocks[299]!.hash),
        td: TestChain.tdOf(chain).toString()
      })
      const out = Path.join(f.dir, "out.rlp")
      expect((yield* CliRunner.run(["export", ...quiet, "--datadir", f.datadir, out])).code).toBe(0)
      expect(Fs.readFileSync(out).equals(Fs.readFileSync(f.whole))).toBe(true)
      expect((yield* CliRunner.run(["export", ...quiet, "--datadir", f.datadir, "--first", "10", "--last", "20", out])).code).toBe(0)
      expect(Fs.readFileSync(out).equals(Buffer.from(TestChain.fileBytes(chain.slice(10, 21))))).toBe(true)
      const again = yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.whole])
      expect(again.stdout[0]).toMatch(/^imported 0 new blocks of 301 read/)
      expect((yield* CliRunner.run(["status", "--datadir", f.datadir, "--json"])).stdout).toEqual(status.stdout)
    }))

  it.live("imports several files in order, and starts a custom chain from --genesis", () =>
    Effect.gen(function*() {
      const f = yield* files
      const halves = yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.firstHalf, f.secondHalf])
      expect(halves.stdout[0]).toMatch(/^imported 300 new blocks of 301 read .* head 300 /)
      const custom = Path.join(f.dir, "custom")
      const fromGenesis = yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", custom, "--genesis", f.genesisOnly, f.noGenesis])
      expect(fromGenesis.stdout[0]).toMatch(/^imported 300 new blocks of 300 read .* head 300 /)
    }))

  it.live("logs JSON lines on stderr with --log-format json", () =>
    Effect.gen(function*() {
      const f = yield* files
      const outcome = yield* CliRunner.run(["import", ...noSeals, "--log-format", "json", "--datadir", f.datadir, f.whole])
      expect(outcome.code).toBe(0)
      expect(JSON.parse(outcome.stderr[0]!)).toMatchObject({ message: `importing ${f.whole}`, level: "INFO" })
    }))

  it.live("gives one line and a non-zero exit for errors a user can cause", () =>
    Effect.gen(function*() {
      const f = yield* files
      expectFailure(yield* CliRunner.run(["import", ...noSeals, "--datadir", f.datadir, Path.join(f.dir, "missing.rlp")]), 2, /missing\.rlp.*does not exist/)
      expectFailure(yield* CliRunner.run(["import", ...noSeals, "--datadir", f.datadir, "--frobnicate", f.whole]), 2, /Unrecognized flag: --frobnicate/)
      expectFailure(yield* CliRunner.run(["import", ...noSeals, "--datadir", f.datadir]), 2, /Missing required argument: file/)
      expectFailure(yield* CliRunner.run(["import", ...noSeals, "--datadir", f.datadir, "--batch-size", "0", f.whole]), 2, /at least 1 block/)
      expectFailure(yield* CliRunner.run(["status", "--datadir", f.dir]), 2, /^ethsync: datadir .* holds no chain/)
      expectFailure(yield* CliRunner.run(["status", "--datadir", f.whole]), 2, /is not a directory/)
      expectFailure(
        yield* CliRunner.run(["import", ...noSeals, "--datadir", f.datadir, "--network", "mainnet", "--genesis", f.genesisOnly, f.whole]),
        2,
        /--network and --genesis/
      )
      expect((yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.whole])).code).toBe(0)
      expectFailure(
        yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, "--network", "mainnet", f.whole]),
        2,
        new RegExp(`^ethsync: datadir .* holds chain with genesis ${Hash.toHex(genesis.hash)}, not ${Hash.toHex(Genesis.mainnetHash)}$`)
      )
      expectFailure(
        yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.mainnetGenesis]),
        1,
        new RegExp(`holds chain with genesis ${Hash.toHex(Genesis.mainnetHash)}, but the datadir holds genesis ${Hash.toHex(genesis.hash)}`)
      )
      expectFailure(
        yield* CliRunner.run(["export", ...quiet, "--datadir", f.datadir, "--last", "999", Path.join(f.dir, "x.rlp")]),
        2,
        /cannot export blocks 0\.\.999: the chain's head is block 300/
      )
    }))

  it.live("starts an empty datadir only from --network, --genesis or a leading block 0, and otherwise writes nothing", () =>
    Effect.gen(function*() {
      const f = yield* files
      const refused = new RegExp(
        "^ethsync: datadir .* holds no chain yet and .*no-genesis\\.rlp does not start with block 0: " +
          "pass --network or --genesis to name the chain it holds$"
      )
      const missing = Path.join(f.dir, "missing")
      expectFailure(yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", missing, f.noGenesis]), 2, refused)
      expect(Fs.existsSync(missing)).toBe(false)
      const empty = Path.join(f.dir, "empty")
      Fs.mkdirSync(empty)
      expectFailure(yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", empty, f.noGenesis]), 2, refused)
      expect(Fs.readdirSync(empty)).toEqual([])
      expectFailure(yield* CliRunner.run(["status", "--datadir", empty]), 2, /^ethsync: datadir .* holds no chain/)

      // Named on purpose, mainnet it is: block 1 of the test chain is then not a child of its genesis.
      expectFailure(
        yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", empty, "--network", "mainnet", f.noGenesis]),
        1,
        /block 1 \(0x[0-9a-f]{64}\) breaks the unknownParent rule/
      )
      const status = yield* CliRunner.run(["status", "--datadir", empty, "--json"])
      expect(JSON.parse(status.stdout[0]!)).toMatchObject({ genesis: Hash.toHex(Genesis.mainnetHash), number: 0 })

      // A datadir that holds a chain needs no name for it.
      expect((yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.genesisOnly])).code).toBe(0)
      const more = yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.noGenesis])
      expect(more.stdout[0]).toMatch(/^imported 300 new blocks of 300 read .* head 300 /)
    }))

  it.live("status and export only read: they work on a datadir the user may only read, while an import holds its write lock", () =>
    Effect.gen(function*() {
      const f = yield* files
      expect((yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.whole])).code).toBe(0)
      yield* WriteLock.hold(f.datadir)
      yield* permissions(f.datadir, 0o555, 0o444)
      const status = yield* unprivileged(["status", "--datadir", f.datadir, "--json"])
      expect(status.stderr).toEqual([])
      expect(JSON.parse(status.stdout[0]!)).toMatchObject({ number: 300, hash: Hash.toHex(blocks[299]!.hash) })
      const out = Path.join(f.dir, "out.rlp")
      const exported = yield* unprivileged(["export", ...quiet, "--datadir", f.datadir, out])
      expect(exported.stderr).toEqual([])
      expect(exported.code).toBe(0)
      expect(Fs.readFileSync(out).equals(Fs.readFileSync(f.whole))).toBe(true)
    }))

  it.live("names a datadir the user may not read, and why, in one line", () =>
    Effect.gen(function*() {
      const f = yield* files
      expect((yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.whole])).code).toBe(0)
      yield* permissions(f.datadir, 0o000, 0o000)
      const unreadable = new RegExp(`^ethsync: cannot read datadir ${f.datadir}: permission denied$`)
      expectFailure(yield* unprivileged(["status", "--datadir", f.datadir]), 2, unreadable)
      expectFailure(yield* unprivileged(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.whole]), 2, unreadable)
    }))

  it.live("exports each block's stored bytes without decoding them", () =>
    Effect.gen(function*() {
      const f = yield* files
      expect((yield* CliRunner.run(["import", ...noSeals, ...quiet, "--datadir", f.datadir, f.whole])).code).toBe(0)
      // Block 5's record no longer decodes (an empty list); export copies it all the same.
      const spoiled = Uint8Array.of(0xc0)
      yield* Effect.scoped(Effect.flatMap(ChainDb.open(f.datadir, "write"), (db) =>
        ChainDb.attempt("spoil block 5", () => ChainDb.transaction(db, () => db.blocks.putSync(ChainDb.recordKey(5, chain[5]!.hash), spoiled)))))
      const out = Path.join(f.dir, "out.rlp")
      const exported = yield* CliRunner.run(["export", ...quiet, "--datadir", f.datadir, "--first", "3", "--last", "7", out])
      expect(exported.stderr).toEqual([])
      expect(exported.code).toBe(0)
      const expected = Buffer.concat([...chain.slice(3, 5).map((b) => b.rlp), spoiled, ...chain.slice(6, 8).map((b) => b.rlp)])
      expect(Fs.readFileSync(out).equals(expected)).toBe(true)
    }))

  it.live("explains every command and flag with --help", () =>
    Effect.gen(function*() {
      const help = (args: ReadonlyArray<string>) => Effect.map(CliRunner.run([...args, "--help"]), (o) => o.stdout.join("\n"))
      expect(yield* help([])).toMatch(/import[\s\S]*export[\s\S]*status[\s\S]*--log-format/)
      expect(yield* help(["import"])).toMatch(/file[\s\S]*--datadir[\s\S]*--network[\s\S]*--genesis[\s\S]*--verify-seals[\s\S]*--batch-size/)
      expect(yield* help(["export"])).toMatch(/file[\s\S]*--datadir[\s\S]*--first[\s\S]*--last/)
      expect(yield* help(["status"])).toMatch(/--datadir[\s\S]*--json/)
    }))

  it("sets the exit code and prints one line from the real executable", async () => {
    const outcome = await CliRunner.spawn(["status", "--datadir"])
    expect(outcome.stdout).toEqual([])
    expectFailure(outcome, 2, /^ethsync status: .*--datadir.* \(see 'ethsync status --help'\)$/)
  })
})
