/**
 * The network's metrics, beside the downloader's: peers connected, eth messages and their bytes
 * in and out by message, blocks (or headers and bodies) served to peers, and peers disconnected
 * by kind of reason; exported in Prometheus' text format by `--metrics`.
 *
 * @since 0.2.0
 */
import { Effect, Metric } from "effect"
import * as EthMessage from "../eth/EthMessage.ts"
import * as HeaderFirstMessage from "../eth/HeaderFirstMessage.ts"
import * as HeaderFirstVersion from "../eth/HeaderFirstVersion.ts"

/** Peers whose Status we accepted, connected now. */
export const peersConnected = Metric.gauge("ethsync_net_peers_connected", { description: "eth peers connected now" })

/** eth messages, by direction and message: a counter per direction and message ({@link message}). */
const messages = { name: "ethsync_net_messages", description: "eth messages by direction and message", incremental: true } as const

/** Payload bytes of eth messages, by direction and message: a counter per direction and message ({@link message}). */
const bytes = { name: "ethsync_net_message_bytes", description: "eth message payload bytes by direction and message", incremental: true } as const

/**
 * Blocks sent to eth/60-61 peers in answer to their GetBlocks: what a server gave, which a count
 * of Blocks messages cannot say (one holds up to 128 blocks).
 */
export const blocksServed = Metric.counter("ethsync_net_blocks_served", {
  description: "blocks sent to eth/60-61 peers in answer to their requests",
  incremental: true
})

/** Headers sent to eth/66-68 peers in answer to their GetBlockHeaders (one message holds up to 1024). */
export const headersServed = Metric.counter("ethsync_net_headers_served", {
  description: "headers sent to eth/66-68 peers in answer to their requests",
  incremental: true
})

/** Block bodies sent to eth/66-68 peers in answer to their GetBlockBodies (one message holds up to 1024). */
export const bodiesServed = Metric.counter("ethsync_net_bodies_served", {
  description: "block bodies sent to eth/66-68 peers in answer to their requests",
  incremental: true
})

/** Peers we disconnected, by kind of reason (a protocol fault's name, `Downloader` for its drops, an RLPx failure's name). */
export const disconnects = Metric.counter("ethsync_net_disconnects", {
  description: "peers disconnected by kind of reason",
  incremental: true
})

/** The name of an eth message code of `version` (eth/60-61 or eth/62-68 codes), or `unknown`. */
const nameOf = (version: number, code: number): string => {
  const codes: Record<string, number> = HeaderFirstVersion.is(version) ? HeaderFirstMessage.codes : EthMessage.codes
  return Object.entries(codes).find(([, c]) => c === code)?.[0] ?? "unknown"
}

/**
 * The message and byte counters of each direction, version and code met so far, each made with
 * its attributes (series of {@link messages} and {@link bytes}). Not
 * `Metric.withAttributes`: that puts the attributes in the context, and a counter caches its series
 * key for one context's attributes only, so counting "in" and "out" in turn worked the key out
 * anew at every update, which costs more than the count. A few dozen at most.
 */
const counters = new Map<string, readonly [Metric.Counter<number>, Metric.Counter<number>]>()

/** Counts one eth message of `version` and `size` payload bytes. */
export const message = (direction: "in" | "out", version: number, code: number, size: number): Effect.Effect<void> => {
  const key = `${direction} ${version} ${code}`
  let pair = counters.get(key)
  if (pair === undefined) {
    const attributes = { direction, message: nameOf(version, code) }
    pair = [
      Metric.counter(messages.name, { ...messages, attributes }),
      Metric.counter(bytes.name, { ...bytes, attributes })
    ]
    counters.set(key, pair)
  }
  return Effect.andThen(Metric.update(pair[0], 1), Metric.update(pair[1], size))
}

/** Counts a peer disconnected for a reason of kind `kind`. */
export const disconnect = (kind: string): Effect.Effect<void> => Metric.update(Metric.withAttributes(disconnects, { reason: kind }), 1)
