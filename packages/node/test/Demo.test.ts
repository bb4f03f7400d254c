/**
 * `ethsync demo`: a sync from honest and malicious simulated peers on the real clock into an LMDB
 * datadir, over RLPx on 127.0.0.1 (the default) and in memory, its summary, the temporary
 * datadir's removal, and its one-line errors.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash } from "@ethsync/core"
import { TestChain } from "@ethsync/testkit"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as CliRunner from "./CliRunner.ts"
import * as TempDir from "./TempDir.ts"

/** Log lines go to stderr; only warnings and errors are wanted here. */
const quiet = ["--log-level", "warn"]

/** What the summary says about each attacker's drop, by attack. */
const reasons: Record<string, RegExp> = {
  "garbage": /^malformed BlockHashes: payload: not RLP: /,
  "wrong-genesis": /^bad Status: the peer's status has genesisHash 0x[0-9a-f]{64}, ours is 0x[0-9a-f]{64}$/,
  "stall": /^block cross-check failed: no block for 0x[0-9a-f]{64} in time$/,
  "made-up-chain": /^block cross-check failed: peer attacker-made-up-chain has no block for 0x[0-9a-f]{64}, a hash of its own chain$/,
  "missing-block": /^no peer can be asked for any of the \d+ blocks still to fetch \(hashes from attacker-missing-block\)$/,
  "unknown-parent": /^block 1 \(0x[0-9a-f]{64}\) breaks the unknownParent rule/,
  "swapped-chunks": /^retrieved hash chain is invalid: block \d+ \(delivered by [a-z0-9-]+\) has no place in the download window: the hash chain is out of order$/,
  "every-second-hash": /^block cross-check failed: block 0x[0-9a-f]{64} names parent 0x[0-9a-f]{64}, the hash chain says/,
  "genesis-parents": /^block cross-check failed: block 0x[0-9a-f]{64} names parent 0x[0-9a-f]{64}, the hash chain says/
}

/** The summary's drop lines as peer -> reason. */
const dropsOf = (stdout: ReadonlyArray<string>): Map<string, string> =>
  new Map(stdout.flatMap((line) => {
    const match = /^ {4}(\S+) +(.+)$/.exec(line)
    return match ? [[match[1]!, match[2]!] as const] : []
  }))

/** The folder the summary's datadir line names. */
const datadirOf = (stdout: ReadonlyArray<string>): string | undefined =>
  stdout.map((line) => /^ {2}datadir +(\S+) \(/.exec(line)?.[1]).find((path) => path !== undefined)

/** Expects a failed run: exit code 2 and exactly one line on stderr, matching `pattern`. */
const expectUsageError = (outcome: CliRunner.Outcome, pattern: RegExp) => {
  expect(outcome.stderr).toHaveLength(1)
  expect(outcome.stderr[0]).toMatch(pattern)
  expect(outcome.code).toBe(2)
}

describe("ethsync demo", () => {
  it.live("over RLPx syncs every block past one attacker of each attack, wire-level ones included, drops each for its attack and no honest peer", () =>
    Effect.gen(function*() {
      const blocks = 5000
      const datadir = Path.join(yield* TempDir.make, "datadir")
      const outcome = yield* CliRunner.run([
        "demo", ...quiet, "--blocks", `${blocks}`, "--peers", "3", "--attackers", "6", "--datadir", datadir
      ])
      expect(outcome.stderr).toEqual([])
      expect(outcome.code).toBe(0)
      expect(outcome.stdout[0]).toBe("synced 5,000 blocks from 3 honest peers with 9 attackers among them")
      expect(outcome.stdout[1]).toBe("  transport rlpx: each peer an RLPx server on 127.0.0.1, dialled by a node over the datadir")
      expect(outcome.stdout[2]).toMatch(/^ {2}imported {2}5,000 blocks in [\d.]+ s \([\d,]+ blocks\/s\)$/)
      expect(outcome.stdout).toContain("  dropped   9 of 9 attackers, no honest peer")
      // One sync per attacker the downloader meets, the staller first (it claims the most), none
      // with a peer already dropped while its connection closes, then one honest peer.
      const syncs = /^ {2}syncs {5}(\d+): (.+)$/.exec(outcome.stdout.find((line) => line.startsWith("  syncs")) ?? "")
      const synced = syncs?.[2]?.split(", ") ?? []
      expect(synced[0]).toBe("attacker-stall")
      expect(synced.at(-1)).toMatch(/^honest-\d$/)
      expect(new Set(synced).size).toBe(synced.length)
      expect(synced).toHaveLength(8)
      expect(outcome.stdout).toContain("  seals     not checked (verifier none): the generated chain's seals are made up")
      const drops = dropsOf(outcome.stdout)
      expect([...drops.keys()].sort()).toEqual(Object.keys(reasons).map((attack) => `attacker-${attack}`).sort())
      for (const [attack, reason] of Object.entries(reasons)) expect(drops.get(`attacker-${attack}`)).toMatch(reason)
      expect(datadirOf(outcome.stdout)).toBe(datadir)
      // This run's metrics only: every block once, every attacker the downloader caught dropped
      // once (the garbage sender and the liar about its genesis are the eth handler's).
      expect(outcome.stdout.at(-1)).toMatch(
        /^ {2}metrics {3}5,000 blocks imported, \d+ syncs ended, 7 dropped by the downloader, [\d,]+ block round trips \(mean [\d.]+ ms, max [\d,]+ ms\)$/
      )

      const chain = yield* TestChain.make(blocks)
      const status = yield* CliRunner.run(["status", "--datadir", datadir, "--json"])
      expect(JSON.parse(status.stdout[0]!)).toMatchObject({ number: blocks, hash: Hash.toHex(chain.head.hash) })

      expectUsageError(
        yield* CliRunner.run(["demo", ...quiet, "--blocks", `${blocks}`, "--datadir", datadir]),
        /^ethsync: datadir .* already holds a chain up to block 5000; give a new or empty folder$/
      )
    }))

  it.live("in memory, without --datadir, syncs past its attackers into a temporary datadir and removes it", () =>
    Effect.gen(function*() {
      const outcome = yield* CliRunner.run([
        "demo", ...quiet, "--transport", "memory", "--blocks", "300", "--peers", "1", "--attackers", "2"
      ])
      expect(outcome.code).toBe(0)
      expect(outcome.stdout[0]).toBe("synced 300 blocks from 1 honest peer with 2 attackers among them")
      expect(outcome.stdout[1]).toBe("  transport memory: the in-process simulated network")
      expect(outcome.stdout).toContain("  dropped   2 of 2 attackers, no honest peer")
      expect([...dropsOf(outcome.stdout).keys()]).toEqual(["attacker-made-up-chain", "attacker-missing-block"])
      const datadir = datadirOf(outcome.stdout)
      expect(datadir).toMatch(/ethsync-demo-/)
      expect(outcome.stdout.at(-2)).toMatch(/\(temporary, removed\)$/)
      expect(Fs.existsSync(datadir!)).toBe(false)
    }))

  it.live("gives one line and exit code 2 for a bad flag, and explains itself with --help", () =>
    Effect.gen(function*() {
      expectUsageError(yield* CliRunner.run(["demo", "--blocks", "0"]), /^ethsync demo: Invalid value for flag --blocks: "0"\. Expected: at least 1 block, not 0 /)
      expectUsageError(yield* CliRunner.run(["demo", "--peers", "0"]), /Expected: at least 1 honest peer, not 0/)
      expectUsageError(yield* CliRunner.run(["demo", "--attackers", "-1"]), /Expected: 0 or more attackers, not -1/)
      expectUsageError(yield* CliRunner.run(["demo", "--wire-attackers", "-1"]), /Expected: 0 or more wire attackers, not -1/)
      expectUsageError(yield* CliRunner.run(["demo", "--transport", "carrier-pigeon"]), /^ethsync demo: .*carrier-pigeon/)
      expectUsageError(
        yield* CliRunner.run(["demo", "--transport", "memory", "--wire-attackers", "1"]),
        /^ethsync: --wire-attackers 1 needs --transport rlpx: the in-memory peers have no wire to break$/
      )
      expectUsageError(yield* CliRunner.run(["demo", "--blocks", "many"]), /^ethsync demo: .*many.* \(see 'ethsync demo --help'\)$/)
      const help = (yield* CliRunner.run(["demo", "--help"])).stdout.join("\n")
      expect(help).toMatch(/--blocks[\s\S]*--peers[\s\S]*--attackers[\s\S]*--wire-attackers[\s\S]*--transport[\s\S]*--datadir/)
      expect(help).toMatch(/made-up-chain/)
      expect(help).toMatch(/garbage, wrong-genesis, stall/)
    }))
})
