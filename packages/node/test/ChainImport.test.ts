/**
 * Seal checks during an import: a rejected seal stops the import at that block, naming the rule,
 * with every block before it kept; with a SealPrefetch each seal is still checked exactly once, and
 * the checks started for blocks found stored, or never inserted, are dropped once the import is past them.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { ChainStore, Hash, type Header, InvalidBlock, MemoryChainStore, type SealVerifier } from "@ethsync/core"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as ChainImport from "../src/ChainImport.ts"
import * as SealPrefetch from "../src/SealPrefetch.ts"
import * as TempDir from "./TempDir.ts"
import * as TestChain from "./TestChain.ts"

const genesis = TestChain.genesis()
/** Blocks 1..100, each 4th with an uncle (a sibling of its parent), so uncles' seals are checked too. */
const chain = (() => {
  const blocks = TestChain.extend(genesis, 2)
  while (blocks.length < 100) {
    const parent = blocks.at(-1)!
    blocks.push(blocks.length % 4 === 0 ? TestChain.withUncles(parent, [TestChain.uncleOf(blocks.at(-2)!, 1)]) : TestChain.child(parent))
  }
  return blocks
})()
const bad = chain[39]!

/** A verifier rejecting the seal of `bad` only, recording the hash of every header it checks. */
const recording = () => {
  const checked: Array<string> = []
  const verifier: SealVerifier.Shape = {
    name: "test",
    verify: (headers: ReadonlyArray<Header.Header>) =>
      Effect.sync(() =>
        headers.map((header) => {
          checked.push(Hash.toHex(header.hash))
          return header.key === bad.key
            ? new InvalidBlock.InvalidBlock({ rule: "sealMixHash", number: header.number, hash: Hash.toHex(header.hash), reason: "seal rejected by the test" })
            : undefined
        })
      )
  }
  return { verifier, checked }
}

/**
 * Imports the chain's file into a memory store checking with `verifier`, its first `stored` blocks
 * stored before; returns the failure and the store.
 */
const importWith = (verifier: SealVerifier.Shape, prefetch: SealPrefetch.SealPrefetch | undefined, stored = 0) =>
  Effect.gen(function*() {
    const file = Path.join(yield* TempDir.make, "chain.rlp")
    Fs.writeFileSync(file, TestChain.fileBytes(chain))
    const store = MemoryChainStore.make(genesis, prefetch?.verifier ?? verifier)
    if (stored > 0) yield* Effect.orDie(store.insert(chain.slice(0, stored)))
    const failure = yield* Effect.flip(ChainImport.importFiles([file], { batchSize: 16, prefetch })).pipe(
      Effect.provideService(ChainStore.ChainStore, store),
      Effect.provide(NodeServices.layer)
    )
    return { failure, store }
  })

describe("ChainImport with seal checks", () => {
  for (const prefetched of [false, true]) {
    it.effect(`stops at a block whose seal is rejected, keeping the blocks before it${prefetched ? " (seals prefetched)" : ""}`, () =>
      Effect.gen(function*() {
        const { verifier, checked } = recording()
        const prefetch = prefetched ? yield* SealPrefetch.make(verifier) : undefined
        const { failure, store } = yield* importWith(verifier, prefetch)
        expect(failure._tag).toBe("BlockRejected")
        if (failure._tag !== "BlockRejected") return
        expect([failure.position, failure.error.rule, failure.error.hash]).toEqual([39, "sealMixHash", Hash.toHex(bad.hash)])
        expect(failure.message).toMatch(/block 40 .* breaks the sealMixHash rule: seal rejected by the test$/)
        expect((yield* store.head).block.hash).toEqual(chain[38]!.hash)
        expect(new Set(checked).size).toBe(checked.length)
        const throughBad = chain.slice(0, 40).flatMap((b) => [b.header, ...b.uncles]).map((h) => Hash.toHex(h.hash))
        for (const hash of throughBad) expect(checked).toContain(hash)
        // Prefetched, the next batch's seals were being checked while the batch before it was inserted.
        expect(checked.includes(Hash.toHex(chain[63]!.hash))).toBe(prefetched)
        expect(checked.includes(Hash.toHex(chain[64]!.hash))).toBe(false)
      }))
  }

  it.effect("drops the prefetched verdicts of blocks found stored and of blocks never inserted", () =>
    Effect.gen(function*() {
      const { verifier, checked } = recording()
      const prefetch = yield* SealPrefetch.make(verifier)
      // Blocks 1..20 are stored: the batch of blocks 17..32 has its seals prefetched, but the store asks for 21..32 only.
      const { failure } = yield* importWith(verifier, prefetch, 20)
      expect(failure._tag).toBe("BlockRejected")
      expect(checked).toContain(Hash.toHex(chain[17]!.hash))
      // Block 51's batch was prefetched, then never inserted after block 40 was refused.
      expect(checked).toContain(Hash.toHex(chain[50]!.hash))
      checked.length = 0
      // Asked again, both are checked anew: no verdict of theirs was kept.
      yield* prefetch.verifier.verify([chain[17]!.header, chain[50]!.header])
      expect(checked).toEqual([chain[17]!, chain[50]!].map((block) => Hash.toHex(block.hash)))
    }))
})
