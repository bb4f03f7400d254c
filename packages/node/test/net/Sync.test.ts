/**
 * Nodes syncing from each other over RLPx on 127.0.0.1: the real mainnet blocks 0..8191 from one
 * server over eth/68 (header-first), over eth/61 and over eth/60, from three servers at once, from servers of which one stops
 * halfway, and a late joiner that hears of a new head by NewBlock.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Duration, Effect, Exit, Schedule, Scope } from "effect"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import * as EthNode from "../../src/net/EthNode.ts"
import * as Nodes from "./Nodes.ts"

Mainnet.warnIfSkipped("net/Sync.test.ts")

/** Block requests a server received (code 0x05: GetBlocks on eth/61, GetBlockBodies on eth/68), summed over its peers. */
const blockRequestsServed = (server: EthNode.EthNode) =>
  Effect.map(server.traffic, (traffic) => [...traffic.values()].reduce((sum, stats) => sum + (stats.in.get("eth:5")?.messages ?? 0), 0))

/** Waits (bounded) until `node` has `count` peers. */
const untilPeers = (node: EthNode.EthNode, count: number) =>
  Effect.timeout(
    Effect.repeat(node.network.peers, { until: (peers) => peers.length >= count, schedule: Schedule.spaced("20 millis") }),
    "10 seconds"
  )

/** Waits (bounded) until the chain's head of `store` reaches `number`. */
const untilHead = (store: Nodes.Store, number: number, limit: Duration.Input = "60 seconds") =>
  Effect.timeout(Effect.repeat(store.head, { until: (head) => head.block.number >= number, schedule: Schedule.spaced("10 millis") }), limit)

describe.skipIf(Mainnet.skipReason !== undefined)("syncing mainnet over RLPx", () => {
  it.live("a node syncs blocks 0..8191 from one server over eth/68 with the header-first engine and exports the file's exact bytes", () =>
    Effect.gen(function*() {
      const server = yield* Nodes.node(yield* Nodes.mainnetStore(8191))
      const store = yield* Nodes.emptyDatadir
      const client = yield* Nodes.node(store, { peers: [Nodes.enodeOf(server.enode)], syncOnFirstPeer: true })
      const head = yield* Effect.timeout(client.untilSynced, "60 seconds")
      expect(head.block.number).toBe(8191)
      expect((yield* client.network.peers).map((peer) => peer.version)).toEqual([68])
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
      expect(yield* client.drops).toEqual([])
      // The server was asked for headers (eth/68's 0x03, GetBlockHeaders) and bodies.
      const [traffic] = (yield* server.traffic).values()
      expect(traffic?.in.get("eth:3")?.messages).toBeGreaterThan(0)
      expect(yield* blockRequestsServed(server)).toBeGreaterThan(0)
    }), 90_000)

  it.live("a node syncs blocks 0..8191 from one server over eth/61 and exports the file's exact bytes", () =>
    Effect.gen(function*() {
      const server = yield* Nodes.node(yield* Nodes.mainnetStore(8191), { versions: [61, 60] })
      const store = yield* Nodes.emptyDatadir
      const client = yield* Nodes.node(store, { peers: [Nodes.enodeOf(server.enode)], syncOnFirstPeer: true })
      const head = yield* Effect.timeout(client.untilSynced, "60 seconds")
      expect(head.block.number).toBe(8191)
      expect((yield* client.network.peers).map((peer) => peer.version)).toEqual([61])
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
      expect(yield* client.drops).toEqual([])
    }), 90_000)

  it.live("a node syncs with the engine of its best peer's version: header-first from an eth/68 server, then by hashes from a heavier eth/61 one", () =>
    Effect.gen(function*() {
      const modern = yield* Nodes.node(yield* Nodes.mainnetStore(4000))
      const store = yield* Nodes.emptyDatadir
      const client = yield* Nodes.node(store, { peers: [Nodes.enodeOf(modern.enode)], syncOnFirstPeer: true })
      yield* untilHead(store, 4000)
      const old = yield* Nodes.node(yield* Nodes.mainnetStore(8191), { versions: [61, 60], peers: [Nodes.enodeOf(client.enode)] })
      yield* untilHead(store, 8191)
      expect((yield* client.network.peers).map((peer) => peer.version).sort()).toEqual([61, 68])
      // The eth/68 server was asked for headers (0x03: GetBlockHeaders), the eth/61 one for blocks (0x05: GetBlocks).
      const [modernTraffic] = (yield* modern.traffic).values()
      const [oldTraffic] = (yield* old.traffic).values()
      expect(modernTraffic?.in.get("eth:3")?.messages).toBeGreaterThan(0)
      expect(oldTraffic?.in.get("eth:5")?.messages).toBeGreaterThan(0)
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
    }), 90_000)

  it.live("a node syncs from a server that offers only eth/60", () =>
    Effect.gen(function*() {
      const server = yield* Nodes.node(yield* Nodes.mainnetStore(8191), { versions: [60] })
      const store = yield* Nodes.emptyDatadir
      const client = yield* Nodes.node(store, { peers: [Nodes.enodeOf(server.enode)], syncOnFirstPeer: true })
      const head = yield* Effect.timeout(client.untilSynced, "60 seconds")
      expect(head.block.number).toBe(8191)
      expect((yield* client.network.peers).map((peer) => peer.version)).toEqual([60])
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
    }), 90_000)

  it.live("a node syncs from three servers at once, each serving blocks", () =>
    Effect.gen(function*() {
      const servers = yield* Effect.forEach([0, 1, 2], () => Effect.flatMap(Nodes.mainnetStore(8191), (store) => Nodes.node(store)))
      const store = yield* Nodes.emptyDatadir
      const client = yield* Nodes.node(store, {
        peers: servers.map((server) => Nodes.enodeOf(server.enode)),
        timing: { ...Nodes.testTiming, syncInterval: "1 hour" }
      })
      yield* untilPeers(client, 3)
      yield* client.syncNow
      const head = yield* Effect.timeout(client.untilSynced, "60 seconds")
      expect(head.block.number).toBe(8191)
      for (const server of servers) expect(yield* blockRequestsServed(server)).toBeGreaterThan(0)
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
    }), 90_000)

  it.live("a server stopped halfway leaves the node finishing from the others", () =>
    Effect.gen(function*() {
      const stoppable = yield* Scope.make()
      const quitter = yield* Nodes.node(yield* Nodes.mainnetStore(8191)).pipe(Scope.provide(stoppable))
      const others = yield* Effect.forEach([0, 1], () => Effect.flatMap(Nodes.mainnetStore(8191), (store) => Nodes.node(store)))
      const store = yield* Nodes.emptyDatadir
      const client = yield* Nodes.node(store, {
        peers: [quitter, ...others].map((server) => Nodes.enodeOf(server.enode)),
        timing: { ...Nodes.testTiming, syncInterval: "1 hour" }
      })
      yield* untilPeers(client, 3)
      yield* client.syncNow
      yield* untilHead(store, 2000)
      yield* Scope.close(stoppable, Exit.void)
      const head = yield* Effect.timeout(client.untilSynced, "60 seconds")
      expect(head.block.number).toBe(8191)
      expect((yield* client.network.peers).length).toBe(2)
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
    }), 90_000)

  it.live("a late joiner hears of the server's new head by NewBlock and syncs at once", () =>
    Effect.gen(function*() {
      const blocks = Nodes.mainnetBlocks()
      const serverStore = yield* Nodes.mainnetStore(8190)
      const server = yield* Nodes.node(serverStore)
      const store = yield* Nodes.emptyDatadir
      // No timer and no first-peer trigger: only a NewBlock heavier than its head makes it sync.
      const joiner = yield* Nodes.node(store, {
        peers: [Nodes.enodeOf(server.enode)],
        timing: { ...Nodes.testTiming, syncInterval: "1 hour" }
      })
      yield* untilPeers(joiner, 1)
      yield* untilPeers(server, 1)
      expect((yield* store.head).block.number).toBe(0)
      yield* Effect.orDie(serverStore.insert([blocks[8191]!]))
      yield* untilHead(store, 8191, "30 seconds")
      const [traffic] = (yield* joiner.traffic).values()
      expect(traffic?.in.get("eth:7")?.messages).toBe(1)
      // The joiner's new head is the block the server announced: it is not announced back.
      yield* Effect.sleep("300 millis")
      const [served] = (yield* server.traffic).values()
      expect(served?.in.get("eth:7")).toBeUndefined()
      expect(served?.in.get("eth:1")).toBeUndefined()
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
    }), 90_000)
})
