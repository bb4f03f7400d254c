import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import * as Hash from "../../src/chain/Hash.ts"

const genesis = "0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3"

// Hashes as users and JSON see them: 0x + 64 hex digits in, the same text out; anything else refused.
describe("Hash hex and keys", () => {
  it("parses 0x-hex of 32 bytes and formats it back as lowercase", () => {
    const parsed = Hash.fromHex(genesis.toUpperCase().replace("0X", "0x"))
    if (Result.isFailure(parsed)) return expect.fail(parsed.failure.message)
    expect(parsed.success.length).toBe(32)
    expect(Hash.toHex(parsed.success)).toBe(genesis)
  })

  it.each([
    ["no 0x prefix", genesis.slice(2)],
    ["63 digits", genesis.slice(0, -1)],
    ["65 digits", genesis + "0"],
    ["a non-hex digit", genesis.slice(0, -1) + "g"]
  ])("refuses %s with a SchemaError", (_, text) => {
    const parsed = Hash.fromHex(text)
    expect(Result.isFailure(parsed)).toBe(true)
  })

  it("keys are one per hash: key and fromKey round-trip, distinct hashes get distinct keys (property)", () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (a, b) => {
      const x = Hash.makeUnsafe(a)
      const y = Hash.makeUnsafe(b)
      expect(Hash.equals(Hash.fromKey(Hash.key(x)), x)).toBe(true)
      expect(Hash.key(x) === Hash.key(y)).toBe(Hash.equals(x, y))
    }))
  })
})
