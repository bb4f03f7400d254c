/**
 * A scripted peer: it records every request it gets and answers nothing by itself; the test reads
 * the requests and sends the answers it wants, when it wants, as this peer.
 *
 * @since 0.1.0
 */
import type { Block, Hash, PeerHandle, SyncError } from "@ethsync/core"
import { Clock, Effect } from "effect"
import { TestClock } from "effect/testing"
import type { Wire } from "../SimPeer.ts"

/** A request the downloader sent. */
export type Request =
  /** "Send me the hashes below `from`." */
  | { readonly _tag: "Hashes"; readonly from: Hash.Hash }
  /** "Send me the hashes of heights `from` .. `from + count - 1`" (eth/61). */
  | { readonly _tag: "HashesFromNumber"; readonly from: number; readonly count: number }
  /** "Send me these blocks." */
  | { readonly _tag: "Blocks"; readonly hashes: ReadonlyArray<Hash.Hash> }

/** A peer whose answers the test sends by hand. */
export interface ScriptedPeer {
  /** Peer id. */
  readonly id: string
  /** The handle the downloader calls. */
  readonly handle: PeerHandle.PeerHandle
  /** Every request received, in order. */
  readonly log: ReadonlyArray<Request>
  /** The next request not yet taken; advances the test clock 1 ms at a time while none is there (dies after 60 s). */
  readonly next: Effect.Effect<Request>
  /** Delivers hashes as this peer. */
  readonly sendHashes: (hashes: ReadonlyArray<Hash.Hash>) => Effect.Effect<void, SyncError.NoSyncActive | SyncError.UnknownPeer>
  /** Delivers blocks as this peer. */
  readonly sendBlocks: (blocks: ReadonlyArray<Block.Block>) => Effect.Effect<void, SyncError.NoSyncActive | SyncError.UnknownPeer>
}

/** Longest virtual wait for a request before `next` gives up. */
const patience = 60_000

/** Builds a scripted peer advertising `head` on `wire` (not yet registered), speaking eth/`version` (60 unless given). */
export const make = (id: string, head: Hash.Hash, wire: Wire, version: 60 | 61 = 60): ScriptedPeer => {
  /** Every request received, in order. */
  const log: Array<Request> = []
  /** How many requests of `log` were taken by `next`. */
  let taken = 0
  const next: Effect.Effect<Request> = Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    while (taken === log.length) {
      if ((yield* Clock.currentTimeMillis) - start >= patience) {
        return yield* Effect.die(new Error(`scripted peer ${id} got no request within ${patience} ms`))
      }
      yield* TestClock.adjust("1 millis")
    }
    return log[taken++]!
  })
  return {
    id,
    handle: {
      id,
      head,
      version,
      requestHashes: (from) => Effect.sync(() => void log.push({ _tag: "Hashes", from })),
      requestHashesFromNumber: (from, count) => Effect.sync(() => void log.push({ _tag: "HashesFromNumber", from, count })),
      requestBlocks: (hashes) => Effect.sync(() => void log.push({ _tag: "Blocks", hashes }))
    },
    log,
    next,
    sendHashes: (hashes) =>
      Effect.suspend(() => {
        wire.sent(hashes)
        return wire.downloader.deliverHashes(id, hashes)
      }),
    sendBlocks: (blocks) => wire.downloader.deliverBlocks(id, blocks)
  }
}
