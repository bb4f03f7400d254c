/**
 * Keeps LMDB's map of a datadir's data file from filling the process's resident set: when the
 * process's file-backed resident memory has grown by more than a budget since the map was last
 * dropped, the environment is closed and opened again, which unmaps the file, so the pages LMDB
 * read and wrote through the map (and the neighbours the kernel mapped with them) leave the
 * resident set. Without it a sync's resident set grows by the whole data file (1.06 GiB at 1 M
 * blocks: docs/PERFORMANCE.md, "The data file's map bounded"); dropped only when it has grown,
 * the reopenings, each of which leaves some native memory of lmdb-js behind, are rare ("The hash
 * index out of the map"). Where the file-backed memory cannot be read, the map is dropped after
 * every commit. Every use of the datadir (a read, a batch's validation, a write) runs through
 * `use`, which a drop excludes: uses wait while the environment is closed, and a drop waits for no
 * use (it is put off to a later commit instead).
 *
 * @since 0.2.0
 */
import * as Fs from "node:fs"
import { type ChainStore } from "@ethsync/core"
import { Effect, Semaphore } from "effect"
import * as ChainDb from "./ChainDb.ts"

/** The gate of a datadir's uses and the drops of its map. */
export interface MapDrop {
  /** Runs a use of the datadir; never while its environment is closed for a drop, which it waits out. */
  readonly use: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /**
   * Counts a commit; drops the map when the file-backed resident memory has outgrown the budget
   * (or cannot be read) and no use is running (else at the next commit that finds none). Fails
   * with the StoreError of an environment that would not open again, which every later use then
   * fails with too.
   */
  readonly committed: Effect.Effect<void, ChainStore.StoreError>
}

/** The process's file-backed resident bytes now, or undefined where they cannot be read. */
export type FileResident = () => number | undefined

/** Uses that may run at once: more than ever do; a drop takes them all. */
const uses = 2 ** 30

/**
 * The growth of the file-backed resident memory after which the map is dropped: 16 MiB. M1's
 * target is 256 MiB in all, of which Node's own executable takes about 58 MiB of the file-backed
 * part and the anonymous part 140-160; a commit of 1,024 blocks maps about a MiB or two of the
 * data file's right edges (layout 3), so the map is dropped every several commits, not after each.
 */
export const budget = 16 * 2 ** 20

/** The page size of the kernel, from the first mapping of /proc/self/smaps; undefined where it cannot be read. */
const pageSize = (): number | undefined => {
  try {
    const head = Buffer.alloc(4096)
    const fd = Fs.openSync("/proc/self/smaps", "r")
    try {
      Fs.readSync(fd, head, 0, head.length, 0)
    } finally {
      Fs.closeSync(fd)
    }
    const kib = /KernelPageSize:\s+(\d+) kB/.exec(head.toString("latin1"))?.[1]
    return kib === undefined ? undefined : Number(kib) * 1024
  } catch {
    return undefined
  }
}

/**
 * Reads the process's file-backed resident memory from /proc/self/statm (its third field,
 * resident pages of files and shared memory, times the page size): one short read per commit.
 * Undefined where there is no such file (not Linux).
 */
export const statm = (): FileResident => {
  const size = pageSize()
  return () => {
    if (size === undefined) return undefined
    try {
      const pages = Number(Fs.readFileSync("/proc/self/statm", "latin1").split(" ")[2])
      return Number.isFinite(pages) ? pages * size : undefined
    } catch {
      return undefined
    }
  }
}

/** The gate of `db`, dropping its map when `resident` has grown by more than `limit` bytes since the last drop. */
export const make = (db: ChainDb.ChainDb, resident: FileResident = statm(), limit: number = budget): Effect.Effect<MapDrop> =>
  Effect.map(Semaphore.make(uses), (gate) => {
    /** The least file-backed resident bytes seen since the last drop (or the start): what the growth is counted from. */
    let base = resident()
    // Not interruptible: an environment closed and not yet opened again would fail every later use.
    const drop = Effect.uninterruptible(Effect.andThen(ChainDb.reopen(db), Effect.sync(() => {
      base = resident()
    })))
    const mapDrop: MapDrop = {
      use: (effect) => gate.withPermits(1)(effect),
      committed: Effect.suspend(() => {
        const now = resident()
        // Pages the kernel took back since lower the base, so growth is counted from the least seen.
        if (now !== undefined && base !== undefined && now < base) base = now
        const grown = now === undefined || base === undefined || now - base > limit
        return grown ? Effect.asVoid(gate.withPermitsIfAvailable(uses)(drop)) : Effect.void
      })
    }
    return mapDrop
  })
