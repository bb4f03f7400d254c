/**
 * The stage of `ethsync demo`: the demo's peers of a generated chain, connected to a downloader
 * over one of two transports. In memory, they are the testkit's simulated network; over RLPx,
 * each is a server on 127.0.0.1 answering from its spec, and an `EthNode` over the demo's store
 * dials them all once (a dropped attacker is not dialled again). Either way the sync loop sees a
 * network, a downloader and the drops, with every peer named by its demo name.
 *
 * @since 0.2.0
 */
import { ChainStore, Downloader, DownloaderConfig, Network } from "@ethsync/core"
import { SimNetwork, type TestChain } from "@ethsync/testkit"
import { Duration, Effect, Schedule, type Scope } from "effect"
import * as DemoPeers from "../DemoPeers.ts"
import * as EthNode from "../net/EthNode.ts"
import type { ListenFailed } from "../rlpx/Listen.ts"
import * as NodeKey from "../rlpx/NodeKey.ts"
import * as SpecServer from "./SpecServer.ts"

/** How the demo's peers reach the syncing node. */
export type Transport = "rlpx" | "memory"

/** The transports, the default first. */
export const transports: ReadonlyArray<Transport> = ["rlpx", "memory"]

/** The demo's peers connected to a downloader. */
export interface Stage {
  /** The connected peers, as the sync loop picks them (by the transport's ids). */
  readonly network: Network.Shape
  /** The downloader syncing into the store; it disconnects the peers it drops. */
  readonly downloader: Downloader.Shape
  /** The demo's peers. */
  readonly peers: ReadonlyArray<DemoPeers.DemoPeer>
  /** Every peer dropped so far (refused at its handshake included), by demo name, in order. */
  readonly drops: Effect.Effect<ReadonlyArray<Network.Drop>>
  /** `text` with every transport id in it replaced by that peer's demo name. */
  readonly name: (text: string) => string
}

/**
 * A downloader over `store` (a fresh ban list) on a simulated network with the demo's peers of
 * `chain` connected and registered (no wire-level attacker: there is no wire); the downloader
 * disconnects the peers it drops.
 */
export const inMemory = (
  store: ChainStore.ChainStore["Service"],
  chain: TestChain.TestChain,
  counts: Omit<DemoPeers.Counts, "wireAttackers">
): Effect.Effect<Stage, never, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* DownloaderConfig.DownloaderConfig
    const network = yield* Network.makeRegistry
    const downloader = yield* Downloader.makeOn(store, network)
    const sim = yield* SimNetwork.make(network, downloader, config.maxHashFetch)
    const peers = DemoPeers.make(chain, { ...counts, wireAttackers: 0 }, config.blockCacheLimit)
    // A fresh ban list and distinct ids: never refused.
    for (const peer of peers) yield* Effect.orDie(sim.add(peer.spec))
    return { network, downloader, peers, drops: network.drops, name: (text) => text }
  })

/** The network id of the demo's Status messages: the generated chain belongs to no public network. */
export const networkId = 1337

/** How long the cast has to connect (or be refused) before the sync starts without the rest: an RLPx handshake and a Status. */
const castDeadline = Duration.seconds(10)

/** How often the cast is looked at while it connects. */
const castPoll = Duration.millis(10)

/** Node ids in hex, as RLPx names peers. */
const nodeIdPattern = /[0-9a-f]{128}/g

/**
 * The demo's peers of `chain` as RLPx servers on 127.0.0.1 and an `EthNode` over `store` that
 * dials each once and does not sync by itself; returns once every peer has connected or been
 * refused (or after {@link castDeadline}, with a warning naming the missing ones), so the sync
 * loop meets the whole cast. Fails when a server or the node cannot listen.
 */
export const overRlpx = (
  store: ChainStore.ChainStore["Service"],
  chain: TestChain.TestChain,
  counts: DemoPeers.Counts
): Effect.Effect<Stage, ListenFailed | ChainStore.StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* DownloaderConfig.DownloaderConfig
    const peers = DemoPeers.make(chain, counts, config.blockCacheLimit)
    const genesis = chain.blocks[0]!.hash
    const servers = yield* Effect.forEach(peers, (peer) =>
      SpecServer.start({ spec: peer.spec, genesis, networkId, misconduct: peer.misconduct }))
    /** Demo names by node id. */
    const names = new Map(servers.map((server, i) => [server.id, peers[i]!.spec.id]))
    const name = (text: string) => text.replace(nodeIdPattern, (id) => names.get(id) ?? id)
    const node = yield* EthNode.make({
      store,
      key: NodeKey.generate(),
      networkId,
      peers: servers.map((server) => server.enode),
      // The sync loop below decides when to sync; and a dropped attacker is not redialled within a demo.
      autoSync: false,
      timing: { redialMin: "1 hour", redialMax: "1 hour" }
    })
    /** The servers neither connected nor dropped yet. */
    const missing = Effect.zipWith(node.network.peers, node.drops, (connected, dropped) => {
      const seen = new Set([...connected.map((peer) => peer.id), ...dropped.map((drop) => drop.peer)])
      return servers.filter((server) => !seen.has(server.id))
    })
    const absent = yield* Effect.timeoutOrElse(
      Effect.repeat(missing, { until: (left) => left.length === 0, schedule: Schedule.spaced(castPoll) }),
      { duration: castDeadline, orElse: () => missing }
    )
    if (absent.length > 0) {
      yield* Effect.logWarning(`syncing without ${absent.map((server) => names.get(server.id)).join(", ")}: not connected in time`)
    }
    return {
      network: node.network,
      downloader: node.downloader,
      peers,
      drops: Effect.map(node.drops, (drops) => drops.map((drop) => ({ peer: name(drop.peer), reason: name(drop.reason) }))),
      name
    }
  })
