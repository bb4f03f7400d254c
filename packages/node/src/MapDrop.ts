/**
 * Keeps LMDB's map of a datadir's data file from filling the process's resident set: every few
 * commits the environment is closed and opened again, which unmaps the file, so the pages LMDB
 * read and wrote through the map (and the neighbours the kernel mapped with them) leave the
 * resident set. Without it a sync's resident set grows by the whole data file (1.06 GiB at 1 M
 * blocks: docs/PERFORMANCE.md, "The data file's map bounded"). Every use of the datadir (a read,
 * a batch's validation, a write) runs through `use`, which a drop excludes: uses wait while the
 * environment is closed, and a drop waits for no use (it is put off to a later commit instead).
 *
 * @since 0.2.0
 */
import { type ChainStore } from "@ethsync/core"
import { Effect, Semaphore } from "effect"
import * as ChainDb from "./ChainDb.ts"

/** The gate of a datadir's uses and the drops of its map. */
export interface MapDrop {
  /** Runs a use of the datadir; never while its environment is closed for a drop, which it waits out. */
  readonly use: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * Counts a commit; at every `every`th, drops the map when no use is running (else at the next
   * commit that finds none). Fails with the StoreError of an environment that would not open
   * again, which every later use then fails with too.
   */
  readonly committed: Effect.Effect<void, ChainStore.StoreError>
}

/** Uses that may run at once: more than ever do; a drop takes them all. */
const uses = 2 ** 30

/** The gate of `db`, dropping its map every `every` commits. */
export const make = (db: ChainDb.ChainDb, every: number): Effect.Effect<MapDrop> =>
  Effect.map(Semaphore.make(uses), (gate) => {
    /** Commits since the map was last dropped. */
    let pending = 0
    // Not interruptible: an environment closed and not yet opened again would fail every later use.
    const drop = Effect.uninterruptible(Effect.andThen(ChainDb.reopen(db), Effect.sync(() => {
      pending = 0
    })))
    const mapDrop: MapDrop = {
      use: (effect) => gate.withPermits(1)(effect),
      committed: Effect.suspend(() => {
        pending++
        return pending < every ? Effect.void : Effect.asVoid(gate.withPermitsIfAvailable(uses)(drop))
      })
    }
    return mapDrop
  })
