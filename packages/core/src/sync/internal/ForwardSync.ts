/**
 * The eth/61 sync, go-ethereum 1.0's answer to the seed's hashes-then-blocks: find the common
 * ancestor with the origin peer, then fetch its hashes forwards by number while the block fetcher
 * downloads their blocks from every peer and the importer stores them. The hash fetcher and the
 * block fetcher are two state machines turned by the sync's one fiber (the actor owns all the
 * sync's state), the importer a fiber beside it; the sync ends when the hash stream has ended and
 * every block it named is imported. The hashes carry their heights, so the queue checks each block
 * against them: at its height, on the parent below it, and served by the source that named it.
 *
 * @since 0.2.0
 */
import { Clock, Effect } from "effect"
import * as AncestorSearch from "./AncestorSearch.ts"
import * as BlockPhase from "./BlockPhase.ts"
import { HashStream } from "./HashStream.ts"
import type { Peer } from "./PeerSet.ts"
import * as Sync from "./Sync.ts"

/** Syncs with `origin`, which claims total difficulty `td` for its head. */
export const run = Effect.fnUntraced(function*(sync: Sync.Sync, origin: Peer, td: bigint) {
  const ancestor = yield* AncestorSearch.find(sync, origin)
  yield* Effect.logDebug("common ancestor found", { number: ancestor.number })
  sync.queue.prepare(ancestor.number + 1)
  const stream = new HashStream(origin, ancestor, td > (yield* sync.store.head).td)
  while (true) {
    const now = yield* Clock.currentTimeMillis
    yield* stream.check(sync, now)
    // Before the round's block requests: a peer answers in order, so hashes asked after them would
    // come only behind their replies, when those have used up the hashes before (a stall at each batch).
    stream.request(sync, now)
    const imported = yield* BlockPhase.round(sync, now, !stream.ended)
    // After the round: handing blocks to the importer may have made room in the queue.
    stream.request(sync, now)
    if (stream.ended) {
      sync.phase = "blocks"
      if (imported) return
    }
    const event = yield* Sync.next(sync, Math.min(stream.deadline, BlockPhase.deadline(sync)))
    if (event._tag === "Hashes") yield* stream.receive(sync, event)
    else if (event._tag === "Blocks") yield* BlockPhase.receive(sync, event)
  }
})
