/**
 * The demo's spec-backed RLPx server, dialled by a bare RLPx connection on 127.0.0.1: it answers
 * eth requests from its spec, and each misconduct breaks the protocol as it says.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Block, Hash } from "@ethsync/core"
import { Attacks, SimPeer, TestChain } from "@ethsync/testkit"
import { Effect, Option, Result } from "effect"
import * as SpecServer from "../../src/demo/SpecServer.ts"
import * as EthMessage from "../../src/eth/EthMessage.ts"
import type * as Connection from "../../src/rlpx/Connection.ts"
import { dial } from "../../src/rlpx/Dial.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"

/** The demo's network id, as the servers under test say it. */
const networkId = 7

/** Dials `server` on eth/61 and returns the connection with a way to send and receive decoded eth messages. */
const connect = (server: SpecServer.SpecServer) =>
  Effect.gen(function*() {
    const connection = yield* dial({
      key: NodeKey.generate(),
      clientId: "spec-server-test",
      capabilities: [{ name: "eth", version: 61, length: 9 }],
      remote: server.enode
    })
    const send = (message: EthMessage.EthMessage) => {
      const { code, payload } = EthMessage.encode(message)
      return connection.send("eth", code, payload)
    }
    /** The next message decoded, or the decode error; none within `millis`. */
    const next = (millis = 5000) =>
      Effect.timeoutOption(
        Effect.map(connection.receive, (raw: Connection.Message) => EthMessage.decode(61, raw.code, raw.payload)),
        millis
      )
    return { connection, send, next }
  })

/** The decoded message of `next`, failing the test when there is none or it is not one. */
const message = (received: Option.Option<Result.Result<EthMessage.EthMessage, unknown>>): EthMessage.EthMessage => {
  if (Option.isNone(received) || Result.isFailure(received.value)) throw new Error(`expected a message, got ${String(received)}`)
  return received.value.success
}

/** Our Status for `chain`'s genesis. */
const statusFor = (chain: TestChain.TestChain) =>
  EthMessage.Status({ protocolVersion: 61, networkId, td: 1n, bestHash: chain.blocks[0]!.hash, genesisHash: chain.blocks[0]!.hash })

/** The hashes of `blocks`. */
const hashesOf = (blocks: ReadonlyArray<Block.Block>) => blocks.map((block) => Hash.toHex(block.hash))

describe("SpecServer", () => {
  it.live("answers hashes, hashes by number and blocks from its spec, after its Status", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(300)
      const spec = { ...SimPeer.eth61(SimPeer.honest("honest", chain)), td: 12345n }
      const server = yield* SpecServer.start({ spec, genesis: chain.blocks[0]!.hash, networkId })
      const peer = yield* connect(server)
      expect(message(yield* peer.next())).toMatchObject({
        _tag: "Status",
        protocolVersion: 61,
        networkId,
        td: 12345n,
        bestHash: chain.head.hash,
        genesisHash: chain.blocks[0]!.hash
      })
      yield* peer.send(statusFor(chain))
      yield* peer.send(EthMessage.GetBlockHashes({ hash: chain.head.hash, max: 3 }))
      const below = message(yield* peer.next())
      expect(below._tag === "BlockHashes" && below.hashes.map(Hash.toHex)).toEqual(hashesOf(chain.blocks.slice(297, 300).reverse()))
      yield* peer.send(EthMessage.GetBlockHashesFromNumber({ number: 299, amount: 5 }))
      const top = message(yield* peer.next())
      expect(top._tag === "BlockHashes" && top.hashes.map(Hash.toHex)).toEqual(hashesOf(chain.blocks.slice(299, 301)))
      yield* peer.send(EthMessage.GetBlocks({ hashes: [chain.blocks[5]!.hash, Attacks.unknownHash, chain.blocks[7]!.hash] }))
      const blocks = message(yield* peer.next())
      expect(blocks._tag === "Blocks" && hashesOf(blocks.blocks)).toEqual(hashesOf([chain.blocks[5]!, chain.blocks[7]!]))
    }))

  it.live("misbehaves as told: garbage after its Status, another genesis, a stall before the genesis and on blocks", () =>
    Effect.gen(function*() {
      const chain = yield* TestChain.make(300)
      const genesis = chain.blocks[0]!.hash
      const start = (misconduct: SpecServer.Misconduct) =>
        Effect.flatMap(SpecServer.start({ spec: SimPeer.eth61(SimPeer.honest(misconduct, chain)), genesis, networkId, misconduct }), connect)

      const garbage = yield* start("garbage")
      expect(message(yield* garbage.next())._tag).toBe("Status")
      const junk = yield* garbage.next()
      expect(Option.isSome(junk) && Result.isFailure(junk.value) && junk.value.failure).toMatchObject({ _tag: "MalformedMessage" })

      const liar = yield* start("wrong-genesis")
      const status = message(yield* liar.next())
      expect(status._tag === "Status" && Hash.equals(status.genesisHash, genesis)).toBe(false)

      const staller = yield* start("stall")
      expect(message(yield* staller.next())._tag).toBe("Status")
      yield* staller.send(statusFor(chain))
      yield* staller.send(EthMessage.GetBlockHashes({ hash: chain.head.hash, max: 10 }))
      expect(message(yield* staller.next())._tag).toBe("BlockHashes")
      // The hashes down to the genesis, and any block: never answered.
      yield* staller.send(EthMessage.GetBlockHashes({ hash: chain.blocks[5]!.hash, max: 10 }))
      yield* staller.send(EthMessage.GetBlocks({ hashes: [chain.blocks[5]!.hash] }))
      expect(yield* staller.next(500)).toEqual(Option.none())
    }))
})
