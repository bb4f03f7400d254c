/**
 * Hostile peers for the network tests: raw RLPx connections from our own `dial` that speak bad
 * eth on purpose, and the Disconnect reason they get.
 */
import { Genesis, Hash, type Hash as HashType, Hex, Rlp } from "@ethsync/core"
import { Effect, Queue, type Scope } from "effect"
import * as EthMessage from "../../src/eth/EthMessage.ts"
import type * as Connection from "../../src/rlpx/Connection.ts"
import type { ConnectionError } from "../../src/rlpx/ConnectionError.ts"
import { dial } from "../../src/rlpx/Dial.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"
import * as Nodes from "./Nodes.ts"

/** A hostile peer's connection to the node under attack. */
export interface Hostile {
  /** Its peer id, as the node names it. */
  readonly id: string
  /** The raw connection. */
  readonly connection: Connection.Connection
  /** Sends an eth message by code, whatever the payload; a failed send is ignored. */
  readonly send: (code: number, payload: Uint8Array) => Effect.Effect<void>
  /**
   * Every message the node sent it, taken off the connection at once (so the connection reads
   * on, and a Disconnect behind unread messages is seen); fails with how the connection ended.
   */
  readonly inbox: Queue.Queue<Connection.Message, ConnectionError>
}

/**
 * Dials the node at `enode` offering eth/`version` (61 unless told) with `length` codes (more than
 * the version has lets it send codes the version lacks).
 */
export const connect = (enode: string, length = 9, version = 61): Effect.Effect<Hostile, ConnectionError, Scope.Scope> =>
  Effect.gen(function*() {
    const key = NodeKey.generate()
    const connection = yield* dial({
      key,
      clientId: "hostile",
      capabilities: [{ name: "eth", version, length }],
      timing: Nodes.testTiming.rlpx!,
      remote: Nodes.enodeOf(enode)
    })
    const inbox = yield* Queue.unbounded<Connection.Message, ConnectionError>()
    yield* Effect.forkScoped(Effect.forever(Effect.flatMap(connection.receive, (message) => Queue.offer(inbox, message))).pipe(
      Effect.catch((end) => Queue.fail(inbox, end))
    ))
    return {
      id: Hex.fromBytes(key.id).slice(2),
      connection,
      send: (code, payload) => Effect.ignore(connection.send("eth", code, payload)),
      inbox
    }
  })

/** The Status of a mainnet node at genesis (a TD nobody syncs from), with any field changed. */
export const status = (overrides: Partial<Omit<EthMessage.Status, "_tag">> = {}): Uint8Array =>
  EthMessage.encode(EthMessage.Status({
    protocolVersion: 61,
    networkId: Genesis.mainnetNetworkId,
    td: Genesis.mainnet.header.difficulty,
    bestHash: Genesis.mainnetHash,
    genesisHash: Genesis.mainnetHash,
    ...overrides
  })).payload

/** Sends our Status (or the given payload as one). */
export const sendStatus = (hostile: Hostile, payload: Uint8Array = status()) => hostile.send(EthMessage.codes.Status, payload)

/** The Disconnect reason the node sent the hostile peer (bounded wait); undefined when it closed otherwise. */
export const disconnectReason = (hostile: Hostile): Effect.Effect<number | undefined, unknown> =>
  Effect.map(Effect.timeout(hostile.connection.closed, "20 seconds"), (end) =>
    end._tag === "Disconnected" && end.by === "peer" ? end.reason : undefined)

/** The next eth message with code `code` the hostile peer receives, decoded (others are skipped). */
export const receive = (hostile: Hostile, code: number): Effect.Effect<EthMessage.EthMessage, ConnectionError> =>
  Effect.gen(function*() {
    while (true) {
      const message = yield* Queue.take(hostile.inbox)
      if (message.code !== code) continue
      const decoded = EthMessage.decode(61, message.code, message.payload)
      if (decoded._tag === "Success") return decoded.success
    }
  })

/** An RLP payload that is no message: a list that claims more bytes than it has. */
export const garbage: Uint8Array = Uint8Array.of(0xc5, 0xff, 0x01)

/** A hash of nothing on the chain. */
export const strangeHash: HashType.Hash = Hash.keccak(Rlp.encodeBytes(Uint8Array.of(1, 2, 3)))
