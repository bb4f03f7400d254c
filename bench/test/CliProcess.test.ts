/**
 * The bench's child processes: the attacker of M1-attack started as a script, its first stdout
 * line read (its enode URL), stopped by SIGTERM with a clean exit; a child that ends before it
 * prints fails the wait with its stderr; a scope that closes stops a child still running.
 */
import { describe, expect, it } from "@effect/vitest"
import { ChainGenerator } from "@ethsync/testkit"
import { Hex } from "@ethsync/core"
import { Deferred, Effect } from "effect"
import * as CliProcess from "../CliProcess.ts"

/** The attacker's arguments: the test genesis, a TD, and a few made-up hashes. */
const attackerArgs = [Hex.fromBytes(ChainGenerator.testGenesis.hash), "1000000", "5000"]

describe("CliProcess", () => {
  it.live("reads the attacker's enode URL from its first line and stops it with SIGTERM, exit code 0", () =>
    Effect.scoped(Effect.gen(function*() {
      const attacker = yield* CliProcess.start(attackerArgs, "bench/Attacker.ts")
      expect(attacker.pid).toBeGreaterThan(0)
      expect(yield* CliProcess.enode(attacker)).toMatch(/^enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+$/)
      yield* attacker.stop
      expect(yield* Deferred.await(attacker.exited)).toBe("0")
    })))

  it.live("fails the wait for a line when the child ends first, with the tail of its stderr", () =>
    Effect.scoped(Effect.gen(function*() {
      const attacker = yield* CliProcess.start(["not-a-hash", "1", "1"], "bench/Attacker.ts")
      const error = yield* Effect.flip(Effect.timeout(attacker.line(0), "30 seconds"))
      expect(error.message).toBe(
        "bench/Attacker.ts: it ended before printing line 1; stderr: " +
          "usage: node bench/Attacker.ts GENESIS-HEX TD HASHES: GENESIS is not a 32-byte hex hash: not-a-hash"
      )
      expect(yield* Deferred.await(attacker.exited)).toBe("1")
    })))

  it.live("stops a child still running when its scope closes", () =>
    Effect.gen(function*() {
      const attacker = yield* Effect.scoped(Effect.gen(function*() {
        const attacker = yield* CliProcess.start(attackerArgs, "bench/Attacker.ts")
        yield* CliProcess.enode(attacker)
        return attacker
      }))
      expect(Deferred.isDoneUnsafe(attacker.exited)).toBe(true)
    }))
})
