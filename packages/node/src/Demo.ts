/**
 * The `ethsync demo` program: generate a chain, start honest and malicious simulated peers in
 * process on the real clock (RLPx servers on 127.0.0.1, or the in-memory simulation), sync the
 * chain into a fresh LMDB datadir through the downloader and the sync loop, with progress while
 * it runs, and sum up what happened.
 *
 * @since 0.1.0
 */
import { type ChainStore, type Network, SealVerifier, SyncEvent } from "@ethsync/core"
import { ChainGenerator, TestChain } from "@ethsync/testkit"
import { Duration, Effect, Fiber, FileSystem, Metric, type PlatformError, type Stdio, Stream, type Terminal } from "effect"
import type { NetAddress } from "effect/net"
import { DatadirNotFresh } from "./DatadirError.ts"
import * as Stage from "./demo/Stage.ts"
import * as LmdbChainStore from "./LmdbChainStore.ts"
import * as MetricsServer from "./MetricsServer.ts"
import * as Progress from "./Progress.ts"
import type { ListenFailed } from "./rlpx/Listen.ts"
import * as SyncFigures from "./SyncFigures.ts"
import * as SyncLoop from "./SyncLoop.ts"
import { count, plural } from "./Wording.ts"

/** What to stage. */
export interface Options {
  /** Blocks of the generated chain above its genesis. */
  readonly blocks: number
  /** Honest peers. */
  readonly peers: number
  /** Attackers whose attack is in what they serve. */
  readonly attackers: number
  /** Attackers whose attack is on the wire (RLPx only). */
  readonly wireAttackers: number
  /** How the peers reach the syncing node. */
  readonly transport: Stage.Transport
  /** The datadir to sync into and keep; a temporary one, removed afterwards, when undefined. */
  readonly datadir: string | undefined
  /** Where to serve the run's metrics while it runs; not served when undefined. */
  readonly metrics: NetAddress.InetAddress | undefined
}

/** What happened. */
export interface Summary {
  /** Blocks of the generated chain above its genesis. */
  readonly blocks: number
  /** How the peers reached the syncing node. */
  readonly transport: Stage.Transport
  /** Blocks the sync imported. */
  readonly imported: number
  /** How long the sync took (the chain's generation aside). */
  readonly took: Duration.Duration
  /** The chain's head at the end: the generated chain's head, so every block is in the datadir. */
  readonly head: ChainStore.Head
  /** The honest peers' ids. */
  readonly honest: ReadonlyArray<string>
  /** The attackers' ids. */
  readonly attackers: ReadonlyArray<string>
  /** Every peer dropped, and why, in order. */
  readonly drops: ReadonlyArray<Network.Drop>
  /** The syncs the loop ran, in order. */
  readonly syncs: ReadonlyArray<SyncLoop.Attempt>
  /** The datadir synced into. */
  readonly datadir: string
  /** Whether the datadir was kept (given by the user) or removed (temporary). */
  readonly kept: boolean
  /** The downloader's metrics at the end. */
  readonly figures: SyncFigures.SyncFigures
  /** The seal verifier the store checked with: `none`, as the generated chain's seals are made up. */
  readonly seals: string
}

/** The folder to sync into: the given one, or a temporary one removed when the scope closes. */
const datadirOf = (given: string | undefined) =>
  given === undefined
    ? Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped({ prefix: "ethsync-demo-" }))
    : Effect.succeed(given)

/** A duration in seconds with two decimals. */
const seconds = (duration: Duration.Duration): string => (Duration.toMillis(duration) / 1000).toFixed(2)

/** Advances `meter` by the blocks each sync imports, as the downloader's Progress events count them. */
const follow = (events: Stream.Stream<SyncEvent.SyncEvent>, meter: Progress.Meter) => {
  /** Blocks the current sync had imported at its last Progress event. */
  let counted = 0
  return Stream.runForEach(events, SyncEvent.SyncEvent.$match({
    Started: () => Effect.sync(() => void (counted = 0)),
    Progress: ({ imported }) =>
      Effect.suspend(() => {
        const fresh = imported - counted
        counted = imported
        return meter.advance(fresh, fresh)
      }),
    Done: () => Effect.void,
    Failed: () => Effect.void
  }))
}

/** Logs, once each, the drops not yet logged, then how the sync with `attempt.peer` ended if it was not dropped. */
const narrate = (stage: Stage.Stage) => {
  /** Drops logged so far. */
  let logged = 0
  return (attempt: SyncLoop.Attempt) =>
    Effect.gen(function*() {
      const drops = yield* stage.drops
      for (const drop of drops.slice(logged)) {
        yield* Effect.logInfo("dropped", drop.reason).pipe(Effect.annotateLogs({ peer: drop.peer }))
      }
      logged = drops.length
      if (attempt.dropped) return
      yield* Effect.logInfo(
        attempt.error === undefined ? `synced: head ${count(attempt.head)}` : `sync ended: ${stage.name(attempt.error.message)}`
      ).pipe(Effect.annotateLogs({ peer: stage.name(attempt.peer) }))
    })
}

/**
 * Runs the demo with metrics of its own, served while it runs if asked; the temporary datadir,
 * if any, is removed and the metrics' port closed by the time it returns.
 */
export const run = (options: Options): Effect.Effect<
  Summary,
  | LmdbChainStore.OpenError
  | DatadirNotFresh
  | PlatformError.PlatformError
  | SyncLoop.NoPeerLeft
  | MetricsServer.MetricsUnavailable
  | ListenFailed
  | ChainStore.StoreError,
  FileSystem.FileSystem | Stdio.Stdio | Terminal.Terminal
> =>
  Effect.suspend(() => Effect.scoped(Effect.gen(function*() {
    if (options.metrics !== undefined) yield* MetricsServer.serve(options.metrics)
    const datadir = yield* datadirOf(options.datadir)
    const store = yield* LmdbChainStore.make({ path: datadir, genesis: ChainGenerator.testGenesis, verifier: SealVerifier.none })
    const start = yield* store.head
    if (start.block.number > 0) return yield* new DatadirNotFresh({ path: datadir, head: start.block.number })
    yield* Effect.logInfo(`generating a chain of ${plural(options.blocks, "block")}`)
    const [generating, chain] = yield* Effect.timed(TestChain.make(options.blocks))
    yield* Effect.logInfo(`generated the chain in ${seconds(generating)} s`)

    const counts = { honest: options.peers, attackers: options.attackers, wireAttackers: options.wireAttackers }
    const stage = options.transport === "rlpx"
      ? yield* Stage.overRlpx(store, chain, counts)
      : yield* Stage.inMemory(store, chain, counts)
    const { network, downloader, peers } = stage
    yield* Effect.logInfo(
      `syncing into ${datadir} over ${options.transport} from ${plural(options.peers, "honest peer")} and ` +
        plural(peers.length - options.peers, "attacker")
    )

    const counted = yield* Progress.make(chain.length - start.block.number)
    const meter: Progress.Meter = {
      advance: counted.advance,
      sample: Effect.zipWith(counted.sample, downloader.stats, (sample, stats) =>
        Duration.isZero(stats.eta) ? sample : { ...sample, eta: Duration.toSeconds(stats.eta) })
    }
    const goal = { number: chain.length, hash: chain.head.hash }
    const [took, syncs] = yield* Effect.scoped(Effect.gen(function*() {
      const follower = yield* Effect.forkScoped(follow(yield* downloader.subscribe, meter))
      const display = yield* Progress.show("syncing", meter)
      const outcome = yield* Effect.timed(display.above(
        SyncLoop.run({ downloader, store, network, goal, onAttempt: narrate(stage) })
      ))
      // The events may trail the loop: settle the meter on the chain's head before the last draw.
      yield* Fiber.interrupt(follower)
      const done = (yield* store.head).block.number - start.block.number
      const sample = yield* counted.sample
      yield* counted.advance(done - sample.done, done - sample.blocks)
      return outcome
    }))

    const head = yield* store.head
    const ids = (honest: boolean) => peers.filter((peer) => peer.honest === honest).map((peer) => peer.spec.id)
    return {
      transport: options.transport,
      blocks: chain.length,
      imported: head.block.number - start.block.number,
      took,
      head,
      honest: ids(true),
      attackers: ids(false),
      drops: yield* stage.drops,
      syncs: syncs.map((attempt) => ({ ...attempt, peer: stage.name(attempt.peer) })),
      datadir,
      kept: options.datadir !== undefined,
      seals: SealVerifier.none.name,
      figures: yield* SyncFigures.read
    }
  })).pipe(Effect.provideService(Metric.MetricRegistry, new Map())))
