/**
 * The Status check and the version negotiation: a peer on another version, network or chain is
 * told apart by the field that differs.
 */
import { Hash } from "@ethsync/core"
import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import * as EthMessage from "../../src/eth/EthMessage.ts"
import * as EthVersion from "../../src/eth/EthVersion.ts"
import * as StatusCheck from "../../src/eth/StatusCheck.ts"

const mainnetGenesis = Hash.fromHex("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3").pipe(Result.getOrThrow)
const ours = EthMessage.Status({
  protocolVersion: 61,
  networkId: 1,
  td: 17179869184n,
  bestHash: mainnetGenesis,
  genesisHash: mainnetGenesis
})

describe("StatusCheck", () => {
  it("accepts a peer on the same version, network and genesis, whatever its head and TD", () => {
    const theirs = EthMessage.Status({ ...ours, td: 10n ** 20n, bestHash: Hash.keccak(Uint8Array.of(1)) })
    expect(Result.getOrThrow(StatusCheck.check(ours, theirs))).toBe(theirs)
  })

  it("names the first field that differs, with both values", () => {
    const otherGenesis = Hash.keccak(Uint8Array.of(9))
    const cases = [
      [{ protocolVersion: 60 }, "protocolVersion", "61", "60"],
      [{ networkId: 2, genesisHash: otherGenesis }, "networkId", "1", "2"],
      [{ genesisHash: otherGenesis }, "genesisHash", Hash.toHex(mainnetGenesis), Hash.toHex(otherGenesis)]
    ] as const
    for (const [change, field, mine, theirs] of cases) {
      const result = StatusCheck.check(ours, EthMessage.Status({ ...ours, ...change }))
      expect(Result.isFailure(result) && result.failure).toMatchObject({ _tag: "StatusMismatch", field, ours: mine, theirs })
      expect(Result.isFailure(result) && result.failure.message).toContain(`${field} ${theirs}`)
    }
  })
})

describe("EthVersion", () => {
  it("offers 61 then 60, with 9 and 8 codes", () => {
    expect(EthVersion.supported).toEqual([61, 60])
    expect([EthVersion.codeCount(61), EthVersion.codeCount(60)]).toEqual([9, 8])
  })

  it("picks the highest version both sides offer, or none", () => {
    expect(EthVersion.highestShared([60, 61, 62, 63])).toBe(61)
    expect(EthVersion.highestShared([60, 62])).toBe(60)
    expect(EthVersion.highestShared([62, 63, 64])).toBeUndefined()
    expect(EthVersion.highestShared([])).toBeUndefined()
  })
})
