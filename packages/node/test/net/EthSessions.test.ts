/**
 * A node connected twice to the same node keeps one session, and both nodes keep the same one:
 * the connection dialled by the lower node id, whichever of the two reached its Status first.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as EthSessions from "../../src/net/EthSessions.ts"

/** A connection that does nothing: only the sessions' table is under test. */
const link: EthSessions.Link = { send: () => Effect.void, stats: Effect.succeed({ in: new Map(), out: new Map() }) }

/** A session with `peer` whose `close` removes it from `sessions` and counts that it was closed. */
const sessionIn = (sessions: EthSessions.EthSessions, peer: string, preferred: boolean) => {
  const session = EthSessions.session(link, peer, 61)
  const state = { closed: 0 }
  const claim: EthSessions.Claim = {
    preferred,
    close: Effect.suspend(() => {
      state.closed++
      return sessions.remove(session)
    })
  }
  return { session, claim, state }
}

describe("EthSessions", () => {
  it("both nodes prefer the same of two connections: the one the lower id dialled", () => {
    const [low, high] = ["0a", "0b"]
    // The connection `low` dialled, as seen by low (dialled by us) and by high (dialled by them).
    expect([EthSessions.preferred(low, high, true), EthSessions.preferred(high, low, false)]).toEqual([true, true])
    // The connection `high` dialled.
    expect([EthSessions.preferred(high, low, true), EthSessions.preferred(low, high, false)]).toEqual([false, false])
  })

  it.effect("a second session on the other connection is refused, and the first kept", () =>
    Effect.gen(function*() {
      const sessions = EthSessions.make()
      const kept = sessionIn(sessions, "peer", true)
      const other = sessionIn(sessions, "peer", false)
      expect(yield* sessions.add(kept.session, kept.claim)).toBe(true)
      expect(yield* sessions.add(other.session, other.claim)).toBe(false)
      expect(kept.state.closed).toBe(0)
      expect(yield* sessions.all).toEqual([kept.session])
    }))

  it.effect("a session on the preferred connection closes the first and takes its place once it is removed", () =>
    Effect.gen(function*() {
      const sessions = EthSessions.make()
      const first = EthSessions.session(link, "peer", 61)
      let asked = 0
      yield* sessions.add(first, { preferred: false, close: Effect.sync(() => void asked++) })
      const preferred = EthSessions.session(link, "peer", 61)
      const adding = yield* Effect.forkChild(sessions.add(preferred, { preferred: true, close: Effect.void }))
      yield* Effect.yieldNow
      expect(asked).toBe(1)
      expect(yield* sessions.all).toEqual([first])
      yield* sessions.remove(first)
      expect(yield* Fiber.join(adding)).toBe(true)
      expect(yield* sessions.all).toEqual([preferred])
    }))
})
