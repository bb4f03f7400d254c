/**
 * Hostile peers speaking bad eth to a node that syncs the real mainnet blocks from an honest
 * server: garbage RLP, an unknown code, a wrong genesis, a wrong network id, no Status, a flood
 * of unrequested blocks, blocks whose body does not match their header, and a peer that leaves
 * in the middle of a request. Each is disconnected with its reason (or leaves), the node stays
 * up, the sync completes from the honest server, and nothing an attacker sent is stored.
 */
import { Block, Genesis, Hash } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Schedule } from "effect"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import * as EthMessage from "../../src/eth/EthMessage.ts"
import { DisconnectReason } from "../../src/rlpx/DisconnectReason.ts"
import * as Hostile from "./Hostile.ts"
import * as Nodes from "./Nodes.ts"

Mainnet.warnIfSkipped("net/HostilePeers.test.ts")

describe.skipIf(Mainnet.skipReason !== undefined)("hostile peers against a syncing node", () => {
  it.live("each is disconnected with its reason while the node syncs from the honest server", () =>
    Effect.gen(function*() {
      const blocks = Nodes.mainnetBlocks()
      const byHash = new Map(blocks.map((block) => [block.key, block]))
      const store = yield* Nodes.emptyDatadir
      const victim = yield* Nodes.node(store, { syncOnFirstPeer: true })
      const connect = (length?: number) => Hostile.connect(victim.enode, length)

      // Before the Status: refused with 0x0c (subprotocol error).
      const wrongGenesis = yield* connect()
      yield* Hostile.sendStatus(wrongGenesis, Hostile.status({ genesisHash: Hostile.strangeHash }))
      const wrongNetwork = yield* connect()
      yield* Hostile.sendStatus(wrongNetwork, Hostile.status({ networkId: 2 }))
      const silent = yield* connect()
      // After the Status: garbage in a known message (0x03), a code eth/61 lacks (0x02, from RLPx).
      const garbage = yield* connect()
      yield* Hostile.sendStatus(garbage)
      yield* garbage.send(EthMessage.codes.GetBlocks, Hostile.garbage)
      const unknownCode = yield* connect(16)
      yield* Hostile.sendStatus(unknownCode)
      yield* unknownCode.send(12, Uint8Array.of(0xc0))

      // During the sync: unrequested blocks of a chain nobody has, again and again.
      const forged = yield* ChainGenerator.generate(blocks[100]!, 3)
      const flooder = yield* connect()
      yield* Hostile.sendStatus(flooder)
      yield* Effect.forkScoped(Effect.repeat(
        flooder.send(EthMessage.codes.Blocks, EthMessage.encode(EthMessage.Blocks({ blocks: forged })).payload),
        Schedule.spaced("20 millis")
      ))
      // Asked for blocks: answers them with an uncle the header does not commit to.
      const tamperer = yield* connect()
      yield* Hostile.sendStatus(tamperer)
      const tampered = yield* Deferred.make<void>()
      yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
        const request = yield* Hostile.receive(tamperer, EthMessage.codes.GetBlocks)
        if (request._tag !== "GetBlocks") return
        const answer = request.hashes.flatMap((hash) => {
          const block = byHash.get(Hash.key(hash))
          return block === undefined ? [] : [Block.make(block.header, block.transactions, [Genesis.mainnet.header])]
        })
        yield* tamperer.send(EthMessage.codes.Blocks, EthMessage.encode(EthMessage.Blocks({ blocks: answer })).payload)
        yield* Deferred.succeed(tampered, undefined)
      })).pipe(Effect.ignore))
      // Asked for blocks: leaves without a word.
      const quitter = yield* connect()
      yield* Hostile.sendStatus(quitter)
      const quit = yield* Deferred.make<void>()
      yield* Effect.forkScoped(Effect.gen(function*() {
        yield* Hostile.receive(quitter, EthMessage.codes.GetBlocks)
        yield* quitter.connection.disconnect(DisconnectReason.requested)
        yield* Deferred.succeed(quit, undefined)
      }).pipe(Effect.ignore))

      yield* Effect.timeout(
        Effect.repeat(victim.network.peers, {
          until: (peers) => [flooder, tamperer, quitter].every((hostile) => peers.some((peer) => peer.id === hostile.id)),
          schedule: Schedule.spaced("20 millis")
        }),
        "10 seconds"
      )
      // eth/61 only, so the hash-chain downloader syncs and asks the hostile eth/61 peers too.
      const honest = yield* Nodes.node(yield* Nodes.mainnetStore(8191), { peers: [Nodes.enodeOf(victim.enode)], versions: [61, 60] })
      // The victim does not dial the honest server: it must have heard its Status before "synced" means anything.
      const honestId = honest.enode.slice("enode://".length, "enode://".length + 128)
      yield* Effect.timeout(
        Effect.repeat(victim.network.peers, { until: (peers) => peers.some((peer) => peer.id === honestId), schedule: Schedule.spaced("20 millis") }),
        "10 seconds"
      )
      const head = yield* Effect.timeout(victim.untilSynced, "60 seconds")
      expect(head.block.number).toBe(8191)

      expect(yield* Hostile.disconnectReason(wrongGenesis)).toBe(DisconnectReason.subprotocolError)
      expect(yield* Hostile.disconnectReason(wrongNetwork)).toBe(DisconnectReason.subprotocolError)
      expect(yield* Hostile.disconnectReason(silent)).toBe(DisconnectReason.subprotocolError)
      expect(yield* Hostile.disconnectReason(garbage)).toBe(DisconnectReason.uselessPeer)
      expect(yield* Hostile.disconnectReason(unknownCode)).toBe(DisconnectReason.protocolError)
      expect(yield* Hostile.disconnectReason(flooder)).toBe(DisconnectReason.uselessPeer)
      yield* Effect.timeout(Deferred.await(tampered), "1 second")
      expect(yield* Hostile.disconnectReason(tamperer)).toBe(DisconnectReason.uselessPeer)
      yield* Effect.timeout(Deferred.await(quit), "1 second")

      const reasons = new Map((yield* victim.drops).map((drop) => [drop.peer, drop.reason]))
      expect(reasons.get(wrongGenesis.id)).toMatch(/genesisHash/)
      expect(reasons.get(wrongNetwork.id)).toMatch(/networkId 2/)
      expect(reasons.get(silent.id)).toMatch(/no Status within 2000 ms/)
      expect(reasons.get(garbage.id)).toMatch(/malformed GetBlocks/)
      expect(reasons.get(unknownCode.id)).toMatch(/belongs to no shared capability/)
      expect(reasons.get(flooder.id)).toMatch(/nobody asked/)
      expect(reasons.get(tamperer.id)).toMatch(/transactionsRoot|uncleHash/)
      expect(reasons.has(quitter.id)).toBe(false)
      expect([...reasons.keys()]).not.toContain(honestId)
      expect(yield* victim.network.peers).toHaveLength(1)

      for (const block of forged) expect(yield* store.has(block.hash)).toBe(false)
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
    }), 90_000)
})
