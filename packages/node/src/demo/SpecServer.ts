/**
 * A simulated peer on the wire: an RLPx listener on 127.0.0.1 that answers eth/60-61 requests
 * from a testkit `SimPeer.Spec` (its hash list, its blocks, its extra blocks, its latency)
 * instead of a ChainStore, so that every simulated attack reaches a node over real sockets. A
 * misconduct adds what a spec cannot say, wrong on the wire itself: garbage after the Status, a
 * Status with another genesis, or requests left unanswered mid-way through a sync.
 *
 * @since 0.2.0
 */
import { Hash, Hex, Rlp } from "@ethsync/core"
import { SimPeer } from "@ethsync/testkit"
import { Duration, Effect, Result, type Scope } from "effect"
import * as EthMessage from "../eth/EthMessage.ts"
import * as EthVersion from "../eth/EthVersion.ts"
import * as Offered from "../eth/Offered.ts"
import * as Serving from "../eth/Serving.ts"
import * as StatusCheck from "../eth/StatusCheck.ts"
import type * as Connection from "../rlpx/Connection.ts"
import { DisconnectReason } from "../rlpx/DisconnectReason.ts"
import type * as Enode from "../rlpx/Enode.ts"
import { listen, type ListenFailed } from "../rlpx/Listen.ts"
import * as NodeKey from "../rlpx/NodeKey.ts"

/** How a server breaks the eth protocol on the wire, beyond what its spec serves. */
export type Misconduct =
  /** Right after its Status, a BlockHashes message whose payload is no RLP at all. */
  | "garbage"
  /** A Status naming another genesis than the chain's. */
  | "wrong-genesis"
  /**
   * Answers hash requests but never the one for the last hashes of its chain (down to the
   * genesis), and never a block request: a sync with it stops mid-way through its hash chain.
   */
  | "stall"

/** What a server serves and how. */
export interface Options {
  /** The simulated peer it answers as (its `td` is the one its Status claims). */
  readonly spec: SimPeer.Spec
  /** The genesis of the chain it serves, as its Status names it (unless it lies about it). */
  readonly genesis: Hash.Hash
  /** The network id of its Status. */
  readonly networkId: number
  /** Its misconduct on the wire, if any. */
  readonly misconduct?: Misconduct | undefined
}

/** A running server. */
export interface SpecServer {
  /** Its node id in hex, as the syncing node names it. */
  readonly id: string
  /** Where to dial it. */
  readonly enode: Enode.Enode
}

/** The client id of every server's hello. */
const clientId = "ethsync-demo-peer"

/** The garbage a server with that misconduct sends: a list prefix claiming more bytes than follow. */
const garbage: Uint8Array = Uint8Array.of(0xc5, 0xff, 0x01)

/** The genesis a server with that misconduct claims: the hash of no block. */
const wrongGenesis: Hash.Hash = Hash.keccak(Rlp.encodeBytes(new TextEncoder().encode("not this chain's genesis")))

/** Listens on a free port of 127.0.0.1 and serves the spec to every node that connects, until the scope closes. */
export const start = (options: Options): Effect.Effect<SpecServer, ListenFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const { spec, misconduct } = options
    const key = NodeKey.generate()
    const latency = Duration.fromInputUnsafe(spec.latency ?? Duration.millis(1))

    /** The answer to a request, if the server gives one. */
    const answer = (message: EthMessage.EthMessage): EthMessage.EthMessage | undefined => {
      switch (message._tag) {
        case "GetBlockHashes": {
          const hashes = SimPeer.hashReply(spec, message.hash, Math.min(message.max, Serving.maxHashes))
          const last = hashes[hashes.length - 1]
          const completes = last !== undefined && Hash.equals(last, spec.hashes.at(spec.hashes.length - 1))
          return misconduct === "stall" && completes ? undefined : EthMessage.BlockHashes({ hashes })
        }
        case "GetBlockHashesFromNumber":
          return EthMessage.BlockHashes({ hashes: SimPeer.numberReply(spec, message.number, Math.min(message.amount, Serving.maxHashes)) })
        case "GetBlocks":
          return misconduct === "stall" ? undefined : EthMessage.Blocks({ blocks: SimPeer.blockReply(spec, message.hashes) })
        case "Status":
        case "NewBlockHashes":
        case "Transactions":
        case "BlockHashes":
        case "Blocks":
        case "NewBlock":
          return undefined
      }
    }

    /** One connection: our Status, the node's checked, then each request answered after the latency. */
    const serve = (connection: Connection.Connection) =>
      Effect.gen(function*() {
        const eth = connection.capabilities.find((capability) => capability.name === "eth")
        const version = EthVersion.highestShared(eth === undefined ? [] : [eth.version])
        if (version === undefined) return yield* connection.disconnect(DisconnectReason.uselessPeer)
        const send = (message: EthMessage.EthMessage) => {
          const { code, payload } = EthMessage.encode(message)
          return connection.send("eth", code, payload)
        }
        const status = (genesisHash: Hash.Hash) =>
          EthMessage.Status({
            protocolVersion: version,
            networkId: options.networkId,
            td: spec.td ?? 0n,
            bestHash: spec.hashes.at(0),
            genesisHash
          })
        const honest = status(options.genesis)
        yield* send(misconduct === "wrong-genesis" ? status(wrongGenesis) : honest)
        if (misconduct === "garbage") yield* connection.send("eth", EthMessage.codes.BlockHashes, garbage)
        /** Whether the node's Status has arrived and agreed with ours. */
        let greeted = false
        while (true) {
          const received = yield* connection.receive
          const decoded = EthMessage.decode(version, received.code, received.payload)
          if (Result.isFailure(decoded)) return yield* connection.disconnect(DisconnectReason.uselessPeer)
          const message = decoded.success
          if (!greeted) {
            if (message._tag !== "Status" || Result.isFailure(StatusCheck.check(honest, message))) {
              return yield* connection.disconnect(DisconnectReason.subprotocolError)
            }
            greeted = true
            continue
          }
          const reply = answer(message)
          if (reply === undefined) continue
          yield* Effect.sleep(latency)
          yield* send(reply)
        }
      }).pipe(Effect.catch((error) => Effect.logDebug(`demo peer ${spec.id}: connection ended: ${error.message}`)))

    const listener = yield* listen({
      key,
      clientId,
      // The version the spec's peer speaks, as the in-memory network has it speak.
      capabilities: Offered.capabilities([spec.version ?? 60]),
      handler: serve
    })
    return { id: Hex.fromBytes(key.id).slice(2), enode: { id: key.id, host: listener.host, port: listener.port } }
  })
