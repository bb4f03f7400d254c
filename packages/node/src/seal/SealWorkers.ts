/**
 * A pool of seal worker threads (Effect workers over `node:worker_threads`), at most two requests
 * per worker at a time: a request waits for a free slot, so batches spread over the pool, and
 * each worker has its next batch queued when it finishes one (no idle round trip between them).
 * Closing the scope asks every worker to close and terminates any that does not.
 *
 * @since 0.2.0
 */
import { NodeWorker } from "@effect/platform-node"
import { Deferred, Effect, Exit, Queue, type Scope } from "effect"
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
  /** Its requests awaiting a reply, by id: each holds one of its slots until then. */
  readonly pending: Map<number, Deferred.Deferred<SealProtocol.Reply, WorkerError>>
  /** Why the worker stopped, once it has: a request to it then dies with this instead of waiting forever. */
  stopped: WorkerError | undefined
}

/** Requests a worker holds at once: the one it runs and the next. */
const slotsPerWorker = 2

/** The pool. */
export interface SealWorkers {
  /** How many worker threads it runs. */
  readonly size: number
  /** How many requests it holds at once (callers gain nothing by sending more). */
  readonly slots: number
  /** Sends a request to the next free slot's worker and waits for its reply; a dead worker is a defect. */
  readonly request: (request: Unnumbered) => Effect.Effect<SealProtocol.Reply>
}

/** Starts `size` seal workers for the scope's lifetime. */
export const make = (size: number): Effect.Effect<SealWorkers, never, Scope.Scope> =>
  Effect.gen(function*() {
    const platform = yield* Worker.WorkerPlatform
    /** Workers with room for another request (each may appear twice: two requests per worker). */
    const idle = yield* Queue.unbounded<Member>()
    /** The id of the next request, to match replies. */
    let nextId = 0
    /** Ends `member`'s request `id` with `exit` and gives its slot back: the worker is done with it. */
    const settle = (member: Member, id: number, exit: Exit.Exit<SealProtocol.Reply, WorkerError>) => {
      const waiting = member.pending.get(id)
      if (waiting === undefined) return
      member.pending.delete(id)
      Deferred.doneUnsafe(waiting, exit)
      Queue.offerUnsafe(idle, member)
    }
    for (let id = 0; id < size; id++) {
      const worker = yield* Effect.orDie(platform.spawn<SealProtocol.Reply, SealProtocol.Request>(id))
      const member: Member = { worker, pending: new Map(), stopped: undefined }
      yield* worker.run((reply: SealProtocol.Reply) => Effect.sync(() => settle(member, reply.id, Exit.succeed(reply)))).pipe(
        Effect.catch((error) =>
          Effect.sync(() => {
            member.stopped = error
            for (const id of [...member.pending.keys()]) settle(member, id, Exit.fail(error))
          })
        ),
        Effect.forkScoped
      )
      for (let slot = 0; slot < slotsPerWorker; slot++) yield* Queue.offer(idle, member)
    }
    // A request holds its slot until the worker replies, even if its caller stops waiting: the
    // worker still runs it, and a slot given back early would queue a third request behind it.
    const request: SealWorkers["request"] = (unnumbered) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const member = yield* restore(Queue.take(idle))
          if (member.stopped) {
            yield* Queue.offer(idle, member)
            return yield* member.stopped
          }
          const id = nextId++
          const reply = Deferred.makeUnsafe<SealProtocol.Reply, WorkerError>()
          member.pending.set(id, reply)
          const message: SealProtocol.Request = { ...unnumbered, id }
          yield* member.worker.send(message, message._tag === "Verify" ? [message.input.buffer] : []).pipe(
            Effect.tapError((error) => Effect.sync(() => settle(member, id, Exit.fail(error))))
          )
          return yield* restore(Deferred.await(reply))
        })
      ).pipe(Effect.orDie)
    return { size, slots: size * slotsPerWorker, request }
  }).pipe(Effect.provide(NodeWorker.layer(() => new WorkerThreads.Worker(entry))))
