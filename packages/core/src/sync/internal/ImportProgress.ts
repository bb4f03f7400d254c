/**
 * Where a sync's importer is, for either engine: whether it holds a batch, how far into it the
 * chain is, and the ETA that follows from its pace. Written only by the sync's own fiber.
 *
 * @since 0.3.0
 */
import { Duration } from "effect"

/** The importer's progress in one sync. */
export class ImportProgress {
  /** Whether the importer holds a batch (a sync is not done while it does). */
  importing = false
  /** Blocks of the current batch. */
  batch = 0
  /** Blocks of the current batch already in the chain. */
  done = 0
  /** When the current batch was handed over (Clock millis), for the ETA. */
  start = 0
  /** Blocks this sync imported, for the Progress and Done events. */
  imported = 0

  /** Records a batch of `size` blocks handed to the importer at `now`. */
  handedOver(size: number, now: number): void {
    this.importing = true
    this.batch = size
    this.done = 0
    this.start = now
  }

  /** Records a stored chunk: `blocks` taken, `inserted` new. */
  stored(blocks: number, inserted: number): void {
    this.done += blocks
    this.imported += inserted
  }

  /** Records the end of the batch: the importer is idle. */
  idle(): void {
    this.importing = false
    this.batch = 0
    this.done = 0
  }

  /** Blocks of the current batch not yet in the chain. */
  get pending(): number {
    return this.batch - this.done
  }

  /** Time per block of this batch so far times `left` blocks; zero before the first chunk. */
  eta(now: number, left: number): Duration.Duration {
    return this.done > 0 ? Duration.millis(((now - this.start) / this.done) * left) : Duration.zero
  }
}
