/**
 * The peers we are connected to, whatever carries them (the in-memory simulation, RLPx): who is
 * connected with what head and total difficulty, what happens to them, and how to disconnect one.
 * The downloader disconnects the peers it drops through it, the sync loop picks whom to sync with
 * from it, and a transport's protocol handler keeps it up to date through a Registry.
 *
 * @since 0.2.0
 */
import { Context, Data, Effect, PubSub, type Scope, Stream } from "effect"
import type * as Block from "../chain/Block.ts"
import type * as Hash from "../chain/Hash.ts"

/** A connected peer as its status handshake described it, kept up to date by its announcements. */
export interface Connected {
  /** Its id (a node id in hex, or a test name). */
  readonly id: string
  /** The eth protocol version spoken with it. */
  readonly version: number
  /** The head hash it advertises. */
  readonly head: Hash.Hash
  /** The total difficulty it claims for that head. */
  readonly td: bigint
}

/** What happens to connected peers. */
export type Event = Data.TaggedEnum<{
  /** A peer finished its handshake. */
  Connected: { readonly peer: Connected }
  /** A peer left: disconnected by us or by itself, or its connection failed. */
  Disconnected: { readonly id: string; readonly reason: string }
  /** A peer announced a new head (the block itself when it sent one). */
  NewHead: { readonly peer: Connected; readonly block: Block.Block | undefined }
}>

/** Constructors and matchers for Event. */
export const Event = Data.taggedEnum<Event>()

/** A peer we disconnected, and why. */
export interface Drop {
  /** The peer. */
  readonly peer: string
  /** The reason we gave. */
  readonly reason: string
}

/** The network as its users see it. */
export interface Shape {
  /** The connected peers, in connection order. */
  readonly peers: Effect.Effect<ReadonlyArray<Connected>>
  /** Events from now on; subscribe before what you want to see happens. */
  readonly events: Effect.Effect<Stream.Stream<Event>, never, Scope.Scope>
  /** Disconnects a peer, saying why; nothing happens for a peer not connected. */
  readonly disconnect: (id: string, reason: string) => Effect.Effect<void>
  /** The peers we disconnected (the latest 1024), each once, with the first reason given. */
  readonly drops: Effect.Effect<ReadonlyArray<Drop>>
}

/** The network service. */
export class Network extends Context.Service<Network, Shape>()("@ethsync/core/Network") {}

/** The network as a transport keeps it: the service, plus the writes its protocol handler makes. */
export interface Registry extends Shape {
  /** Adds a peer that finished its handshake; `close` ends its connection when we disconnect it. */
  readonly join: (peer: Connected, close: (reason: string) => Effect.Effect<void>) => Effect.Effect<void>
  /** Records a peer's new head and TD (and the block, when it sent one). */
  readonly announce: (id: string, head: Hash.Hash, td: bigint, block: Block.Block | undefined) => Effect.Effect<void>
  /** Removes a peer whose connection ended. */
  readonly leave: (id: string, reason: string) => Effect.Effect<void>
}

/** Drops remembered; a long-running node forgets the oldest beyond this. */
const dropMemory = 1024

/** Events kept for a subscriber that lags; older ones give way to newer. */
const eventBacklog = 4096

/** An empty registry. */
export const makeRegistry: Effect.Effect<Registry> = Effect.gen(function*() {
  /** Connected peers by id, in connection order, with how to close each. */
  const peers = new Map<string, { readonly peer: Connected; readonly close: (reason: string) => Effect.Effect<void> }>()
  /** Peers we disconnected, first reason only, the newest dropMemory. */
  const drops = new Map<string, string>()
  /** Events for every subscriber. */
  const events = yield* PubSub.sliding<Event>(eventBacklog)
  return {
    peers: Effect.sync(() => Array.from(peers.values(), (entry) => entry.peer)),
    events: Effect.map(PubSub.subscribe(events), Stream.fromSubscription),
    disconnect: (id, reason) =>
      Effect.suspend(() => {
        const entry = peers.get(id)
        if (!entry) return Effect.void
        if (!drops.has(id)) {
          drops.set(id, reason)
          if (drops.size > dropMemory) drops.delete(drops.keys().next().value!)
        }
        return entry.close(reason)
      }),
    drops: Effect.sync(() => Array.from(drops, ([peer, reason]) => ({ peer, reason }))),
    join: (peer, close) =>
      Effect.suspend(() => {
        peers.set(peer.id, { peer, close })
        return PubSub.publish(events, Event.Connected({ peer }))
      }),
    announce: (id, head, td, block) =>
      Effect.suspend(() => {
        const entry = peers.get(id)
        if (!entry) return Effect.void
        const peer = { ...entry.peer, head, td }
        peers.set(id, { ...entry, peer })
        return PubSub.publish(events, Event.NewHead({ peer, block }))
      }),
    leave: (id, reason) =>
      Effect.suspend(() => {
        if (!peers.delete(id)) return Effect.void
        return PubSub.publish(events, Event.Disconnected({ id, reason }))
      })
  }
})
