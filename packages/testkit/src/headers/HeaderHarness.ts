/**
 * A header-first engine on the test clock with a memory chain, a ban list, a recording network and
 * simulated header-first peers: tests add peers, start syncs and step virtual time until they end.
 * After every sync the harness checks that nothing of it is left (no sync still marked running, no
 * header or block still held) and dies if something is.
 *
 * @since 0.3.0
 */
import {
  BanList,
  type Block,
  ChainStore,
  DownloaderConfig,
  Hash,
  HeaderConfig,
  HeaderDownloader,
  MemoryChainStore,
  Network,
  SealVerifier
} from "@ethsync/core"
import { Context, Duration, Effect, FiberSet, Layer, type Scope } from "effect"
import { testGenesis } from "../ChainGenerator.ts"
import * as SyncRun from "../harness/SyncRun.ts"
import * as HeaderSimPeer from "./HeaderSimPeer.ts"

/** How to build a harness. */
export interface Options {
  /** Overrides of the shared constants. */
  readonly config?: Partial<DownloaderConfig.Config>
  /** Overrides of the header-first constants. */
  readonly settings?: Partial<HeaderConfig.Config>
  /** A seal verifier for the engine to check headers with; none unless given. */
  readonly verifier?: SealVerifier.Shape
  /** The genesis of the memory chain; the test genesis unless given. */
  readonly genesis?: Block.Block
  /** Virtual time every insert takes, so that blocks pile up while the importer works; none unless given. */
  readonly insertDelay?: Duration.Input
}

export type { Outcome, Started } from "../harness/SyncRun.ts"

/** A header-first engine with its world. */
export interface HeaderHarness {
  /** The engine under test. */
  readonly engine: HeaderDownloader.Shape
  /** The chain store it imports into. */
  readonly store: ChainStore.ChainStore["Service"]
  /** How many blocks each insert into the store held, in order. */
  readonly inserts: ReadonlyArray<number>
  /** Every peer dropped so far, in order, with the reason. */
  readonly drops: ReadonlyArray<Network.Drop>
  /** Registers a simulated peer and connects it (dies if the engine refuses it). */
  readonly add: (spec: HeaderSimPeer.Spec) => Effect.Effect<HeaderSimPeer.HeaderSimPeer>
  /** Starts a sync with `peer` from `head` on a fiber of the caller; through `synchroniseOrDrop` when `orDrop`. */
  readonly start: (peer: string, head: Hash.Hash, orDrop?: boolean) => Effect.Effect<SyncRun.Started>
  /** Starts a sync (through `synchroniseOrDrop`) and steps the clock until it ends. */
  readonly runSync: (peer: string, head: Hash.Hash) => Effect.Effect<SyncRun.Outcome>
  /** Whether the store's canonical chain is exactly `chain` (genesis first) and its head is `chain`'s last block. */
  readonly holdsChain: (chain: ReadonlyArray<Block.Block>) => Effect.Effect<boolean>
}

/** Longest virtual time a sync may take before the harness gives up on it. */
const patience = Duration.minutes(10)

/** Builds a harness; its peers' answers in flight are interrupted when the scope closes. */
export const make = (options: Options = {}): Effect.Effect<HeaderHarness, never, Scope.Scope> =>
  Effect.gen(function*() {
    const config: DownloaderConfig.Config = { ...DownloaderConfig.seed, ...options.config }
    const settings: HeaderConfig.Config = { ...HeaderConfig.defaults, ...options.settings }
    /** Every drop so far. */
    const drops: Array<Network.Drop> = []
    const registry = yield* Network.makeRegistry
    const network = SyncRun.recording(registry, drops)
    const memory = MemoryChainStore.make(options.genesis ?? testGenesis)
    /** The size of every insert so far. */
    const inserts: Array<number> = []
    const delay = options.insertDelay === undefined ? Effect.void : Effect.interruptible(Effect.sleep(options.insertDelay))
    const store: ChainStore.ChainStore["Service"] = {
      ...memory,
      insert: (blocks) =>
        Effect.andThen(delay, Effect.map(memory.insert(blocks), (inserted) => {
          inserts.push(blocks.length)
          return inserted
        }))
    }
    const context = yield* Layer.build(HeaderDownloader.layer.pipe(
      Layer.provide(Layer.mergeAll(
        Layer.succeed(ChainStore.ChainStore, store),
        BanList.layer(),
        Layer.succeed(Network.Network, network)
      ))
    )).pipe(
      Effect.provideService(DownloaderConfig.DownloaderConfig, config),
      Effect.provideService(HeaderConfig.HeaderConfig, settings),
      options.verifier ? Effect.provideService(SealVerifier.SealVerifier, options.verifier) : (effect) => effect
    )
    const engine = Context.get(context, HeaderDownloader.HeaderDownloader)
    const wire: HeaderSimPeer.Wire = { engine, fibers: yield* FiberSet.make() }

    /** Dies, naming what is left, if the engine holds anything of a finished sync. */
    const checkLeaks = Effect.gen(function*() {
      const stats = yield* engine.stats
      const left = stats.queued + stats.cached + stats.importing
      if (left !== 0 || (yield* engine.synchronising)) {
        return yield* Effect.die(new Error(`leak after sync: ${JSON.stringify({ ...stats, eta: undefined })}`))
      }
    })

    const start = (peer: string, head: Hash.Hash, orDrop = false) =>
      SyncRun.start(engine, peer, head, { orDrop, within: patience, drops, settle: checkLeaks })

    return {
      engine,
      store,
      inserts,
      drops,
      add: (spec) => {
        const sim = HeaderSimPeer.make(spec, wire)
        const { head, id } = sim.peer
        return engine.registerPeer(sim.peer).pipe(
          Effect.andThen(registry.join({ id, version: 66, head, td: spec.td ?? 0n }, (reason) => registry.leave(id, reason))),
          Effect.as(sim),
          Effect.orDie
        )
      },
      start,
      runSync: (peer, head) => Effect.flatMap(start(peer, head, true), (started) => started.outcome),
      holdsChain: (chain) =>
        Effect.gen(function*() {
          const stored = yield* store.canonicalHashes(0, chain.length + 1)
          const tip = yield* store.head
          return stored.length === chain.length && chain.every((block, i) => Hash.equals(block.hash, stored[i]!)) &&
            tip.block.key === chain[chain.length - 1]!.key
        }).pipe(Effect.orDie)
    }
  })
