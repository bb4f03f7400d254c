/**
 * Test chains for the header-first engine: blocks with transactions and uncles (so that most
 * bodies must be fetched and matched), generated once per length and shared, from the test genesis.
 *
 * @since 0.3.0
 */
import type { Block } from "@ethsync/core"
import { Effect } from "effect"
import { generate, testGenesis } from "../ChainGenerator.ts"

/** Chains handed out so far, by length and seed. */
const made = new Map<string, ReadonlyArray<Block.Block>>()

/** `length` blocks with transactions and uncles on top of the test genesis, genesis first (index = height). */
export const make = (length: number, seed = 7): Effect.Effect<ReadonlyArray<Block.Block>> =>
  Effect.suspend(() => {
    const key = `${length}/${seed}`
    const known = made.get(key)
    if (known) return Effect.succeed(known)
    return Effect.map(generate(testGenesis, length, { seed, transactions: true, uncles: true }), (blocks) => {
      const chain = [testGenesis, ...blocks]
      made.set(key, chain)
      return chain
    })
  })
