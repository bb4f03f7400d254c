/**
 * The node's RLPx network: a listener (127.0.0.1 by default, port 0 for a free one) and a dialler
 * per `--peer` and static node (redialled with backoff when the connection drops or cannot be
 * made), each connection running the eth protocol handler of the version it negotiated: eth/60-61
 * with the hash-chain downloader, eth/66-68 with the header-first engine. The network registry and
 * the engines built on it come in from the caller, so nothing is tied in a knot: the registry
 * first, the engines on it, then this network with them. Inbound connections beyond
 * `maxPeers` are refused with "too many peers"; the nodes we dial are ours to choose and always
 * dialled.
 *
 * @since 0.2.0
 */
import { type ChainStore, type Downloader, type HeaderDownloader, Hex, type Network } from "@ethsync/core"
import { Duration, Effect, type Scope } from "effect"
import * as EthVersion from "../eth/EthVersion.ts"
import * as HeaderFirstVersion from "../eth/HeaderFirstVersion.ts"
import * as Offered from "../eth/Offered.ts"
import * as Connection from "../rlpx/Connection.ts"
import { disconnectReasonFor } from "../rlpx/ConnectionError.ts"
import { dial } from "../rlpx/Dial.ts"
import { DisconnectReason } from "../rlpx/DisconnectReason.ts"
import * as Enode from "../rlpx/Enode.ts"
import type * as HandshakeMessage from "../rlpx/HandshakeMessage.ts"
import { defaultHost, listen, type ListenFailed } from "../rlpx/Listen.ts"
import type * as NodeKey from "../rlpx/NodeKey.ts"
import * as EthHandler from "./EthHandler.ts"
import * as EthSessions from "./EthSessions.ts"
import * as HeaderFirstHandler from "./HeaderFirstHandler.ts"
import * as NetMetrics from "./NetMetrics.ts"
import * as PeerFault from "./PeerFault.ts"
import * as SessionLifecycle from "./SessionLifecycle.ts"

/** Durations of the network; tests shrink them. */
export interface Timing {
  /** The RLPx handshake, ping and idle limits. */
  readonly rlpx: Connection.Timing
  /** How long a peer has to send its Status (go-ethereum: 5 s). */
  readonly statusTimeout: Duration.Input
  /** The first wait before redialling a node; doubled after each quick failure. */
  readonly redialMin: Duration.Input
  /** The longest wait before redialling a node; a connection that lasted this long resets the wait. */
  readonly redialMax: Duration.Input
}

/** go-ethereum's durations; redials from 1 s up to 30 s. */
export const defaultTiming: Timing = {
  rlpx: Connection.defaultTiming,
  statusTimeout: "5 seconds",
  redialMin: "1 second",
  redialMax: "30 seconds"
}

/** What the network is made of. */
export interface Options {
  /** Our node key. */
  readonly key: NodeKey.NodeKey
  /** Our client id in the hello. */
  readonly clientId: string
  /** The address to listen on (default 127.0.0.1). */
  readonly host?: string | undefined
  /** The port to listen on (default 0: a free one). */
  readonly port?: number | undefined
  /** The nodes to dial and keep connected to (`--peer` and static nodes). */
  readonly peers: ReadonlyArray<Enode.Enode>
  /** Most connections; inbound ones beyond it are refused. */
  readonly maxPeers: number
  /** Our network id (1 for mainnet). */
  readonly networkId: number
  /** The eth versions we offer, highest first. */
  readonly versions: ReadonlyArray<Offered.Offered>
  /**
   * The form of the auth we send first when dialling (default plain, the one a 2015 node reads); a
   * dial that fails is tried next in the other form (EIP-8, the one today's clients read), and a
   * node keeps the form that last connected to it.
   */
  readonly handshake?: HandshakeMessage.Form | undefined
  /** Durations. */
  readonly timing: Timing
  /** The chain served and synced into. */
  readonly store: ChainStore.ChainStore["Service"]
  /** The registry the downloader was built on. */
  readonly registry: Network.Registry
  /** The hash-chain downloader eth/60-61 peers are registered with. */
  readonly downloader: Downloader.Shape
  /** The header-first engine eth/66-68 peers are registered with. */
  readonly headerEngine: HeaderDownloader.Shape
  /** Hashes asked for per GetBlockHashes (the downloader's maxHashFetch). */
  readonly maxHashFetch: number
}

/** The running network. */
export interface RlpxNetwork {
  /** Our enode URL at the listening address. */
  readonly enode: string
  /** The port listened on. */
  readonly port: number
  /** The eth sessions, for announcements. */
  readonly sessions: EthSessions.EthSessions
  /** The peers we disconnected, each once with the first reason: refused at their Status, cut off by RLPx, or dropped. */
  readonly drops: Effect.Effect<ReadonlyArray<Network.Drop>>
  /** Whether every node we dial is connected now or has been tried once (its dial failed or its connection ended). */
  readonly settled: Effect.Effect<boolean>
}

/** Listens, dials, and runs the eth handler on every connection until the scope closes. */
export const start = (options: Options): Effect.Effect<RlpxNetwork, ListenFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const sessions = EthSessions.make()
    /** Peers disconnected outside the registry (refused at their Status, or cut off by RLPx), first reason only. */
    const refused = new Map<string, string>()
    /** Notes a peer disconnected outside the registry. */
    const note = (peer: string, reason: string) => Effect.sync(() => void (refused.has(peer) || refused.set(peer, reason)))
    /** Notes a connection that RLPx ended for the peer's fault (a code beyond eth's, a bad frame, silence). */
    const noteRlpxFault = (connection: Connection.Connection) =>
      Effect.timeoutOrElse(connection.closed, { duration: "100 millis", orElse: () => Effect.succeed(undefined) }).pipe(
        Effect.flatMap((end) =>
          end !== undefined && end._tag !== "Disconnected" && disconnectReasonFor(end) !== undefined
            ? Effect.andThen(NetMetrics.disconnect(end._tag), note(SessionLifecycle.peerId(connection), end.message))
            : Effect.void
        )
      )
    /** Connections open now. */
    let open = 0
    const shared: SessionLifecycle.Options = {
      store: options.store,
      registry: options.registry,
      sessions,
      nodeId: options.key.id,
      networkId: options.networkId,
      statusTimeout: options.timing.statusTimeout,
      onRefused: note
    }
    const hashChain = EthHandler.make({ ...shared, downloader: options.downloader, maxHashFetch: options.maxHashFetch })
    const headerFirst = HeaderFirstHandler.make({ ...shared, engine: options.headerEngine })
    /** The handler of the eth version the connection negotiated (the highest both sides offer). */
    const handler = (connection: Connection.Connection, dialled: boolean): Effect.Effect<void> => {
      const version = connection.capabilities.find((capability) => capability.name === "eth")?.version
      if (version !== undefined && HeaderFirstVersion.is(version)) return headerFirst(connection, dialled, version)
      const hashVersion = EthVersion.highestShared(version === undefined ? [] : [version])
      return hashVersion === undefined
        ? SessionLifecycle.refuse(shared, connection, new PeerFault.NoSharedVersion())
        : hashChain(connection, dialled, hashVersion)
    }
    /** The handler, counting the connection while it runs; an inbound one beyond maxPeers is refused. */
    const counted = (inbound: boolean) => (connection: Connection.Connection): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (inbound && open >= options.maxPeers) {
          return Effect.andThen(
            Effect.logDebug(`rlpx: refused ${connection.remoteAddress}: ${options.maxPeers} peers already`),
            connection.disconnect(DisconnectReason.tooManyPeers)
          )
        }
        open++
        return handler(connection, !inbound).pipe(
          Effect.ensuring(Effect.sync(() => void open--)),
          Effect.ensuring(noteRlpxFault(connection))
        )
      })
    const connectionOptions: Connection.Options = {
      key: options.key,
      clientId: options.clientId,
      capabilities: Offered.capabilities(options.versions),
      timing: options.timing.rlpx
    }
    const listener = yield* listen({
      ...connectionOptions,
      host: options.host ?? defaultHost,
      port: options.port ?? 0,
      handler: counted(true)
    })
    const redialMin = Duration.toMillis(Duration.fromInputUnsafe(options.timing.redialMin))
    const redialMax = Duration.toMillis(Duration.fromInputUnsafe(options.timing.redialMax))

    /** Ids of the nodes we dial whose first connection attempt is over. */
    const tried = new Set<string>()
    /**
     * Dials `enode` again and again: at once, then after each connection ends, with backoff; in
     * the other auth form after a dial that failed.
     */
    const keepDialling = (enode: Enode.Enode, id: string) => {
      /** The auth form of the next dial. */
      let form: HandshakeMessage.Form = options.handshake ?? "plain"
      const once = Effect.scoped(Effect.gen(function*() {
        if ((yield* sessions.all).some((session) => session.id === id)) return
        const connection = yield* dial({ ...connectionOptions, listenPort: listener.port, remote: enode, handshake: form }).pipe(
          Effect.tapError(() => Effect.sync(() => void (form = form === "plain" ? "eip8" : "plain")))
        )
        yield* Connection.serve(connection, counted(false))
      })).pipe(
        Effect.catch((error) => Effect.logDebug(`rlpx: dialling ${Enode.format(enode)} failed: ${error.message}`))
      )
      return Effect.gen(function*() {
        /** The wait before the next dial: doubled after each, back to the least after a long connection. */
        let wait = redialMin
        while (true) {
          const [took] = yield* Effect.timed(once)
          tried.add(id)
          if (Duration.toMillis(took) >= redialMax) wait = redialMin
          yield* Effect.sleep(wait)
          wait = Math.min(wait * 2, redialMax)
        }
      })
    }
    const dialled = options.peers.map((enode) => ({ enode, id: Hex.fromBytes(enode.id).slice(2) }))
    for (const { enode, id } of dialled) yield* Effect.forkScoped(keepDialling(enode, id))

    return {
      enode: listener.enode,
      port: listener.port,
      sessions,
      drops: Effect.map(options.registry.drops, (dropped) => [
        ...Array.from(refused, ([peer, reason]) => ({ peer, reason })),
        ...dropped.filter((drop) => !refused.has(drop.peer))
      ]),
      settled: Effect.map(options.registry.peers, (peers) =>
        dialled.every(({ id }) => tried.has(id) || peers.some((peer) => peer.id === id)))
    }
  })
