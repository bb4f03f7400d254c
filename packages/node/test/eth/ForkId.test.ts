/**
 * The EIP-2124 fork id: mainnet's at a few heights (the EIP's own figures), the validation rules
 * for a Frontier node that knows Homestead as its next fork, the eth/62-68 Status check built on
 * them, and the version table.
 */
import { Hash, Hex } from "@ethsync/core"
import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import * as ForkId from "../../src/eth/ForkId.ts"
import * as HeaderFirstMessage from "../../src/eth/HeaderFirstMessage.ts"
import * as HeaderFirstStatusCheck from "../../src/eth/HeaderFirstStatusCheck.ts"
import * as HeaderFirstVersion from "../../src/eth/HeaderFirstVersion.ts"

const mainnetGenesis = Hash.fromHex("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3").pipe(Result.getOrThrow)

/** A fork id from its checksum in hex and its next fork. */
const id = (hash: string, next: bigint): ForkId.ForkId => {
  const bytes = Hex.toBytes(hash)
  if (bytes === undefined) throw new Error(`not hex: ${hash}`)
  return { hash: bytes, next }
}

/** A fork id as plain data, to compare. */
const show = (forkId: ForkId.ForkId) => [Hex.fromBytes(forkId.hash), forkId.next]

describe("ForkId.make", () => {
  it("mainnet below Homestead is 0xfc64ec04 with Homestead (1,150,000) next, at any height", () => {
    for (const head of [0n, 1n, 8191n, 1_149_999n]) expect(show(ForkId.make(mainnetGenesis, head))).toEqual(["0xfc64ec04", 1_150_000n])
  })

  it("mainnet from Homestead on is the EIP's 0x97c2c34c, with no next fork that ethsync knows", () => {
    for (const head of [1_150_000n, 1_919_999n, 20_000_000n]) expect(show(ForkId.make(mainnetGenesis, head))).toEqual(["0x97c2c34c", 0n])
  })

  it("another genesis gives another checksum, and a chain with no forks announces none", () => {
    const other = Hash.keccak(Uint8Array.of(1))
    expect(Hex.fromBytes(ForkId.make(other, 0n).hash)).not.toBe("0xfc64ec04")
    expect(show(ForkId.make(mainnetGenesis, 5n, []))).toEqual(["0xfc64ec04", 0n])
  })
})

describe("ForkId.check by the EIP-2124 rules", () => {
  const frontier = "0xfc64ec04"
  const homestead = "0x97c2c34c"
  /** [what, our head, their id, accepted] */
  const cases: ReadonlyArray<readonly [string, bigint, ForkId.ForkId, boolean]> = [
    ["the same fork state and the same next fork", 0n, id(frontier, 1_150_000n), true],
    ["the same fork state, the peer knowing no next fork", 8191n, id(frontier, 0n), true],
    ["the same fork state, a next fork we have not reached", 100n, id(frontier, 200n), true],
    ["the same fork state, a next fork our chain has passed", 300n, id(frontier, 200n), false],
    ["a later fork state we know: we are syncing", 0n, id(homestead, 1_920_000n), true],
    ["an older fork state whose next fork is the one we passed: the peer is syncing", 1_150_000n, id(frontier, 1_150_000n), true],
    ["an older fork state that missed the fork we passed", 1_150_000n, id(frontier, 0n), false],
    ["an older fork state with another next fork", 1_200_000n, id(frontier, 1_100_000n), false],
    ["a checksum of no fork state of ours", 0n, id("0xafec6b27", 0n), false],
    ["a checksum of another genesis", 0n, ForkId.make(Hash.keccak(Uint8Array.of(1)), 0n), false]
  ]
  for (const [what, head, theirs, accepted] of cases) {
    it(`${accepted ? "accepts" : "refuses"} ${what}`, () => {
      const result = ForkId.check(mainnetGenesis, head, theirs)
      expect(Result.isSuccess(result)).toBe(accepted)
      if (Result.isFailure(result)) {
        expect(result.failure).toMatchObject({ _tag: "ForkIdRejected", hash: Hex.fromBytes(theirs.hash), next: theirs.next })
        expect(result.failure.message).toContain("refused")
      }
    })
  }

  it("accepts its own fork id at every height around the fork", () => {
    for (const head of [0n, 1_149_999n, 1_150_000n, 2_000_000n]) {
      expect(Result.isSuccess(ForkId.check(mainnetGenesis, head, ForkId.make(mainnetGenesis, head)))).toBe(true)
    }
  })
})

describe("HeaderFirstStatusCheck", () => {
  const ours = HeaderFirstMessage.Status({
    protocolVersion: 66,
    networkId: 1,
    td: 17179869184n,
    bestHash: mainnetGenesis,
    genesisHash: mainnetGenesis,
    forkId: ForkId.make(mainnetGenesis, 0n)
  })

  it("accepts a peer on the same version, network, genesis and a compatible fork id", () => {
    const theirs = HeaderFirstMessage.Status({ ...ours, td: 10n ** 20n, forkId: id("0x97c2c34c", 0n) })
    expect(Result.getOrThrow(HeaderFirstStatusCheck.check(ours, theirs, 0n))).toBe(theirs)
  })

  it("names a version, network or genesis mismatch first, as eth/60-61 do", () => {
    const result = HeaderFirstStatusCheck.check(ours, HeaderFirstMessage.Status({ ...ours, networkId: 5, forkId: id("0x00000000", 0n) }), 0n)
    expect(Result.isFailure(result) && result.failure).toMatchObject({ _tag: "StatusMismatch", field: "networkId", theirs: "5" })
  })

  it("refuses an incompatible fork id, and a missing one where ours is sent", () => {
    const stale = HeaderFirstStatusCheck.check(ours, HeaderFirstMessage.Status({ ...ours, forkId: id("0xfc64ec04", 1n) }), 5n)
    expect(Result.isFailure(stale) && stale.failure._tag).toBe("ForkIdRejected")
    const missing = HeaderFirstStatusCheck.check(ours, HeaderFirstMessage.Status({ ...ours, forkId: undefined }), 0n)
    expect(Result.isFailure(missing) && missing.failure.message).toContain("no fork id")
  })

  it("checks no fork id before eth/64", () => {
    const old = HeaderFirstMessage.Status({ ...ours, protocolVersion: 63, forkId: undefined })
    expect(Result.isSuccess(HeaderFirstStatusCheck.check(old, old, 5_000_000n))).toBe(true)
  })
})

describe("HeaderFirstVersion", () => {
  it("offers 68, 67 and 66; eth/62 has 8 codes and later versions 17", () => {
    expect(HeaderFirstVersion.supported).toEqual([68, 67, 66])
    expect(HeaderFirstVersion.all.map(HeaderFirstVersion.codeCount)).toEqual([17, 17, 17, 17, 17, 17, 8])
  })

  it("picks the highest version both sides offer, or none", () => {
    expect(HeaderFirstVersion.highestShared([66, 67, 68, 69])).toBe(68)
    expect(HeaderFirstVersion.highestShared([60, 61, 66])).toBe(66)
    expect(HeaderFirstVersion.highestShared([62, 63, 64, 65, 61])).toBeUndefined()
    expect([HeaderFirstVersion.is(62), HeaderFirstVersion.is(61), HeaderFirstVersion.is(69)]).toEqual([true, false, false])
  })
})
