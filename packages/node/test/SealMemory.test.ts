/**
 * The remembering seal verifier: a header whose seal was found good is not checked again, a bad
 * one is checked (and refused) every time, and the oldest good ones are forgotten past the bound.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash, type Header, InvalidBlock, type SealVerifier } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect } from "effect"
import * as SealMemory from "../src/seal/SealMemory.ts"

/** A verifier that refuses the seals of `bad` and records every header it is asked to check. */
const counting = (bad: ReadonlySet<string>) => {
  const asked: Array<number> = []
  const verifier: SealVerifier.Shape = {
    name: "counting",
    verify: (headers: ReadonlyArray<Header.Header>) =>
      Effect.sync(() =>
        headers.map((header) => {
          asked.push(header.number)
          return bad.has(Hash.key(header.hash))
            ? new InvalidBlock.InvalidBlock({ rule: "sealMixHash", number: header.number, hash: Hash.toHex(header.hash), reason: "made up" })
            : undefined
        })
      )
  }
  return { verifier, asked }
}

describe("SealMemory", () => {
  it.effect("checks a good seal once, a bad one every time, and keeps the verdicts in order", () =>
    Effect.gen(function*() {
      const blocks = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 4)
      const headers = blocks.map((block) => block.header)
      const { verifier, asked } = counting(new Set([Hash.key(headers[2]!.hash)]))
      const remembering = SealMemory.remembering(verifier)
      const first = yield* remembering.verify(headers.slice(0, 3))
      expect(first.map((verdict) => verdict?._tag)).toEqual([undefined, undefined, "InvalidBlock"])
      const second = yield* remembering.verify(headers)
      expect(second.map((verdict) => verdict?._tag)).toEqual([undefined, undefined, "InvalidBlock", undefined])
      // Blocks 1 and 2 were checked once; block 3 (bad) twice; block 4 once.
      expect(asked).toEqual([1, 2, 3, 3, 4])
      expect(remembering.name).toBe("counting")
    }))

  it.effect("forgets the oldest good seals past its bound", () =>
    Effect.gen(function*() {
      const blocks = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 3)
      const headers = blocks.map((block) => block.header)
      const { verifier, asked } = counting(new Set())
      const remembering = SealMemory.remembering(verifier, 2)
      yield* remembering.verify(headers)
      yield* remembering.verify(headers)
      // Only blocks 2 and 3 were still remembered the second time.
      expect(asked).toEqual([1, 2, 3, 1])
    }))
})
