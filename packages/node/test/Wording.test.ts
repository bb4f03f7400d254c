/**
 * Numbers in text for people: whole counts with thousands separators, and plurals.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Wording from "../src/Wording.ts"

describe("Wording", () => {
  it("writes counts whole, rounded, with thousands separators", () => {
    expect(Wording.count(20000)).toBe("20,000")
    expect(Wording.count(1234.5)).toBe("1,235")
    expect(Wording.count(9801.2)).toBe("9,801")
    expect(Wording.count(0)).toBe("0")
  })

  it("puts the noun in the plural unless the count is 1", () => {
    expect(Wording.plural(1, "block")).toBe("1 block")
    expect(Wording.plural(0, "block")).toBe("0 blocks")
    expect(Wording.plural(20000, "block")).toBe("20,000 blocks")
  })
})
