/**
 * Hashes known to head bad chains. A few are pinned (hard-coded) and never evicted; the rest are
 * capped, the oldest going first.
 *
 * @since 0.1.0
 */
import { Context, Effect, Layer } from "effect"
import { DownloaderConfig } from "./DownloaderConfig.ts"
import * as Hash from "../chain/Hash.ts"

/** The ban list. */
export interface Shape {
  /** Whether a hash is banned. */
  readonly has: (hash: Hash.Hash) => Effect.Effect<boolean>
  /** Index of the first banned hash of `hashes`, or -1: one effect for a whole hash reply. */
  readonly firstBanned: (hashes: ReadonlyArray<Hash.Hash>) => Effect.Effect<number>
  /** Bans a hash; past the cap, the oldest unpinned entries are evicted. */
  readonly add: (hash: Hash.Hash) => Effect.Effect<void>
  /** How many hashes are banned, pinned ones included. */
  readonly size: Effect.Effect<number>
  /** Every banned hash, pinned first, then oldest to newest. */
  readonly entries: Effect.Effect<ReadonlyArray<Hash.Hash>>
}

/** The ban list service. */
export class BanList extends Context.Service<BanList, Shape>()("@ethsync/core/BanList") {}

/** Builds a ban list with `pinned` hashes that are never evicted and room for `cap` entries in all. */
export const make = (pinned: ReadonlyArray<Hash.Hash>, cap: number): Shape => {
  /** Hard-coded bans, never evicted. */
  const fixed = new Set(pinned.map(Hash.key))
  /** Learned bans in insertion order, so the first key is the oldest. */
  const learned = new Set<string>()
  const has = (key: string) => fixed.has(key) || learned.has(key)
  return {
    has: (hash) => Effect.sync(() => has(Hash.key(hash))),
    firstBanned: (hashes) =>
      Effect.sync(() => fixed.size + learned.size === 0 ? -1 : hashes.findIndex((hash) => has(Hash.key(hash)))),
    add: (hash) =>
      Effect.sync(() => {
        const key = Hash.key(hash)
        if (has(key)) return
        learned.add(key)
        while (fixed.size + learned.size > cap && learned.size > 0) {
          learned.delete(learned.values().next().value!)
        }
      }),
    size: Effect.sync(() => fixed.size + learned.size),
    entries: Effect.sync(() => [...fixed, ...learned].map(Hash.fromKey))
  }
}

/** A ban list with the given pinned hashes, capped at the configured maxBannedHashes. */
export const layer = (pinned: ReadonlyArray<Hash.Hash> = []): Layer.Layer<BanList> =>
  Layer.effect(BanList, Effect.map(DownloaderConfig, (config) => make(pinned, config.maxBannedHashes)))
