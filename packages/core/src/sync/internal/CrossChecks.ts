/**
 * Random cross-checks of the hash chain: for a random hash of each batch, its block is asked of the
 * peer that sent the batch, and must arrive in time naming the next hash of the batch as its parent.
 * A check is answered only by the request that asked for it, so nobody else's one-block reply can
 * pass for it; checks still open when the hash phase ends stay enforced until the sync ends.
 *
 * @since 0.2.0
 */
import { Effect } from "effect"
import type * as Block from "../../chain/Block.ts"
import * as Hash from "../../chain/Hash.ts"
import { CrossCheckFailed } from "../SyncError.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"

/** An open cross-check. */
export interface CrossCheck {
  /** The peer asked for the block, which answers for the check. */
  readonly peer: string
  /** The hash whose block is asked for. */
  readonly hash: Hash.Hash
  /** The hash its block must name as parent: the next hash of the batch. */
  readonly parent: Hash.Hash
  /** Deadline (Clock millis). */
  readonly expire: number
}

/** Opens a check of `hash` (whose parent must be `parent`) with `peer`, and asks for the block. */
export const open = (sync: Sync.Sync, peer: Peer, hash: Hash.Hash, parent: Hash.Hash, now: number): void => {
  const check: CrossCheck = { peer: peer.id, hash, parent, expire: now + sync.softTTL }
  sync.checks.add(check)
  Sync.requestCheck(sync, peer, check)
}

/** Takes the answer to `check`: exactly its block, naming the expected parent, or the sync fails. */
export const answer = (sync: Sync.Sync, check: CrossCheck, blocks: ReadonlyArray<Block.Block>): Effect.Effect<void, CrossCheckFailed> =>
  Effect.suspend(() => {
    if (!sync.checks.delete(check)) return Effect.void
    const fail = (reason: string) => Effect.fail(new CrossCheckFailed({ peer: check.peer, reason }))
    const block = blocks[0]
    if (block === undefined) return fail(`peer ${check.peer} has no block for ${Hash.toHex(check.hash)}, a hash of its own chain`)
    if (blocks.length !== 1 || !Hash.equals(block.hash, check.hash)) {
      return fail(`peer ${check.peer} answered the check of ${Hash.toHex(check.hash)} with other blocks`)
    }
    if (!Hash.equals(block.header.parentHash, check.parent)) {
      return fail(
        `block ${Hash.toHex(block.hash)} names parent ${Hash.toHex(block.header.parentHash)}, the hash chain says ${Hash.toHex(check.parent)}`
      )
    }
    return Effect.void
  })

/** Fails the sync if a check is past its deadline. */
export const enforce = (sync: Sync.Sync, now: number): Effect.Effect<void, CrossCheckFailed> =>
  Effect.suspend(() => {
    for (const check of sync.checks) {
      if (now >= check.expire) {
        return Effect.fail(new CrossCheckFailed({ peer: check.peer, reason: `no block for ${Hash.toHex(check.hash)} in time` }))
      }
    }
    return Effect.void
  })

/** The earliest check deadline, or Infinity when none is open. */
export const nextExpiry = (sync: Sync.Sync): number => {
  let next = Infinity
  for (const check of sync.checks) next = Math.min(next, check.expire)
  return next
}
