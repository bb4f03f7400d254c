/**
 * A sync survives a crash: `ethsync sync --exit-when-synced` from an `ethsync serve` of the real
 * mainnet blocks 0..8191 (ETHSYNC_MAINNET_RLP), killed with SIGKILL at 5 random moments (each up
 * to 100 ms after its imported-block count, polled from its `--metrics`, crosses a random height
 * above where it restarted) and restarted each time. Each kill leaves a consistent datadir that
 * holds every block the sync had reported imported; the last run ends at the head of an
 * uninterrupted sync with a byte-identical export (that of the mainnet file); and the server,
 * counting with `ethsync_net_blocks_served` (eth/60-61) and `ethsync_net_bodies_served`
 * (eth/66-68), sent the restarted syncs at most what it sent the uninterrupted one plus the blocks
 * in flight at the kills (sent to a killed run and not stored by it). The moments are random but
 * reproducible: the seed is printed, and ETHSYNC_CRASH_SEED runs one again.
 */import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Mainnet from "../../core/test/support/mainnet.ts"
import * as Children from "./Children.ts"
import * as CliRunner from "./CliRunner.ts"
import * as Consistency from "./Consistency.ts"

const file = Mainnet.rlpPath
Mainnet.warnIfSkipped("CrashSync.test.ts")

/** The head of the mainnet file. */
const head = 8191

/** How many times the sync is killed before the run that finishes it. */
const kills = 5

/**
 * Blocks below the head that no kill aims past, so that each lands while the sync still has blocks
 * to fetch: more than one commit's worth (the count moves by up to about 900 blocks at once) and
 * the 100 ms a kill may wait after the count has crossed its height.
 */
const margin = 2000

/** The seed of the kill heights: ETHSYNC_CRASH_SEED, else a fresh one. */
const seed = Number(process.env["ETHSYNC_CRASH_SEED"] ?? Math.floor(Math.random() * 2 ** 32))

/** Numbers in [0, 1) from a 32-bit seed (mulberry32): the same seed, the same kill heights. */
const random = (state: number) => () => {
  state = (state + 0x6d2b79f5) | 0
  let t = Math.imul(state ^ (state >>> 15), 1 | state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
}

/** What one kill did. */
interface Kill {
  /** The head the sync restarted from. */
  readonly from: number
  /** The height whose crossing triggered the kill. */
  readonly target: number
  /** The head of its datadir after the kill. */
  readonly held: number
  /** Blocks the server sent to this run. */
  readonly served: number
}

/** The head `status --json` reports for a datadir, with its hash. */
const statusOf = async (datadir: string): Promise<{ readonly number: number; readonly hash: string }> => {
  const outcome = await Effect.runPromise(CliRunner.run(["status", "--datadir", datadir, "--json"]))
  expect(outcome.code).toBe(0)
  return JSON.parse(outcome.stdout[0]!)
}

describe.skipIf(!file)("a sync killed with SIGKILL", () => {
  it("restarted after each of 5 kills, ends at the server's head with the same chain, fetching again at most what was in flight", async () => {
    console.log(`CrashSync.test.ts: seed ${seed} (ETHSYNC_CRASH_SEED=${seed} runs these kill heights again)`)
    const next = random(seed)
    const chain = Mainnet.load().blocks
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethsync-crash-sync-"))
    const children: Array<Children.Child> = []
    const started = (args: ReadonlyArray<string>) => {
      const child = CliRunner.start(args)
      children.push(child)
      return child
    }
    try {
      const served = Path.join(dir, "served")
      const imported = await Effect.runPromise(CliRunner.run(["import", "--log-level", "warn", "--verify-seals", "none", "--datadir", served, file!]))
      expect(imported.code).toBe(0)
      const server = started(["serve", "--datadir", served, "--port", "0", "--metrics", "127.0.0.1:0"])
      const serverMetrics = Children.metricsUrl(server)
      const enode = await Children.match(server, "stdout", /^(enode:\S+)\n/, 30_000)
      const serverUrl = await serverMetrics
      /**
       * The blocks the server has sent, once the sync's connection is gone (no answer is then under
       * way): whole over eth/60-61, as bodies over eth/66-68 (whose headers also serve to find the
       * common ancestor, among blocks the sync holds, so they are not counted).
       */
      const servedSoFar = async () => {
        await Children.until(
          "the server sees the sync gone",
          async () => (await Children.scrape(serverUrl, "ethsync_net_peers_connected")) === 0,
          10_000
        )
        const [blocks, bodies] = await Promise.all([
          Children.scrape(serverUrl, "ethsync_net_blocks_served"),
          Children.scrape(serverUrl, "ethsync_net_bodies_served")
        ])
        return { blocks, sum: blocks + bodies }
      }

      const syncArgs = (datadir: string) => [
        "sync", "--verify-seals", "none", "--datadir", datadir, "--network", "mainnet", "--port", "0",
        "--metrics", "127.0.0.1:0", "--peer", enode, "--exit-when-synced"
      ]
      /** Runs a sync into `datadir` to its end: exit code 0, and the summary naming the blocks synced and the head. */
      const syncToEnd = async (datadir: string, blocks: number) => {
        const end = await Children.ending(started(syncArgs(datadir)), 45_000)
        expect(end.code).toBe(0)
        expect(end.stdout).toMatch(new RegExp(`^synced ${blocks.toLocaleString("en-US")} blocks in .*; head ${head} 0x`))
      }
      /** Exports a datadir's chain: its bytes. */
      const exportOf = async (datadir: string) => {
        const exported = Path.join(dir, `${Path.basename(datadir)}.rlp`)
        expect((await Effect.runPromise(CliRunner.run(["export", "--log-level", "warn", "--datadir", datadir, exported]))).code).toBe(0)
        return Fs.readFileSync(exported)
      }

      // An uninterrupted sync: what the restarted one must end with, and the blocks a whole sync is sent (beyond
      // the chain: those the algorithm fetches twice by design, such as eth/60's cross-checked blocks).
      const reference = Path.join(dir, "reference")
      await syncToEnd(reference, head)
      const counted = await servedSoFar()
      const wholeSync = counted.sum
      /**
       * How many blocks of heights `from`+1..`to` a sync is sent: all over eth/60-61; over eth/66-68
       * only those with a body (transactions or uncles), an empty block being all header.
       */
      const toSend = (from: number, to: number) =>
        counted.blocks > 0 ? to - from : chain.slice(from + 1, to + 1).filter((b) => b.transactions.length + b.uncles.length > 0).length
      // Counted where the blocks went out: were they sent another way, the bound below would hold for nothing.
      expect(wholeSync).toBeGreaterThanOrEqual(toSend(0, head))

      const synced = Path.join(dir, "synced")
      const done: Array<Kill> = []
      let from = 0
      let servedBefore = wholeSync
      for (let k = 0; k < kills; k++) {
        const room = Math.max(1, Math.floor((head - margin - from) / (kills - k)))
        const target = from + 1 + Math.floor(next() * room)
        const sync = started(syncArgs(synced))
        const url = await Children.metricsUrl(sync)
        let reported = 0
        await Children.until(`sync ${k + 1} importing past block ${target}`, async () => {
          expect(Children.hasEnded(sync), `sync ${k + 1} ended before it was killed at block ${target}`).toBe(false)
          reported = await Children.scrape(url, "ethsync_blocks_imported")
          return from + reported >= target
        }, 30_000, 5)
        // A moment after the crossing, which the count shows only once a commit is done: the kill lands anywhere in the next.
        await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * 100)))
        const end = await Children.kill(sync)
        expect(end.signal, `sync ${k + 1} ended before it was killed at block ${target}`).toBe("SIGKILL")
        // The datadir reopens consistent, holding every block the sync reported imported, and the sync had not finished.
        const held = (await Effect.runPromise(Consistency.check(synced))).number
        expect(held).toBeGreaterThanOrEqual(from + reported)
        expect(held).toBeLessThan(head)
        const servedNow = (await servedSoFar()).sum
        done.push({ from, target, held, served: servedNow - servedBefore })
        from = held
        servedBefore = servedNow
      }

      await syncToEnd(synced, head - from)
      expect(await statusOf(synced)).toEqual(await statusOf(reference))
      expect(await statusOf(synced)).toEqual(await statusOf(served))
      const exported = await exportOf(synced)
      expect(exported.equals(await exportOf(reference))).toBe(true)
      expect(exported.equals(Fs.readFileSync(file!))).toBe(true)

      // Blocks in flight at a kill: sent to that run, not stored by it. Only those may be sent again.
      const inFlight = done.map((kill) => kill.served - toSend(kill.from, kill.held))
      const restarted = (await servedSoFar()).sum - wholeSync
      console.log(
        `CrashSync.test.ts: an uninterrupted sync was sent ${wholeSync} blocks; kills at ` +
          `${done.map((kill) => `${kill.target} (held ${kill.held}, ${kill.served} sent)`).join(", ")}; ` +
          `in flight ${inFlight.join(" + ")}; ${restarted} blocks sent to the restarted sync in all`
      )
      expect(restarted).toBeLessThanOrEqual(wholeSync + inFlight.reduce((sum, n) => sum + n, 0))
    } finally {
      await Promise.all(children.map(Children.kill))
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
