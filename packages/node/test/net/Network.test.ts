/**
 * The RLPx network of a node, on a small generated chain: inbound connections beyond maxPeers are
 * refused with "too many peers", a request before the Status and a second Status are punished as
 * go-ethereum 1.0 does, announcements move a peer's head, a dialled node that goes away is dialled
 * again when it is back, the node's scope closing disconnects its peers as "client quitting", and
 * two nodes that dial each other at once keep one connection without dropping each other.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Block, Hash, Hex, MemoryChainStore } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect, Exit, Schedule, Scope, Stream } from "effect"
import { createServer } from "node:net"
import { isDeepStrictEqual } from "node:util"
import * as EthMessage from "../../src/eth/EthMessage.ts"
import type * as EthNode from "../../src/net/EthNode.ts"
import { DisconnectReason } from "../../src/rlpx/DisconnectReason.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"
import * as Hostile from "./Hostile.ts"
import * as Nodes from "./Nodes.ts"

/** A network id of our own: these nodes hold a test chain, not mainnet. */
const networkId = 4242

/** A memory store of the test chain with `blocks` blocks on its genesis. */
const chainStore = (blocks: ReadonlyArray<Block.Block>) =>
  Effect.gen(function*() {
    const store = MemoryChainStore.make(ChainGenerator.testGenesis)
    yield* Effect.orDie(store.insert(blocks))
    return store
  })

/** Waits (bounded) until `node` has `count` peers. */
const untilPeers = (node: EthNode.EthNode, count: number) =>
  Effect.timeout(
    Effect.repeat(node.network.peers, { until: (peers) => peers.length === count, schedule: Schedule.spaced("20 millis") }),
    "10 seconds"
  )

/** A port on 127.0.0.1 that was free a moment ago (the OS gave it and it was closed again). */
const freePort = Effect.callback<number>((resume) => {
  const server = createServer()
  server.listen(0, "127.0.0.1", () => {
    const address = server.address()
    const port = typeof address === "object" && address !== null ? address.port : 0
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** The peer id of a node with `key`. */
const idOf = (key: NodeKey.NodeKey) => Hex.fromBytes(key.id).slice(2)

/** The enode of a node with `key` listening on 127.0.0.1:`port`. */
const enodeAt = (key: NodeKey.NodeKey, port: number) => Nodes.enodeOf(`enode://${idOf(key)}@127.0.0.1:${port}`)

describe("the RLPx network of a node", () => {
  it.live("refuses inbound connections beyond maxPeers with too many peers", () =>
    Effect.gen(function*() {
      const blocks = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 4)
      const server = yield* Nodes.node(yield* chainStore(blocks), { networkId, maxPeers: 1 })
      const first = yield* Nodes.node(yield* chainStore([]), { networkId, peers: [Nodes.enodeOf(server.enode)] })
      yield* untilPeers(server, 1)
      yield* untilPeers(first, 1)
      const second = yield* Hostile.connect(server.enode)
      expect(yield* Hostile.disconnectReason(second)).toBe(DisconnectReason.tooManyPeers)
      expect((yield* server.network.peers).length).toBe(1)
    }))

  it.live("a request before the Status is a subprotocol error, a second Status makes a useless peer", () =>
    Effect.gen(function*() {
      const server = yield* Nodes.node(yield* chainStore([]), { networkId })
      const ours = Hostile.status({ networkId, bestHash: ChainGenerator.testGenesis.hash, genesisHash: ChainGenerator.testGenesis.hash })
      const early = yield* Hostile.connect(server.enode)
      yield* early.send(EthMessage.codes.GetBlockHashesFromNumber, EthMessage.encode(EthMessage.GetBlockHashesFromNumber({ number: 0, amount: 1 })).payload)
      const twice = yield* Hostile.connect(server.enode)
      yield* Hostile.sendStatus(twice, ours)
      yield* Hostile.sendStatus(twice, ours)
      expect(yield* Hostile.disconnectReason(early)).toBe(DisconnectReason.subprotocolError)
      expect(yield* Hostile.disconnectReason(twice)).toBe(DisconnectReason.uselessPeer)
      const reasons = new Map((yield* server.drops).map((drop) => [drop.peer, drop.reason]))
      expect(reasons.get(early.id)).toBe("bad Status: GetBlockHashesFromNumber came before the Status")
      expect(reasons.get(twice.id)).toBe("a second Status")
    }))

  it.live("a peer's NewBlockHashes moves its head in the network, keeping its TD", () =>
    Effect.gen(function*() {
      const blocks = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 2)
      const server = yield* Nodes.node(yield* chainStore([]), { networkId })
      const peer = yield* Hostile.connect(server.enode)
      yield* Hostile.sendStatus(peer, Hostile.status({ networkId, td: 5n, bestHash: ChainGenerator.testGenesis.hash, genesisHash: ChainGenerator.testGenesis.hash }))
      yield* untilPeers(server, 1)
      yield* peer.send(EthMessage.codes.NewBlockHashes, EthMessage.encode(EthMessage.NewBlockHashes({ hashes: blocks.map((b) => b.hash) })).payload)
      const [moved] = yield* Effect.timeout(
        Effect.repeat(server.network.peers, {
          until: (peers) => peers[0] !== undefined && Hash.equals(peers[0].head, blocks[1]!.hash),
          schedule: Schedule.spaced("20 millis")
        }),
        "5 seconds"
      )
      expect(moved?.td).toBe(5n)
    }))

  it.live("dials a node again when it comes back, and syncs from it", () =>
    Effect.gen(function*() {
      const blocks = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 6)
      const key = NodeKey.generate()
      const first = yield* Scope.make()
      const server = yield* Nodes.node(yield* chainStore(blocks.slice(0, 3)), { networkId, key }).pipe(Scope.provide(first))
      const store = yield* chainStore([])
      const client = yield* Nodes.node(store, { networkId, peers: [Nodes.enodeOf(server.enode)], syncOnFirstPeer: true })
      expect((yield* Effect.timeout(client.untilSynced, "10 seconds")).block.number).toBe(3)
      yield* Scope.close(first, Exit.void)
      yield* untilPeers(client, 0)
      // Back on the same port with the same key, and a longer chain.
      yield* Nodes.node(yield* chainStore(blocks), { networkId, key, port: server.port })
      yield* untilPeers(client, 1)
      expect((yield* Effect.timeout(client.untilSynced, "10 seconds")).block.number).toBe(6)
    }))

  it.live("closing a node's scope disconnects its peers as client quitting", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* Nodes.node(yield* chainStore([]), { networkId }).pipe(Scope.provide(scope))
      const client = yield* Nodes.node(yield* chainStore([]), { networkId, peers: [Nodes.enodeOf(server.enode)] })
      yield* untilPeers(client, 1)
      const events = yield* client.network.events
      yield* Scope.close(scope, Exit.void)
      const left = yield* Effect.timeout(
        Stream.runHead(Stream.filter(events, (event) => event._tag === "Disconnected")),
        "5 seconds"
      )
      expect(left._tag === "Some" && left.value._tag === "Disconnected" && left.value.reason).toBe(
        "disconnected by the peer: client quitting (0x08)"
      )
    }))

  it.live("two nodes that dial each other at once end with one connection between them, and keep it", () =>
    Effect.gen(function*() {
      const [keyA, keyB] = [NodeKey.generate(), NodeKey.generate()]
      const [portA, portB] = [yield* freePort, yield* freePort]
      const [a, b] = yield* Effect.all([
        Nodes.node(yield* chainStore([]), { networkId, key: keyA, port: portA, peers: [enodeAt(keyB, portB)] }),
        Nodes.node(yield* chainStore([]), { networkId, key: keyB, port: portB, peers: [enodeAt(keyA, portA)] })
      ], { concurrency: "unbounded" })
      /** What the nodes see over 2 seconds: the first disconnection each hears, if any, then each one's peers. */
      const observe = Effect.scoped(Effect.gen(function*() {
        const dropped = (node: EthNode.EthNode) =>
          Effect.flatMap(node.network.events, (events) => Stream.runHead(Stream.filter(events, (event) => event._tag === "Disconnected"))).pipe(
            Effect.map((event) => event._tag === "Some" && event.value._tag === "Disconnected" ? event.value.reason : undefined),
            Effect.timeoutOrElse({ duration: "2 seconds", orElse: () => Effect.succeed(undefined) })
          )
        const [droppedA, droppedB] = yield* Effect.all([dropped(a), dropped(b)], { concurrency: 2 })
        const peersOf = (node: EthNode.EthNode) => Effect.map(node.network.peers, (peers) => peers.map((peer) => peer.id))
        return { droppedA, droppedB, peersA: yield* peersOf(a), peersB: yield* peersOf(b) }
      }))
      const steady = { droppedA: undefined, droppedB: undefined, peersA: [idOf(keyB)], peersB: [idOf(keyA)] }
      // The first connection may be replaced once; within 10 seconds the nodes keep one for good.
      let seen = yield* observe
      for (let round = 1; round < 5 && !isDeepStrictEqual(seen, steady); round++) seen = yield* observe
      expect(seen).toEqual(steady)
      // The connection closed as a duplicate drops neither node: a sync would pass a dropped peer over for good.
      expect([yield* a.drops, yield* b.drops]).toEqual([[], []])
    }))
})
