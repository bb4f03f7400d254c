/**
 * A downloader on the test clock with a memory chain, a ban list, a recording peer dropper and a
 * simulated network: tests add peers, start syncs and step virtual time until they end. After
 * every sync, however it ended, the harness checks that nothing leaked (no queued hash, no cached
 * block, no sync still marked running) and dies if something did.
 *
 * @since 0.1.0
 */
import { BanList, type Block, ChainStore, CheckRandom, Downloader, DownloaderConfig, Hash, MemoryChainStore, Network } from "@ethsync/core"
import { Cause, Context, Duration, Effect, Exit, Layer, Option, type Scope } from "effect"
import { testGenesis } from "../ChainGenerator.ts"
import * as SimNetwork from "../SimNetwork.ts"
import type * as SimPeer from "../SimPeer.ts"
import * as ScriptedPeer from "./ScriptedPeer.ts"
import * as SyncRun from "./SyncRun.ts"

/** How to build a harness. */
export interface Options {
  /** Overrides of the seed's constants. */
  readonly config?: Partial<DownloaderConfig.Config>
  /** Hard-coded bans, never evicted. */
  readonly pinned?: ReadonlyArray<Hash.Hash>
  /** Seed of the cross-check picks; "ethsync" unless given. */
  readonly seed?: string
  /** Wraps the memory chain store (to hold the importer back, say). */
  readonly wrapStore?: (store: ChainStore.ChainStore["Service"]) => ChainStore.ChainStore["Service"]
}

export type { Outcome, Started } from "./SyncRun.ts"

/** How to start a sync. */
export interface SyncOptions {
  /** Go through `synchroniseOrDrop`, the wrapper that drops the peer as the seed's table says. */
  readonly orDrop?: boolean
  /** Longest virtual time the sync may take; 10 minutes unless given. */
  readonly within?: Duration.Input
}

/** A downloader with its world. */
export interface Harness {
  /** The downloader under test. */
  readonly downloader: Downloader.Shape
  /** The chain store it imports into (wrapped, if asked). */
  readonly store: ChainStore.ChainStore["Service"]
  /** Its ban list. */
  readonly banList: BanList.Shape
  /** The configuration in force. */
  readonly config: DownloaderConfig.Config
  /** The simulated network. */
  readonly network: SimNetwork.SimNetwork
  /** Every drop so far, in order. */
  readonly drops: ReadonlyArray<Network.Drop>
  /** Registers a simulated peer (dies if the downloader refuses it). */
  readonly add: (spec: SimPeer.Spec) => Effect.Effect<SimPeer.SimPeer>
  /** Registers a scripted peer advertising `head`, speaking eth/60 unless told (dies if the downloader refuses it). */
  readonly addScripted: (id: string, head: Hash.Hash, version?: 60 | 61) => Effect.Effect<ScriptedPeer.ScriptedPeer>
  /** Starts a sync with `peer` from `head` on a fiber of the caller. */
  readonly start: (peer: string, head: Hash.Hash, options?: SyncOptions) => Effect.Effect<SyncRun.Started>
  /** Starts a sync and steps the clock until it ends. */
  readonly runSync: (peer: string, head: Hash.Hash, options?: SyncOptions) => Effect.Effect<SyncRun.Outcome>
  /** Whether the store holds every one of `blocks`. */
  readonly holdsAll: (blocks: ReadonlyArray<Block.Block>) => Effect.Effect<boolean>
}

/** How a sync ended, in one word: "Success", the sync error's tag, or "Died: " and the cause of a defect. */
export const resultTag = ({ exit }: SyncRun.Outcome): string =>
  Exit.isSuccess(exit) ? "Success" : Option.match(Cause.findErrorOption(exit.cause), {
    onNone: () => `Died: ${Cause.pretty(exit.cause)}`,
    onSome: (error) => error._tag
  })

/** Seed of the downloader's cross-check picks unless a test gives one, so that runs repeat exactly. */
const randomSeed = "ethsync"

/** Builds a harness; its peers' answers in flight are interrupted when the scope closes. */
export const make = (options: Options = {}): Effect.Effect<Harness, never, Scope.Scope> =>
  Effect.gen(function*() {
    const config: DownloaderConfig.Config = { ...DownloaderConfig.seed, ...options.config }
    /** Every drop so far. */
    const drops: Array<Network.Drop> = []
    const registry = yield* Network.makeRegistry
    const network = SyncRun.recording(registry, drops)
    const memory = MemoryChainStore.make(testGenesis)
    const store = options.wrapStore ? options.wrapStore(memory) : memory
    const context = yield* Layer.build(Downloader.layer.pipe(
      Layer.provideMerge(Layer.mergeAll(
        Layer.succeed(ChainStore.ChainStore, store),
        BanList.layer(options.pinned ?? []),
        Layer.succeed(Network.Network, network)
      ))
    )).pipe(
      Effect.provideService(DownloaderConfig.DownloaderConfig, config),
      Effect.provideService(CheckRandom.CheckRandom, yield* CheckRandom.seeded(options.seed ?? randomSeed))
    )
    const downloader = Context.get(context, Downloader.Downloader)
    const banList = Context.get(context, BanList.BanList)
    const sim = yield* SimNetwork.make(registry, downloader, config.maxHashFetch, { track: true })
    /** Syncs started and not yet reported. */
    let active = 0

    /** Dies, naming what leaked, if the downloader holds anything of a finished sync. */
    const checkLeaks = (head: Hash.Hash) =>
      Effect.gen(function*() {
        const problems: Array<string> = []
        const stats = yield* downloader.stats
        if (stats.queued !== 0) problems.push(`${stats.queued} hashes queued`)
        if (stats.cached !== 0) problems.push(`${stats.cached} blocks cached`)
        if (stats.importing !== 0) problems.push(`${stats.importing} blocks importing`)
        if (yield* downloader.synchronising) problems.push("still synchronising")
        const hashes = [head, ...sim.takeSent().flat()]
        for (const hash of hashes) {
          if (yield* downloader.has(hash)) {
            problems.push(`hash ${Hash.toHex(hash)} still known to the queue`)
            break
          }
        }
        if (problems.length > 0) return yield* Effect.die(new Error(`leak after sync: ${problems.join("; ")}`))
      })

    const start = (peer: string, head: Hash.Hash, syncOptions: SyncOptions = {}) =>
      Effect.suspend(() => {
        active++
        return SyncRun.start(downloader, peer, head, {
          orDrop: syncOptions.orDrop ?? false,
          within: syncOptions.within ?? Duration.minutes(10),
          drops,
          // The leak check waits for the last of overlapping syncs: the others' state is still in the queue before.
          settle: Effect.suspend(() => --active === 0 ? checkLeaks(head) : Effect.void)
        })
      })

    return {
      downloader,
      store,
      banList,
      config,
      network: sim,
      drops,
      add: (spec) => Effect.orDie(sim.add(spec)),
      addScripted: (id, head, version) => {
        const peer = ScriptedPeer.make(id, head, sim.wire, version)
        return Effect.as(Effect.orDie(downloader.registerPeer(peer.handle)), peer)
      },
      start,
      runSync: (peer, head, syncOptions) => Effect.flatMap(start(peer, head, syncOptions), (s) => s.outcome),
      holdsAll: (blocks) =>
        Effect.gen(function*() {
          for (const block of blocks) if (!(yield* store.has(block.hash))) return false
          return true
        }).pipe(Effect.orDie)
    }
  })
