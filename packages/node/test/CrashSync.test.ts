/**
 * A sync survives a crash: `ethsync sync --exit-when-synced` from a server of the real mainnet
 * blocks 0..8191 (ETHSYNC_MAINNET_RLP), killed with SIGKILL at 5 random moments (each up to 40 ms
 * after its imported-block count, polled from its `--metrics`, crosses a random height above where
 * it restarted) and restarted each time. Each kill leaves a consistent datadir that holds every
 * block the sync had reported imported; the last run ends at the head of an uninterrupted sync with
 * a byte-identical export (that of the mainnet file). The server is a node in this process whose
 * store notes the height of every block it sends (whole over eth/60-61, as a body over eth/66-68),
 * so each restart is checked on its own: it is sent no block its datadir already held, and the
 * blocks it is sent again are at most those sent to the killed runs and not stored (in flight at
 * the kills). The moments are random but reproducible: the seed is printed, and
 * ETHSYNC_CRASH_SEED runs one again.
 */
import { describe, expect, it } from "@effect/vitest"
import { Block, type ChainStore, Hash } from "@ethsync/core"
import { Effect, Exit, Option, Result, Scope } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Mainnet from "../../core/test/support/mainnet.ts"
import * as Children from "./Children.ts"
import * as CliRunner from "./CliRunner.ts"
import * as Consistency from "./Consistency.ts"
import * as Nodes from "./net/Nodes.ts"

const file = Mainnet.rlpPath
Mainnet.warnIfSkipped("CrashSync.test.ts")

/** The head of the mainnet file. */
const head = 8191

/** How many times the sync is killed before the run that finishes it. */
const kills = 5

/**
 * Blocks below the head that no kill aims past, so that each lands while the sync still has blocks
 * to fetch: one commit's worth (the count moves by up to 1,024 blocks at once), and what the sync
 * stores while the count is polled and a kill waits (header-first syncs these blocks at 15-20 a
 * millisecond here), several times over for a busy machine.
 */
const margin = 4096

/**
 * Most milliseconds a kill waits after the count has crossed its height: about one commit of
 * header-first's (1,024 blocks), so the kill lands anywhere in the next.
 */
const killWait = 40

/** The seed of the kill heights: ETHSYNC_CRASH_SEED, else a fresh one. */
const seed = Number(process.env["ETHSYNC_CRASH_SEED"] ?? Math.floor(Math.random() * 2 ** 32))

/** Numbers in [0, 1) from a 32-bit seed (mulberry32): the same seed, the same kill heights. */
const random = (state: number) => () => {
  state = (state + 0x6d2b79f5) | 0
  let t = Math.imul(state ^ (state >>> 15), 1 | state)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
}

/** What one run of the sync was sent, and where it stopped. */
interface Run {
  /** The head the run started from. */
  readonly from: number
  /** The height whose crossing triggered its kill (the last run: none). */
  readonly target: number | undefined
  /** The head of its datadir when it ended. */
  readonly held: number
  /** The heights of the blocks the server sent it, one entry per block sent. */
  readonly sent: ReadonlyArray<number>
}

/**
 * A store that answers as `store` does and appends to `sent` the height of every block whose
 * whole RLP (in an answer of several) or body it gives out: what a serving node sends of its blocks.
 */
const counting = (store: ChainStore.Shape, sent: Array<number>): ChainStore.Shape => {
  const note = (hash: Hash.Hash) => (found: Option.Option<Uint8Array>) =>
    Effect.gen(function*() {
      if (Option.isNone(found)) return
      const block = yield* Effect.orDie(store.get(hash))
      if (Option.isSome(block)) sent.push(block.value.number)
    })
  return {
    ...store,
    blockRlps: (hashes, limits) =>
      Effect.tap(store.blockRlps(hashes, limits), (rlps) =>
        Effect.sync(() => {
          // A block that does not decode fails the test rather than going uncounted.
          for (const rlp of rlps) sent.push(Result.getOrThrow(Block.decode(rlp)).number)
        })),
    bodyRlp: (hash) => Effect.tap(store.bodyRlp(hash), note(hash))
  }
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
    const serving = await Effect.runPromise(Scope.make())
    try {
      const sent: Array<number> = []
      const store = counting(await Effect.runPromise(Nodes.mainnetStore(head)), sent)
      const server = await Effect.runPromise(Nodes.node(store, { port: 0, autoSync: false }).pipe(Scope.provide(serving)))
      /** The heights sent since the last call, once the sync's connection is gone (no answer is then under way). */
      const takeSent = async () => {
        await Children.until(
          "the server sees the sync gone",
          async () => (await Effect.runPromise(server.network.peers)).length === 0,
          10_000
        )
        return sent.splice(0)
      }

      const syncArgs = (datadir: string) => [
        "sync", "--verify-seals", "none", "--datadir", datadir, "--network", "mainnet", "--port", "0",
        "--metrics", "127.0.0.1:0", "--peer", server.enode, "--exit-when-synced"
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

      // An uninterrupted sync: what the restarted one must end with. It is sent every block that has something to send
      // (over eth/66-68 an empty block is all header, and headers are not counted), each once.
      const reference = Path.join(dir, "reference")
      await syncToEnd(reference, head)
      const whole = await takeSent()
      const withBodies = chain.slice(1).filter((b) => b.transactions.length + b.uncles.length > 0).map((b) => b.number)
      expect([...whole].sort((a, b) => a - b)).toEqual(whole.length === head ? chain.slice(1).map((b) => b.number) : withBodies)

      const synced = Path.join(dir, "synced")
      const runs: Array<Run> = []
      let from = 0
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
        await new Promise((resolve) => setTimeout(resolve, Math.floor(next() * killWait)))
        const end = await Children.kill(sync)
        expect(end.signal, `sync ${k + 1} ended before it was killed at block ${target}`).toBe("SIGKILL")
        // The datadir reopens consistent, holding every block the sync reported imported, and the sync had not finished.
        const held = (await Effect.runPromise(Consistency.check(synced))).number
        expect(held).toBeGreaterThanOrEqual(from + reported)
        expect(held).toBeLessThan(head)
        runs.push({ from, target, held, sent: await takeSent() })
        from = held
      }
      await syncToEnd(synced, head - from)
      runs.push({ from, target: undefined, held: head, sent: await takeSent() })

      expect(await statusOf(synced)).toEqual(await statusOf(reference))
      expect((await statusOf(synced)).hash).toBe(Hash.toHex(chain[head]!.hash))
      const exported = await exportOf(synced)
      expect(exported.equals(await exportOf(reference))).toBe(true)
      expect(exported.equals(Fs.readFileSync(file!))).toBe(true)

      // Each restart on its own: nothing its datadir held is sent again, and what an earlier run was sent and did not
      // store (in flight at the kills) is all that may be.
      const report: Array<string> = []
      for (let r = 1; r < runs.length; r++) {
        const run = runs[r]!
        const earlier = new Set(runs.slice(0, r).flatMap((before) => before.sent))
        const inFlight = new Set([...earlier].filter((height) => height > run.from))
        const again = run.sent.filter((height) => earlier.has(height))
        report.push(`restart ${r} from ${run.from}: ${inFlight.size} in flight, ${again.length} sent again`)
        expect(run.sent.filter((height) => height <= run.from), `restart ${r} was sent blocks its datadir held`).toEqual([])
        expect(again.length, `restart ${r} was sent again more than was in flight`).toBeLessThanOrEqual(inFlight.size)
        expect(new Set(run.sent).size, `restart ${r} was sent a block twice`).toBe(run.sent.length)
      }
      console.log(
        `CrashSync.test.ts: kills at ${runs.slice(0, kills).map((run) => `${run.target} (held ${run.held}, ${run.sent.length} sent)`).join(", ")}; ` +
          report.join("; ")
      )
    } finally {
      await Promise.all(children.map(Children.kill))
      await Effect.runPromise(Scope.close(serving, Exit.void))
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 90_000)
})
