/**
 * A child process that writes a datadir while others write it too (ConcurrentWriters starts
 * several at once): it prints "ready", waits for "go" on stdin, so that every child opens the
 * datadir at the same moment, then opens the datadir given as its first argument to write
 * (migrating it when it is of an older layout) and, given a seed and a length, inserts the chain
 * ChainGenerator makes of them above its test genesis, 25 blocks at a time. It prints "done"
 * and the head's number; a failure goes to stderr with exit code 1.
 */
import { SealVerifier } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect } from "effect"
import * as LmdbChainStore from "../src/LmdbChainStore.ts"

/** Blocks in one insert: many transactions, so that the writers' commits interleave. */
const batchSize = 25

const [path, seed, length] = process.argv.slice(2)

/** Opens the datadir, inserts the chain if one is asked for, and gives the head's number. */
const work = Effect.scoped(Effect.gen(function*() {
  const store = yield* LmdbChainStore.make({ path: path!, initialGenesis: ChainGenerator.testGenesis, verifier: SealVerifier.none })
  if (seed !== undefined) {
    const chain = yield* ChainGenerator.generate(ChainGenerator.testGenesis, Number(length), { seed: Number(seed) })
    for (let i = 0; i < chain.length; i += batchSize) yield* store.insert(chain.slice(i, i + batchSize))
  }
  return (yield* store.head).block.number
}))

process.stdin.once("data", () => {
  Effect.runPromise(work).then(
    (head) => {
      process.stdout.write(`done ${head}\n`)
      process.exit(0)
    },
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`)
      process.exit(1)
    }
  )
})
process.stdout.write("ready\n")
