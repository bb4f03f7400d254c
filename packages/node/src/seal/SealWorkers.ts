/**
 * A pool of seal worker threads (Effect workers over `node:worker_threads`), at most two requests
 * per worker at a time: a request waits for a free slot, so batches spread over the pool, and
 * each worker has its next batch queued when it finishes one (no idle round trip between them).
 * Closing the scope asks every worker to close and terminates any that does not.
 *
 * @since 0.2.0
 */
import { NodeWorker } from "@effect/platform-node"
import { Data, Deferred, Effect, Exit, Queue, Scope } from "effect"
import * as Worker from "effect/workers/Worker"
import { WorkerError } from "effect/workers/WorkerError"
import * as WorkerThreads from "node:worker_threads"
import type * as SealProtocol from "./SealProtocol.ts"

/** The worker's entry module, run by Node 22's type stripping like the rest of the sources. */
const entry = new URL("./SealWorker.ts", import.meta.url)

/** A request as callers give it: everything but the id the pool assigns. */
export type Unnumbered = Omit<SealProtocol.Build, "id"> | Omit<SealProtocol.Verify, "id">

/** One worker of the pool. */
interface Member {
  /** The Effect worker: send, and the handler fiber started at spawn. */
  readonly worker: Worker.Worker<SealProtocol.Reply, SealProtocol.Request>
  /** Its requests awaiting a reply, by id, in the order sent (the worker runs them in that order): each holds one of its slots until then. */
  readonly pending: Map<number, Deferred.Deferred<SealProtocol.Reply, WorkerError | DiedAhead>>
  /** Whether the worker has stopped: its slots are then passed over, and a replacement takes its place. */
  stopped: boolean
}

/** Requests a worker holds at once: the one it runs and the next. */
const slotsPerWorker = 2

/**
 * Workers that may die, beyond the pool's size, before the pool gives up replacing them: a worker
 * that keeps dying (a broken installation, say) must not be respawned for ever.
 */
const replacementsPerWorker = 4

/** How often a request is sent again after its worker died running it, before that death is the caller's. */
const retries = 1

/** What a request gets when its worker died running an earlier one: it is sent again, not counted as a try. */
class DiedAhead extends Data.TaggedError("DiedAhead")<{}> {}

/** The pool. */
export interface SealWorkers {
  /** How many worker threads it runs. */
  readonly size: number
  /** How many requests it holds at once (callers gain nothing by sending more). */
  readonly slots: number
  /**
   * Sends a request to the next free slot's worker and waits for its reply. A worker that dies is
   * replaced, and the requests it held are sent again: the one it was running once more, those
   * queued behind it as often as needed. A request that kills a second worker, or a pool whose
   * workers all died after it used up its replacements, is a defect.
   */
  readonly request: (request: Unnumbered) => Effect.Effect<SealProtocol.Reply>
}

/** Starts `size` seal workers for the scope's lifetime. */
export const make = (size: number): Effect.Effect<SealWorkers, never, Scope.Scope> =>
  Effect.gen(function*() {
    const platform = yield* Worker.WorkerPlatform
    const scope = yield* Effect.scope
    /** Workers with room for another request (each may appear twice: two requests per worker). */
    const idle = yield* Queue.unbounded<Member>()
    /** The id of the next request, to match replies. */
    let nextId = 0
    /** Workers spawned so far, replacements included: the id of the next, and what bounds replacing. */
    let spawned = 0
    /** Workers running now. */
    let alive = 0
    /** Why the last worker died once none is left and none may be spawned: every request then dies with it. */
    let exhausted: WorkerError | undefined
    /** Ends `member`'s request `id` with `exit` and gives its slot back: the worker is done with it. */
    const settle = (member: Member, id: number, exit: Exit.Exit<SealProtocol.Reply, WorkerError | DiedAhead>) => {
      const waiting = member.pending.get(id)
      if (waiting === undefined) return
      member.pending.delete(id)
      Deferred.doneUnsafe(waiting, exit)
      Queue.offerUnsafe(idle, member)
    }
    /** Starts a worker whose replies settle its requests and whose death fails them and starts its replacement. */
    const spawn: Effect.Effect<void, never, Worker.Spawner> = Effect.gen(function*() {
      const worker = yield* Effect.orDie(platform.spawn<SealProtocol.Reply, SealProtocol.Request>(spawned++))
      const member: Member = { worker, pending: new Map(), stopped: false }
      alive++
      yield* worker.run((reply: SealProtocol.Reply) => Effect.sync(() => settle(member, reply.id, Exit.succeed(reply)))).pipe(
        Effect.catch((error) =>
          Effect.gen(function*() {
            member.stopped = true
            alive--
            const [running, ...behind] = member.pending.keys()
            if (running !== undefined) settle(member, running, Exit.fail(error))
            for (const id of behind) settle(member, id, Exit.fail(new DiedAhead()))
            const cause = error.reason.cause
            yield* Effect.logWarning(`a seal worker stopped: ${cause instanceof Error ? cause.message : error.message}`)
            // A replacement that cannot be started counts as none left to start.
            if (spawned < size * (1 + replacementsPerWorker) && Exit.isSuccess(yield* Effect.exit(spawn))) return
            if (alive > 0) return
            exhausted = error
            // Wakes a request waiting for a slot, which passes the news on to the next.
            yield* Queue.offer(idle, member)
          })
        ),
        Effect.forkIn(scope)
      )
      for (let slot = 0; slot < slotsPerWorker; slot++) yield* Queue.offer(idle, member)
    }).pipe(Scope.provide(scope))
    for (let i = 0; i < size; i++) yield* spawn

    /** A free slot of a live worker (slots of stopped workers are dropped as they come up). */
    const freeSlot: Effect.Effect<Member> = Effect.flatMap(Queue.take(idle), (member) => {
      if (!member.stopped) return Effect.succeed(member)
      if (exhausted === undefined) return freeSlot
      return Effect.andThen(Queue.offer(idle, member), Effect.die(exhausted))
    })

    // A request holds its slot until the worker replies, even if its caller stops waiting: the
    // worker still runs it, and a slot given back early would queue a third request behind it.
    const attempt = (unnumbered: Unnumbered) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const member = yield* restore(freeSlot)
          const id = nextId++
          const reply = Deferred.makeUnsafe<SealProtocol.Reply, WorkerError | DiedAhead>()
          member.pending.set(id, reply)
          const message: SealProtocol.Request = { ...unnumbered, id }
          // The inputs are copied, not transferred (a batch's are about a kilobyte): a request sent again needs them.
          yield* member.worker.send(message).pipe(
            Effect.tapError((error) => Effect.sync(() => settle(member, id, Exit.fail(error))))
          )
          return yield* restore(Deferred.await(reply))
        })
      )
    const request: SealWorkers["request"] = (unnumbered) =>
      attempt(unnumbered).pipe(
        Effect.retry({ while: (error) => error._tag === "DiedAhead" }),
        Effect.retry({ times: retries }),
        Effect.orDie
      )
    return { size, slots: size * slotsPerWorker, request }
  }).pipe(Effect.provide(NodeWorker.layer(() => new WorkerThreads.Worker(entry))))
