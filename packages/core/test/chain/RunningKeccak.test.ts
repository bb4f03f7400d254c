import { describe, expect, it } from "@effect/vitest"
import { keccak_256 } from "@noble/hashes/sha3.js"
import fc from "fast-check"
import * as RunningKeccak from "../../src/chain/RunningKeccak.ts"

/** Inputs around the 136-byte block, many blocks, and past the module's input area (22 KB). */
const input = fc.oneof(fc.uint8Array({ maxLength: 700 }), fc.uint8Array({ minLength: 20000, maxLength: 50000 }))

/** `bytes` cut at `cuts` (positions taken modulo its length, in order). */
const split = (bytes: Uint8Array, cuts: ReadonlyArray<number>): Array<Uint8Array> => {
  const at = [0, ...cuts.map((c) => (bytes.length === 0 ? 0 : c % (bytes.length + 1))).sort((a, b) => a - b), bytes.length]
  return at.slice(1).map((end, i) => bytes.subarray(at[i]!, end))
}

// The RLPx frame MACs run on this hash: a wrong digest after any split means every MAC is wrong.
describe("RunningKeccak", () => {
  it("equals @noble/hashes' keccak-256 on random splits of random inputs, digest after every piece (property)", () => {
    fc.assert(
      fc.property(input, fc.array(fc.nat(), { maxLength: 8 }), (bytes, cuts) => {
        const running = RunningKeccak.make()
        const reference = keccak_256.create()
        for (const piece of split(bytes, cuts)) {
          running.update(piece)
          reference.update(piece)
          expect(running.digest()).toEqual(reference.clone().digest())
        }
        expect(running.digest()).toEqual(keccak_256(bytes))
      }),
      { numRuns: 200 }
    )
  })

  it("a copy runs on independently of its original (property)", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.uint8Array({ maxLength: 400 }), fc.uint8Array({ maxLength: 400 }), (a, b, c) => {
        const original = RunningKeccak.make().update(a)
        const fork = original.copy().update(b)
        original.update(c)
        expect(fork.digest()).toEqual(keccak_256(Uint8Array.from([...a, ...b])))
        expect(original.digest()).toEqual(keccak_256(Uint8Array.from([...a, ...c])))
      })
    )
  })

  it("the empty input's digest is keccak-256 of nothing", () => {
    expect(Buffer.from(RunningKeccak.make().digest()).toString("hex")).toBe("c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
  })
})
