/**
 * `ethsync sync --datadir DIR --peer enode://… [--exit-when-synced]`: syncs the datadir from its
 * peers, starting as soon as the first has said Status, with the progress line that import has.
 * With `--exit-when-synced` it exits 0 once no connected peer is ahead, or 1 naming why it cannot
 * get there; either way (or on SIGINT) it ends with a summary: blocks, time, blocks/s, the peers
 * dropped and why.
 *
 * @since 0.2.0
 */
import { type ChainStore, Hash } from "@ethsync/core"
import { Clock, Console, Duration, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import type * as LmdbChainStore from "../LmdbChainStore.ts"
import type * as EthNode from "../net/EthNode.ts"
import * as Progress from "../Progress.ts"
import { count, plural } from "../Wording.ts"
import { ExitCode, exitCodes } from "./Failure.ts"
import * as SealChoice from "../SealChoice.ts"
import * as NodeStart from "./NodeStart.ts"

/** The progress of a sync from `start`: blocks imported, and those either engine holds still to import. */
const progressOf = (node: EthNode.EthNode, store: LmdbChainStore.Store, start: number): Pick<Progress.Meter, "sample"> => ({
  sample: Effect.gen(function*() {
    const head = yield* Effect.orElseSucceed(store.head, () => undefined)
    const [hashChain, headerFirst] = yield* Effect.all([node.downloader.stats, node.headerEngine.stats])
    const stats = {
      queued: hashChain.queued + headerFirst.queued,
      cached: hashChain.cached + headerFirst.cached,
      importing: hashChain.importing + headerFirst.importing,
      eta: Duration.max(hashChain.eta, headerFirst.eta)
    }
    const done = head === undefined ? 0 : head.block.number - start
    return {
      done,
      total: done + stats.queued + stats.cached + stats.importing,
      blocks: done,
      eta: Duration.isZero(stats.eta) ? undefined : Duration.toSeconds(stats.eta)
    }
  })
})

/** The summary lines: what was synced, how fast, and the peers dropped. */
const summary = (node: EthNode.EthNode, before: ChainStore.Head, after: ChainStore.Head, took: Duration.Duration) =>
  Effect.gen(function*() {
    const blocks = after.block.number - before.block.number
    const seconds = Duration.toMillis(took) / 1000
    const drops = yield* node.drops
    yield* Console.log(
      `synced ${plural(blocks, "block")} in ${seconds.toFixed(2)} s (${count(blocks / Math.max(seconds, 0.001))} blocks/s); ` +
        `head ${after.block.number} ${Hash.toHex(after.block.hash)}; ${plural(drops.length, "peer")} dropped`
    )
    for (const drop of drops) yield* Console.log(`dropped ${drop.peer.slice(0, 16)}: ${drop.reason}`)
  })

/** The `sync` command. */
export const command = Command.make("sync", {
  ...NodeStart.flags,
  // A syncing client is dialled by nobody in particular: a free port, so it runs beside a `serve` on 30303.
  port: NodeStart.port(0),
  exitWhenSynced: Flag.Boolean("exit-when-synced").pipe(
    Flag.withDescription("Exit 0 once no connected peer has more total difficulty (1 when no peer stays connected)"),
    Flag.withDefault(false)
  )
}, ({ exitWhenSynced, ...input }) =>
  Effect.scoped(Effect.gen(function*() {
    const { store, node } = yield* NodeStart.start(input, { autoSync: true, syncOnFirstPeer: true })
    const before = yield* store.head
    const started = yield* Clock.currentTimeMillis
    /** Prints the summary of the run so far. */
    const report = Effect.gen(function*() {
      const took = Duration.millis((yield* Clock.currentTimeMillis) - started)
      yield* summary(node, before, yield* store.head, took)
    })
    const outcome = yield* Effect.scoped(Effect.gen(function*() {
      const display = yield* Progress.show("syncing", progressOf(node, store, before.block.number))
      return yield* display.above(exitWhenSynced ? Effect.result(node.untilSynced) : Effect.never)
    })).pipe(Effect.onInterrupt(() => Effect.ignore(report)))
    yield* report
    if (outcome._tag === "Failure") {
      yield* Console.error(`ethsync: ${outcome.failure.message}`)
      return yield* new ExitCode({ code: exitCodes.refused })
    }
  }))).pipe(
  Command.provide((input) => SealChoice.layer(input.verifySeals, input.datadir)),
  Command.withShortDescription("Sync the datadir from eth/60-61 and eth/66-68 peers"),
  Command.withDescription(
    "Sync the datadir's chain from the nodes of --peer and static-nodes.json over RLPx, starting as soon as the " +
      "first has said Status, while serving it. With --exit-when-synced, exit 0 once no connected peer has more " +
      "total difficulty, or 1 naming why it cannot get there; a summary ends the run."
  ),
  Command.withExamples([
    {
      command: "ethsync sync --datadir ./chain --network mainnet --peer enode://…@127.0.0.1:30303 --exit-when-synced",
      description: "Sync a new datadir from one node, then exit"
    }
  ])
)
