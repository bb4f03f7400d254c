/**
 * The ban procedure: when a hash reply runs through a banned hash, fetch one batch of blocks from
 * the banned hash upward and ban the top of the linked run. Each failed sync against the same bad
 * chain so bans a block further up it, until its head is banned.
 *
 * @since 0.1.0
 */
import { Clock, Effect } from "effect"
import * as Hash from "../../chain/Hash.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"

/** Why a ban attempt gave up; logged, as the sync fails with InvalidChain either way. */
export type Outcome = "banned" | "no request" | "timeout" | "peer left" | "empty reply" | "not the banned block"

/** Requests a batch from `peer` starting at `banned`, waits up to blockHardTTL, and bans what it can. */
export const run = (sync: Sync.Sync, peer: Peer, banned: Hash.Hash): Effect.Effect<Outcome, Sync.Stop> =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const request = sync.queue.reserve(peer, sync.config.maxBlockFetch, start)
    if (!request) return "no request"
    Sync.requestBlocks(sync, peer, request)
    const deadline = start + sync.hardTTL
    while (true) {
      const event = yield* Sync.next(sync, deadline)
      if (event._tag === "Tick") return "timeout"
      if (sync.peers.get(peer.id) === undefined) return "peer left"
      if (event._tag !== "Blocks" || event.peer !== peer.id) continue
      if (event.blocks.length === 0) return "empty reply"
      const blocks = [...event.blocks].sort((a, b) => a.number - b.number)
      if (!Hash.equals(blocks[0]!.hash, banned)) return "not the banned block"
      let top = 0
      while (top + 1 < blocks.length && Hash.equals(blocks[top + 1]!.header.parentHash, blocks[top]!.hash)) top++
      yield* sync.banList.add(blocks[top]!.hash)
      return "banned"
    }
  })
