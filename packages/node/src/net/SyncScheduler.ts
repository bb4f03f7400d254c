/**
 * The node's sync loop, as go-ethereum's eth/sync.go runs it: synchronise with the connected peer
 * of the highest TD when a 5th peer connects, every 10 s, and at once when a peer announces a
 * block heavier than our head; with the engine of the version that peer speaks (the hash-chain
 * downloader for eth/60-61, the header-first engine for eth/66-68), one sync at a time across
 * both, and our new head announced after each. A sync that moved the head or cost a peer its
 * connection is followed at once by another if some peer is still ahead, so a sync from several
 * peers does not wait for the timer between peers.
 *
 * @since 0.2.0
 */
import { type ChainStore, type Hash, type Network, type SyncError } from "@ethsync/core"
import { Data, Duration, Effect, Queue, type Scope, Stream } from "effect"
import * as HeaderFirstVersion from "../eth/HeaderFirstVersion.ts"
import type { HeadAnnouncer } from "./HeadAnnouncer.ts"

/** What the loop needs of a sync engine: either family's has it. */
export interface Engine {
  /** Syncs with a peer from its head, dropping it for its faults; the error that ended the sync, if any. */
  readonly synchroniseOrDrop: (peer: string, head: Hash.Hash) => Effect.Effect<SyncError.SyncError | undefined>
  /** Whether it is syncing now. */
  readonly synchronising: Effect.Effect<boolean>
}

/** The node's two engines. */
export interface Engines {
  /** The engine of eth/60-61 peers. */
  readonly hashChain: Engine
  /** The engine of eth/66-68 peers. */
  readonly headerFirst: Engine
}

/** The engine that syncs from a peer speaking eth/`version`. */
const engineFor = (engines: Engines, version: number): Engine =>
  HeaderFirstVersion.is(version) ? engines.headerFirst : engines.hashChain

/** Whether either engine is syncing. */
export const synchronising = (engines: Engines): Effect.Effect<boolean> =>
  Effect.map(Effect.all([engines.hashChain.synchronising, engines.headerFirst.synchronising]), ([a, b]) => a || b)

/** When to sync. */
export interface Options {
  /** The engines that sync, one per protocol family. */
  readonly engines: Engines
  /** The chain synced into. */
  readonly store: ChainStore.ChainStore["Service"]
  /** The connected peers. */
  readonly network: Network.Shape
  /** Announces our head after each sync. */
  readonly announcer: HeadAnnouncer
  /** Whether syncs start on their own (the triggers below); without, only `trigger` starts one. */
  readonly automatic: boolean
  /** A sync is tried this often regardless (go-ethereum: 10 s). */
  readonly interval: Duration.Input
  /** A sync is tried when this many peers are connected as one more connects (go-ethereum: 5). */
  readonly minPeers: number
  /** Also try a sync as soon as any peer has said Status (for `ethsync sync`). */
  readonly onFirstPeer: boolean
  /** `untilSynced` gives up after this long without a connected peer. */
  readonly peerlessLimit: Duration.Input
  /** Whether every node we dial has connected or been tried: `untilSynced` waits for it, so a first peer behind us does not end the wait. */
  readonly settled: Effect.Effect<boolean>
  /** The peers disconnected so far and why, for NoPeerConnected to name (refusals at the Status included). */
  readonly drops: Effect.Effect<ReadonlyArray<Network.Drop>>
}

/** No peer stayed connected long enough to sync from: the node cannot tell whether it is synced. */
export class NoPeerConnected extends Data.TaggedError("NoPeerConnected")<{
  /** How long no peer was connected. */
  readonly millis: number
  /** The peers we disconnected meanwhile, and why. */
  readonly drops: ReadonlyArray<Network.Drop>
}> {
  override get message() {
    const drops = this.drops.map((drop) => `${drop.peer.slice(0, 16)}: ${drop.reason}`).join("; ")
    return `no peer connected for ${this.millis} ms${drops === "" ? "" : ` (dropped: ${drops})`}`
  }
}

/** The running loop. */
export interface SyncScheduler {
  /** Asks for a sync with the best peer now (after the running one, if any). */
  readonly trigger: Effect.Effect<void>
  /** The connected peers ahead of us: a higher TD than our head and a head block we do not have. */
  readonly ahead: Effect.Effect<ReadonlyArray<Network.Connected>, ChainStore.StoreError>
  /**
   * Waits until every node we dial has connected or been tried, at least one peer is connected,
   * none is ahead and no sync runs; returns our head then. Fails with NoPeerConnected when no
   * peer is connected for `peerlessLimit`.
   */
  readonly untilSynced: Effect.Effect<ChainStore.Head, NoPeerConnected | ChainStore.StoreError>
}

/** How often `untilSynced` looks. */
const checkMillis = 100

/** Starts the loop; it runs until the scope closes. */
export const start = (options: Options): Effect.Effect<SyncScheduler, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { engines, store, network, announcer } = options
    /** Pending requests for a sync; many collapse into one. */
    const wake = yield* Queue.sliding<void>(1)
    const trigger = Effect.asVoid(Queue.offer(wake, undefined))

    /** The connected peers ahead of us. */
    const ahead = Effect.gen(function*() {
      const head = yield* store.head
      const peers = yield* network.peers
      const out: Array<Network.Connected> = []
      for (const peer of peers) if (peer.td > head.td && !(yield* store.has(peer.head))) out.push(peer)
      return out
    })

    /** One sync with the best peer ahead of us, if any; whether another should follow at once. */
    const syncBest = Effect.gen(function*() {
      const candidates = yield* ahead
      const best = candidates.reduce<Network.Connected | undefined>((a, b) => a === undefined || b.td > a.td ? b : a, undefined)
      if (best === undefined) return false
      const before = yield* store.head
      const error = yield* engineFor(engines, best.version).synchroniseOrDrop(best.id, best.head)
      if (error !== undefined) yield* Effect.logInfo(`sync ended: ${error.message}`).pipe(Effect.annotateLogs({ peer: best.id.slice(0, 16) }))
      yield* announcer.announceIfMoved
      const after = yield* store.head
      const dropped = !(yield* network.peers).some((peer) => peer.id === best.id)
      return after.td > before.td || dropped
    })

    /** Syncs on go-ethereum's triggers from the peers' events. */
    const triggers = (events: Stream.Stream<Network.Event>) => Stream.runForEach(events, (event) => {
      switch (event._tag) {
        case "Connected":
          return Effect.flatMap(network.peers, (peers) => options.onFirstPeer || peers.length >= options.minPeers ? trigger : Effect.void)
        case "NewHead":
          if (event.block === undefined) return Effect.void
          return Effect.flatMap(Effect.orElseSucceed(store.head, () => undefined), (head) =>
            head !== undefined && event.peer.td > head.td ? trigger : Effect.void)
        case "Disconnected":
          return Effect.void
      }
    })
    if (options.automatic) {
      yield* Effect.forkScoped(triggers(yield* network.events))
      yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(options.interval), trigger)))
    }
    yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
      yield* Queue.take(wake)
      const again = yield* syncBest.pipe(
        Effect.catchTag("StoreError", (error) => Effect.as(Effect.logError(`sync loop: ${error.message}`), false))
      )
      if (again) yield* trigger
    })))

    /** See SyncScheduler.untilSynced: checked every {@link checkMillis}. */
    const untilSynced = Effect.gen(function*() {
      const limit = Duration.toMillis(Duration.fromInputUnsafe(options.peerlessLimit))
      let peerless = 0
      while (true) {
        const peers = yield* network.peers
        if (peers.length === 0) {
          peerless += checkMillis
          if (peerless >= limit) return yield* new NoPeerConnected({ millis: limit, drops: yield* options.drops })
        } else {
          peerless = 0
          const quiet = (yield* options.settled) && !(yield* synchronising(engines))
          if (quiet && (yield* ahead).length === 0) return yield* store.head
        }
        yield* Effect.sleep(checkMillis)
      }
    })

    return { trigger, ahead, untilSynced }
  })
