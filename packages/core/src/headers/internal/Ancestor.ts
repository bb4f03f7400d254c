/**
 * The first steps of a header-first sync, with the sync peer alone: its head header (which gives
 * the height to sync to), then the common ancestor as go-ethereum's findAncestor finds it: our
 * most recent heights first in one request, then, when none of them is shared, a binary search by
 * single headers between the genesis and the lowest height asked for. A chain of its genesis alone
 * (a first sync) asks nothing: its genesis is the ancestor.
 *
 * @since 0.3.0
 */
import { Clock, Duration, Effect } from "effect"
import * as Hash from "../../chain/Hash.ts"
import type * as Header from "../../chain/Header.ts"
import type { HeaderRequest } from "../../sync/HeaderPeer.ts"
import { InvalidChain, Timeout, UnknownPeer } from "../../sync/SyncError.ts"
import * as Sync from "./Sync.ts"

/** Why finding the head or the ancestor fails. */
export type Failure = Sync.Stop | Timeout | UnknownPeer | InvalidChain

/** Asks the sync peer for headers and waits for the answer, within hashTTL. */
const ask = (sync: Sync.Sync, request: HeaderRequest): Effect.Effect<ReadonlyArray<Header.Header>, Failure> =>
  Effect.gen(function*() {
    const ttl = Duration.toMillis(sync.config.hashTTL)
    const now = yield* Clock.currentTimeMillis
    const id = Sync.requestHeaders(sync, sync.origin, request, now, ttl)
    while (true) {
      const event = yield* Sync.next(sync, now + ttl)
      if (event._tag === "Headers" && event.request.id === id) return event.headers
      if (event._tag === "Tick") {
        Sync.abandon(sync, id)
        return yield* new Timeout({ peer: sync.origin })
      }
      if (event._tag === "Left" && event.id === sync.origin) return yield* new UnknownPeer({ peer: sync.origin })
    }
  })

/** Fails with InvalidChain unless `headers` are `count` consecutive headers from `from` (at least one). */
const consecutive = (sync: Sync.Sync, headers: ReadonlyArray<Header.Header>, from: number, count: number) =>
  headers.length === 0 || headers.length > count || headers.some((h, i) => h.number !== from + i)
    ? Effect.fail(new InvalidChain({ peer: sync.origin, reason: `asked for ${count} headers from ${from}, got ${headers.length} of other heights` }))
    : Effect.void

/** The sync peer's header for the head it advertised. */
export const head = (sync: Sync.Sync): Effect.Effect<Header.Header, Failure> =>
  Effect.flatMap(ask(sync, { origin: sync.head, amount: 1, skip: 0, reverse: false }), (headers) => {
    const header = headers[0]
    return headers.length === 1 && Hash.equals(header!.hash, sync.head)
      ? Effect.succeed(header!)
      : Effect.fail(new InvalidChain({ peer: sync.origin, reason: `asked for its head ${Hash.toHex(sync.head)}, got ${headers.length} other headers` }))
  })

/** The highest header both chains share, below or at the peer's height `height`. */
export const find = (sync: Sync.Sync, height: number): Effect.Effect<Header.Header, Failure> =>
  Effect.gen(function*() {
    const local = (yield* sync.store.head).block.number
    const top = Math.min(local, height)
    // A chain of its genesis alone shares just that with the peer, whatever it would answer: no round trip.
    if (top === 0) return sync.store.genesis.header
    const count = Math.min(top + 1, sync.settings.maxHeaderFetch)
    const from = top - count + 1
    const recent = yield* ask(sync, { origin: from, amount: count, skip: 0, reverse: false })
    yield* consecutive(sync, recent, from, count)
    const newestFirst = [...recent].reverse()
    const known = yield* sync.store.firstKnown(newestFirst.map((h) => h.hash))
    if (known >= 0) return newestFirst[known]!
    // None of our recent heights is shared: the ancestor lies below `from`; the genesis is shared.
    let shared = sync.store.genesis.header
    let unshared = from
    while (unshared - shared.number > 1) {
      const middle = Math.floor((shared.number + unshared) / 2)
      const headers = yield* ask(sync, { origin: middle, amount: 1, skip: 0, reverse: false })
      yield* consecutive(sync, headers, middle, 1)
      if (yield* sync.store.has(headers[0]!.hash)) shared = headers[0]!
      else unshared = middle
    }
    return shared
  })
