/**
 * What the downloader tells observers: a sync started, made progress, finished or failed.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { SyncError } from "./SyncError.ts"

/** A sync lifecycle event. */
export type SyncEvent = Data.TaggedEnum<{
  /** A sync with `peer` began. */
  Started: { readonly peer: string }
  /** Blocks were imported; `imported` counts this sync's blocks so far, `head` is the new chain head number. */
  Progress: { readonly imported: number; readonly head: number }
  /** The sync finished with every block imported. */
  Done: { readonly peer: string; readonly imported: number }
  /** The sync ended with an error. */
  Failed: { readonly peer: string; readonly error: SyncError }
}>

/** Constructors and matchers for SyncEvent. */
export const SyncEvent = Data.taggedEnum<SyncEvent>()
