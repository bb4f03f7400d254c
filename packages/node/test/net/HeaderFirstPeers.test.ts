/**
 * A node's eth/68 handler against raw eth/68 peers over RLPx on 127.0.0.1: its Status carries our
 * fork id; requests are answered from the chain with their request ids (headers with skip, bodies
 * and receipts skipping unknown blocks, no pooled transactions); a wrong fork id, a missing
 * Status, a second Status, garbage, a code eth/68 lacks and a flood of answers nobody asked for
 * each end the connection with its reason, and the node stays up for the next peer.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Block, Genesis, Hash, MemoryChainStore } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect, Queue, Result, Schedule } from "effect"
import * as ForkId from "../../src/eth/ForkId.ts"
import * as HeaderFirstMessage from "../../src/eth/HeaderFirstMessage.ts"
import { DisconnectReason } from "../../src/rlpx/DisconnectReason.ts"
import * as Hostile from "./Hostile.ts"
import * as Nodes from "./Nodes.ts"

/** eth/68's message codes. */
const codes = HeaderFirstMessage.codes

/** A node serving a generated chain of 40 blocks; the chain. */
const serving = Effect.gen(function*() {
  const genesis = ChainGenerator.testGenesis
  const blocks = yield* ChainGenerator.generate(genesis, 40)
  const store = MemoryChainStore.make(genesis)
  yield* Effect.orDie(store.insert(blocks))
  const node = yield* Nodes.node(store)
  return { node, genesis, blocks: [genesis, ...blocks] as ReadonlyArray<Block.Block> }
})

/** The eth/68 Status of a peer at the genesis of `genesis`, with its fork id, any field changed. */
const status = (genesis: Block.Block, overrides: Partial<Omit<HeaderFirstMessage.Status, "_tag">> = {}) =>
  HeaderFirstMessage.encode(HeaderFirstMessage.Status({
    protocolVersion: 68,
    networkId: Genesis.mainnetNetworkId,
    td: genesis.header.difficulty,
    bestHash: genesis.hash,
    genesisHash: genesis.hash,
    forkId: ForkId.make(genesis.hash, 0n),
    ...overrides
  })).payload

/** The next eth/68 message of code `code` the peer receives, decoded (others skipped). */
const receive = (hostile: Hostile.Hostile, code: number) =>
  Effect.gen(function*() {
    while (true) {
      const message = yield* Queue.take(hostile.inbox)
      if (message.code !== code) continue
      const decoded = HeaderFirstMessage.decode(68, message.code, message.payload)
      if (Result.isSuccess(decoded)) return decoded.success
    }
  }).pipe(Effect.timeout("10 seconds"))

/** Connects an eth/68 peer with `length` codes. */
const connect = (enode: string, length = 17) => Hostile.connect(enode, length, 68)

describe("eth/68 peers of a node", () => {
  it.live("are answered from the chain with their request ids, after a Status with our fork id", () =>
    Effect.gen(function*() {
      const { node, genesis, blocks } = yield* serving
      const peer = yield* connect(node.enode)
      yield* peer.send(codes.Status, status(genesis))
      const theirs = yield* receive(peer, codes.Status)
      expect(theirs._tag === "Status" && theirs.forkId).toEqual(ForkId.make(genesis.hash, 40n))
      expect(theirs._tag === "Status" && Hash.toHex(theirs.bestHash)).toBe(Hash.toHex(blocks[40]!.hash))

      yield* peer.send(codes.GetBlockHeaders, HeaderFirstMessage.encode(
        HeaderFirstMessage.GetBlockHeaders({ requestId: 7n, origin: 10, amount: 5, skip: 1, reverse: false })
      ).payload)
      const headers = yield* receive(peer, codes.BlockHeaders)
      expect(headers._tag === "BlockHeaders" && headers.requestId).toBe(7n)
      expect(headers._tag === "BlockHeaders" && headers.headers.map((h) => h.number)).toEqual([10, 12, 14, 16, 18])

      // Past the head the range is cut, not refused.
      yield* peer.send(codes.GetBlockHeaders, HeaderFirstMessage.encode(
        HeaderFirstMessage.GetBlockHeaders({ requestId: 8n, origin: blocks[38]!.hash, amount: 10, skip: 0, reverse: false })
      ).payload)
      const cut = yield* receive(peer, codes.BlockHeaders)
      expect(cut._tag === "BlockHeaders" && [cut.requestId, cut.headers.map((h) => h.number)]).toEqual([8n, [38, 39, 40]])

      const unknown = Hash.keccak(Uint8Array.of(0xee))
      yield* peer.send(codes.GetBlockBodies, HeaderFirstMessage.encode(
        HeaderFirstMessage.GetBlockBodies({ requestId: 9n, hashes: [blocks[5]!.hash, unknown, blocks[6]!.hash] })
      ).payload)
      const bodies = yield* receive(peer, codes.BlockBodies)
      expect(bodies._tag === "BlockBodies" && [bodies.requestId, bodies.bodies.length]).toEqual([9n, 2])
      expect(bodies._tag === "BlockBodies" && bodies.bodies[1]!.transactions.length).toBe(blocks[6]!.transactions.length)

      yield* peer.send(codes.GetReceipts, HeaderFirstMessage.encode(
        HeaderFirstMessage.GetReceipts({ requestId: 10n, hashes: [blocks[5]!.hash, unknown] })
      ).payload)
      const receipts = yield* receive(peer, codes.Receipts)
      expect(receipts._tag === "Receipts" && [receipts.requestId, receipts.receipts]).toEqual([10n, [[]]])

      yield* peer.send(codes.GetPooledTransactions, HeaderFirstMessage.encode(
        HeaderFirstMessage.GetPooledTransactions({ requestId: 11n, hashes: [unknown] })
      ).payload)
      const pooled = yield* receive(peer, codes.PooledTransactions)
      expect(pooled._tag === "PooledTransactions" && [pooled.requestId, pooled.transactions]).toEqual([11n, []])
      expect((yield* node.network.peers).map((p) => [p.id, p.version])).toEqual([[peer.id, 68]])
    }), 30_000)

  it.live("are disconnected with their reason for a wrong fork id, no Status, a second Status, garbage, a code eth/68 lacks, unrequested answers", () =>
    Effect.gen(function*() {
      const { node, genesis, blocks } = yield* serving

      const wrongFork = yield* connect(node.enode)
      yield* wrongFork.send(codes.Status, status(genesis, { forkId: { hash: Uint8Array.of(0xde, 0xad, 0xbe, 0xef), next: 0n } }))
      const silent = yield* connect(node.enode)
      const twice = yield* connect(node.enode)
      yield* twice.send(codes.Status, status(genesis))
      yield* twice.send(codes.Status, status(genesis))
      const garbage = yield* connect(node.enode)
      yield* garbage.send(codes.Status, status(genesis))
      yield* garbage.send(codes.GetBlockHeaders, Hostile.garbage)
      // GetNodeData (0x0d) is eth/66's, not eth/68's.
      const nodeData = yield* connect(node.enode)
      yield* nodeData.send(codes.Status, status(genesis))
      yield* nodeData.send(codes.GetNodeData, HeaderFirstMessage.encode(HeaderFirstMessage.GetNodeData({ requestId: 1n, hashes: [] })).payload)
      const flooder = yield* connect(node.enode)
      yield* flooder.send(codes.Status, status(genesis))
      const answer = HeaderFirstMessage.encode(HeaderFirstMessage.BlockHeaders({ requestId: 999n, headers: [blocks[1]!.header] })).payload
      yield* Effect.forkScoped(Effect.repeat(flooder.send(codes.BlockHeaders, answer), Schedule.spaced("20 millis")))

      // A bad or missing Status is a subprotocol error as today's clients number it.
      expect(yield* Hostile.disconnectReason(wrongFork)).toBe(DisconnectReason.subprotocolErrorToday)
      expect(yield* Hostile.disconnectReason(silent)).toBe(DisconnectReason.subprotocolErrorToday)
      expect(yield* Hostile.disconnectReason(twice)).toBe(DisconnectReason.uselessPeer)
      expect(yield* Hostile.disconnectReason(garbage)).toBe(DisconnectReason.uselessPeer)
      expect(yield* Hostile.disconnectReason(nodeData)).toBe(DisconnectReason.protocolError)
      expect(yield* Hostile.disconnectReason(flooder)).toBe(DisconnectReason.uselessPeer)

      const reasons = new Map((yield* node.drops).map((drop) => [drop.peer, drop.reason]))
      expect(reasons.get(wrongFork.id)).toMatch(/fork hash matches no fork state/)
      expect(reasons.get(silent.id)).toMatch(/no Status within 2000 ms/)
      expect(reasons.get(twice.id)).toMatch(/a second Status/)
      expect(reasons.get(garbage.id)).toMatch(/malformed GetBlockHeaders/)
      expect(reasons.get(nodeData.id)).toMatch(/not an eth\/68 message/)
      expect(reasons.get(flooder.id)).toMatch(/nobody asked for/)

      // The node stays up: the next peer is served.
      const next = yield* connect(node.enode)
      yield* next.send(codes.Status, status(genesis))
      yield* next.send(codes.GetBlockHeaders, HeaderFirstMessage.encode(
        HeaderFirstMessage.GetBlockHeaders({ requestId: 1n, origin: 40, amount: 2, skip: 0, reverse: true })
      ).payload)
      const headers = yield* receive(next, codes.BlockHeaders)
      expect(headers._tag === "BlockHeaders" && headers.headers.map((h) => h.number)).toEqual([40, 39])
    }), 60_000)
})
