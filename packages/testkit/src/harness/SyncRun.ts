/**
 * What both harnesses (the hash engine's and the header-first engine's) do around one sync: a
 * network that records every drop, the sync started on a fiber of the caller (through the drop
 * wrapper or not), and the test clock stepped until it ends, with a check of what the engine left
 * behind before the outcome is reported.
 *
 * @since 0.3.0
 */
import { type Hash, type Network, type SyncError } from "@ethsync/core"
import { Clock, Duration, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"

/** How a sync ended. */
export interface Outcome {
  /** Its exit: success, or the sync error. */
  readonly exit: Exit.Exit<void, SyncError.SyncError>
  /** Peers dropped from its start to its end (the wrapper's drop included). */
  readonly dropped: ReadonlyArray<string>
  /** Virtual milliseconds from start to end. */
  readonly elapsed: number
}

/** A sync started by a harness. */
export interface Started {
  /** Steps the test clock until the sync ends (dies past its patience), checks for leaks, and reports; run it once. */
  readonly outcome: Effect.Effect<Outcome>
}

/** What either engine offers to start a sync. */
export interface Engine {
  /** A sync that fails with its error. */
  readonly synchronise: (peer: string, head: Hash.Hash) => Effect.Effect<void, SyncError.SyncError>
  /** A sync that drops the peer as the error table says, and gives the error back. */
  readonly synchroniseOrDrop: (peer: string, head: Hash.Hash) => Effect.Effect<SyncError.SyncError | undefined>
}

/** How one sync is run. */
export interface Options {
  /** Go through `synchroniseOrDrop`, the wrapper that drops the peer as the seed's table says. */
  readonly orDrop: boolean
  /** Longest virtual time the sync may take before the harness dies. */
  readonly within: Duration.Input
  /** The harness's record of drops, read to tell this sync's. */
  readonly drops: ReadonlyArray<Network.Drop>
  /** Run once the sync has ended, before its outcome is reported: the harness's check for leaks. */
  readonly settle: Effect.Effect<void>
}

/** Virtual time per clock step while waiting for a sync. */
const step = Duration.millis(10)

/** The network as an engine sees it, with every disconnect recorded in `drops`, whether or not the peer was connected. */
export const recording = (registry: Network.Shape, drops: Array<Network.Drop>): Network.Shape => ({
  ...registry,
  disconnect: (peer, reason) => Effect.andThen(Effect.sync(() => void drops.push({ peer, reason })), registry.disconnect(peer, reason))
})

/** Starts a sync of `engine` with `peer` towards `head` on a fiber of the caller. */
export const start = (engine: Engine, peer: string, head: Hash.Hash, options: Options): Effect.Effect<Started> =>
  Effect.gen(function*() {
    const sync: Effect.Effect<void, SyncError.SyncError> = options.orDrop
      ? Effect.flatMap(engine.synchroniseOrDrop(peer, head), (error) => error ? Effect.fail(error) : Effect.void)
      : engine.synchronise(peer, head)
    const within = Duration.toMillis(options.within)
    const dropsBefore = options.drops.length
    const begin = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.forkChild(Effect.zip(Effect.exit(sync), Clock.currentTimeMillis), { startImmediately: true })
    const outcome = Effect.gen(function*() {
      while (fiber.pollUnsafe() === undefined) {
        if ((yield* Clock.currentTimeMillis) - begin > within) {
          return yield* Effect.die(new Error(`sync with ${peer} still running after ${within} ms of virtual time`))
        }
        yield* TestClock.adjust(step)
      }
      const [exit, end] = yield* Fiber.join(fiber)
      yield* options.settle
      return { exit, dropped: options.drops.slice(dropsBefore).map((d) => d.peer), elapsed: end - begin }
    })
    return { outcome }
  })
