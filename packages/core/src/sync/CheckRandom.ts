/**
 * Where the downloader draws the random hash it cross-checks in each hash batch. An attacker who
 * could predict the pick could answer it honestly and lie about the rest, so the default source is
 * the platform's cryptographic generator; tests provide a seeded one so that runs repeat exactly.
 *
 * @since 0.2.0
 */
import { Context, type Effect, Random } from "effect"

/** Random numbers from `crypto.getRandomValues` (Web Crypto: Node, browsers, workers alike). */
export const secure: Random.Random = {
  nextIntUnsafe: () => {
    const words = crypto.getRandomValues(new Uint32Array(2))
    return (words[0]! & 0x1fffff) * 0x100000000 + words[1]!
  },
  nextDoubleUnsafe: () => {
    const words = crypto.getRandomValues(new Uint32Array(2))
    return ((words[0]! >>> 5) * 67108864 + (words[1]! >>> 6)) / 9007199254740992
  }
}

/** The cross-check source in force: the secure one unless provided otherwise. */
export const CheckRandom = Context.Reference<Random.Random>("@ethsync/core/CheckRandom", { defaultValue: () => secure })

/** A generator seeded with `seed`: the same seed draws the same numbers. */
export const seeded = (seed: string): Effect.Effect<Random.Random> => Random.withSeed(Random.Random, seed)

/** A uniform integer in [0, n) from `random`. */
export const below = (random: Random.Random, n: number): number => Math.floor(random.nextDoubleUnsafe() * n)
