/**
 * Helpers for the RLPx tests: our options with short durations, a listener that hands its
 * connections and handshake failures to queues, and bounded waits.
 */
import { type Duration, Effect, Queue, type Scope } from "effect"
import * as Capability from "../../src/rlpx/Capability.ts"
import type * as Connection from "../../src/rlpx/Connection.ts"
import type { ConnectionError } from "../../src/rlpx/ConnectionError.ts"
import * as Enode from "../../src/rlpx/Enode.ts"
import * as Listen from "../../src/rlpx/Listen.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"

/** A made-up capability with four message codes. */
export const testCapability: Capability.Capability = { name: "test", version: 1, length: 4 }

/** Durations short enough for tests. */
export const fastTiming: Connection.Timing = {
  handshakeTimeout: "1 second",
  pingInterval: "100 millis",
  idleTimeout: "1500 millis"
}

/**
 * Durations for tests that seal or open 10 MiB messages: both ends share one process, whose
 * event loop such work blocks for seconds on a busy machine, so short limits would fire (a
 * timer that fell due during the block runs before the bytes that arrived meanwhile are read).
 */
export const patientTiming: Connection.Timing = { ...fastTiming, handshakeTimeout: "30 seconds", idleTimeout: "30 seconds" }

/** Options for one of our nodes: a fresh key, the test capability, short durations. */
export const nodeOptions = (overrides: Partial<Connection.Options> = {}): Connection.Options => ({
  key: NodeKey.generate(),
  clientId: "ethsync-test",
  capabilities: [testCapability],
  timing: fastTiming,
  ...overrides
})

/** Fails the test (with a TimeoutError) when `effect` takes longer than `limit` (5 s unless said). */
export const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>, limit: Duration.Input = "5 seconds") =>
  Effect.timeout(effect, limit)

/** The bound for waits on a 10 MiB message: its keccak MACs take about a second per side on a slow, busy machine. */
export const bigMessageLimit: Duration.Input = "30 seconds"

/** A listener of ours whose handler parks each connection in `accepted`; handshake failures go to `failures`. */
export const testListener = (
  options: Connection.Options = nodeOptions()
): Effect.Effect<
  {
    readonly listener: Listen.Listener
    readonly enode: Enode.Enode
    readonly options: Connection.Options
    readonly accepted: Queue.Queue<Connection.Connection>
    readonly failures: Queue.Queue<ConnectionError>
  },
  Listen.ListenFailed,
  Scope.Scope
> =>
  Effect.gen(function*() {
    const accepted = yield* Queue.unbounded<Connection.Connection>()
    const failures = yield* Queue.unbounded<ConnectionError>()
    const listener = yield* Listen.listen({
      ...options,
      handler: (connection) => Effect.andThen(Queue.offer(accepted, connection), Effect.never),
      onHandshakeFailure: (error) => Effect.asVoid(Queue.offer(failures, error))
    })
    return { listener, enode: parseEnode(listener.enode), options, accepted, failures }
  })

/** The enode of a URL we formatted ourselves (a parse failure is a bug: it throws). */
export const parseEnode = (url: string): Enode.Enode => {
  const enode = Enode.parse(url)
  if (enode instanceof Enode.EnodeUrlError) throw enode
  return enode
}

/** Bytes of text. */
export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** Text of bytes. */
export const text = (payload: Uint8Array): string => new TextDecoder().decode(payload)
