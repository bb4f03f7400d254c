/**
 * A gate in front of a chain store: every insert waits for a permit the test hands out, so a test
 * can hold the importer back and let it go one chunk at a time.
 *
 * @since 0.1.0
 */
import type { ChainStore } from "@ethsync/core"
import { Effect, Queue } from "effect"

/** A test-controlled gate for inserts. */
export interface ImportGate {
  /** `store` with every insert waiting for a permit first. */
  readonly wrap: (store: ChainStore.ChainStore["Service"]) => ChainStore.ChainStore["Service"]
  /** Lets `count` more inserts through. */
  readonly open: (count: number) => Effect.Effect<void>
  /** Inserts waiting for a permit now. */
  readonly waiting: () => number
}

/** A closed gate. */
export const make: Effect.Effect<ImportGate> = Effect.gen(function*() {
  /** One entry per insert allowed through. */
  const permits = yield* Queue.unbounded<void>()
  /** Inserts blocked on a permit. */
  let waiting = 0
  const pass = Effect.suspend(() => {
    waiting++
    return Effect.ensuring(Queue.take(permits), Effect.sync(() => void waiting--))
  })
  return {
    // The wait for a permit may be interrupted even when the insert is run uninterruptibly (as the
    // downloader runs it): nothing is written yet.
    wrap: (store) => ({ ...store, insert: (blocks) => Effect.andThen(Effect.interruptible(pass), store.insert(blocks)) }),
    open: (count) => Effect.asVoid(Queue.offerAll(permits, Array.from({ length: count }, () => undefined))),
    waiting: () => waiting
  }
})
