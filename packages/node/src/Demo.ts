/**
 * The `ethsync demo` program: generate a chain, start honest and malicious simulated peers in
 * process on the real clock, sync the chain into a fresh LMDB datadir through the downloader and
 * the sync loop, with progress while it runs, and sum up what happened.
 *
 * @since 0.1.0
 */
import {
  BanList,
  ChainStore,
  DownloaderConfig,
  DownloaderLive,
  type Head,
  PeerDropper,
  SealVerifier,
  SyncEvent
} from "@ethsync/core"
import { ChainGenerator, SimNetwork, TestChain } from "@ethsync/testkit"
import { Duration, Effect, Fiber, FileSystem, type PlatformError, type Stdio, Stream, type Terminal } from "effect"
import { DatadirNotFresh } from "./DatadirError.ts"
import * as DemoPeers from "./DemoPeers.ts"
import * as LmdbChainStore from "./LmdbChainStore.ts"
import * as PeerPool from "./PeerPool.ts"
import * as Progress from "./Progress.ts"
import * as SyncLoop from "./SyncLoop.ts"
import { count, plural } from "./Wording.ts"

/**
 * A downloader over `store` (a fresh ban list, the pool's dropper) with the demo's peers of `chain`
 * registered and connected to the pool, whose drops unregister them.
 */
export const stage = (store: ChainStore["Service"], chain: TestChain.TestChain, counts: DemoPeers.Counts) =>
  Effect.gen(function*() {
    const config = yield* DownloaderConfig.DownloaderConfig
    const pool = yield* PeerPool.make
    const downloader = yield* DownloaderLive.make.pipe(
      Effect.provideService(ChainStore, store),
      Effect.provideService(BanList.BanList, BanList.make([], config.maxBannedHashes)),
      Effect.provideService(PeerDropper, pool.dropper)
    )
    yield* pool.attach(downloader)
    const network = yield* SimNetwork.make(downloader, config.maxHashFetch)
    const peers = DemoPeers.make(chain, counts, config.blockCacheLimit)
    for (const peer of peers) {
      const { handle } = yield* Effect.orDie(network.add(peer.spec)) // a fresh ban list and distinct ids: never refused
      yield* pool.connect({ id: handle.id, head: handle.head, td: peer.td })
    }
    return { pool, downloader, peers }
  })

/** What to stage. */
export interface Options {
  /** Blocks of the generated chain above its genesis. */
  readonly blocks: number
  /** Honest peers. */
  readonly peers: number
  /** Attackers. */
  readonly attackers: number
  /** The datadir to sync into and keep; a temporary one, removed afterwards, when undefined. */
  readonly datadir: string | undefined
}

/** What happened. */
export interface Summary {
  /** Blocks of the generated chain above its genesis. */
  readonly blocks: number
  /** Blocks the sync imported. */
  readonly imported: number
  /** How long the sync took (the chain's generation aside). */
  readonly took: Duration.Duration
  /** The chain's head at the end: the generated chain's head, so every block is in the datadir. */
  readonly head: Head
  /** The honest peers' ids. */
  readonly honest: ReadonlyArray<string>
  /** The attackers' ids. */
  readonly attackers: ReadonlyArray<string>
  /** Every peer dropped, and why, in order. */
  readonly drops: ReadonlyArray<PeerPool.Drop>
  /** The syncs the loop ran, in order. */
  readonly syncs: ReadonlyArray<SyncLoop.Attempt>
  /** The datadir synced into. */
  readonly datadir: string
  /** Whether the datadir was kept (given by the user) or removed (temporary). */
  readonly kept: boolean
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
const follow = (events: Stream.Stream<SyncEvent>, meter: Progress.Meter) => {
  /** Blocks the current sync had imported at its last Progress event. */
  let counted = 0
  return Stream.runForEach(events, SyncEvent.$match({
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
const narrate = (pool: PeerPool.PeerPool) => {
  /** Drops logged so far. */
  let logged = 0
  return (attempt: SyncLoop.Attempt) =>
    Effect.gen(function*() {
      const drops = yield* pool.drops
      for (const drop of drops.slice(logged)) yield* Effect.logInfo(`${drop.peer} dropped: ${drop.reason}`)
      logged = drops.length
      if (attempt.dropped) return
      yield* Effect.logInfo(
        attempt.error === undefined
          ? `synced from ${attempt.peer}: head ${count(attempt.head)}`
          : `sync with ${attempt.peer} ended: ${attempt.error.message}`
      )
    })
}

/** Runs the demo; the temporary datadir, if any, is removed by the time it returns. */
export const run = (options: Options): Effect.Effect<
  Summary,
  LmdbChainStore.OpenError | DatadirNotFresh | PlatformError.PlatformError | SyncLoop.NoPeerLeft,
  FileSystem.FileSystem | Stdio.Stdio | Terminal.Terminal
> =>
  Effect.scoped(Effect.gen(function*() {
    const datadir = yield* datadirOf(options.datadir)
    const store = yield* LmdbChainStore.make({ path: datadir, genesis: ChainGenerator.testGenesis, verifier: SealVerifier.none })
    const start = yield* store.head
    if (start.block.number > 0) return yield* new DatadirNotFresh({ path: datadir, head: start.block.number })
    yield* Effect.logInfo(`generating a chain of ${plural(options.blocks, "block")}`)
    const [generating, chain] = yield* Effect.timed(TestChain.make(options.blocks))
    yield* Effect.logInfo(`generated the chain in ${seconds(generating)} s`)

    const { pool, downloader, peers } = yield* stage(store, chain, { honest: options.peers, attackers: options.attackers })
    yield* Effect.logInfo(
      `syncing into ${datadir} from ${plural(options.peers, "honest peer")} and ${plural(options.attackers, "attacker")}`
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
        SyncLoop.run({ downloader, store, pool, goal, onAttempt: narrate(pool) })
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
      blocks: chain.length,
      imported: head.block.number - start.block.number,
      took,
      head,
      honest: ids(true),
      attackers: ids(false),
      drops: yield* pool.drops,
      syncs,
      datadir,
      kept: options.datadir !== undefined,
      seals: SealVerifier.none.name
    }
  }))
