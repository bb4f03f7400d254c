/**
 * The eth/60-61 codec: every message round-trips, payloads made by an independent RLP library
 * decode as expected, each class of malformed payload gets its tagged error naming the field, and
 * no input makes the decoder throw.
 */
import { RLP } from "@ethereumjs/rlp"
import { Block, Hash, Hex, Rlp } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import fc from "fast-check"
import * as Arb from "../../../core/test/support/arbitraries.ts"
import * as EthMessage from "../../src/eth/EthMessage.ts"
import type { EthVersion } from "../../src/eth/EthVersion.ts"
import type { DecodeError } from "../../src/eth/MessageError.ts"
import * as TestChain from "../TestChain.ts"

/** A message as plain data (hex for bytes, a block as its hash and bytes), to compare messages. */
const show = (value: unknown): unknown =>
  value instanceof Block.Block
    ? { hash: Hash.toHex(value.hash), rlp: Hex.fromBytes(value.rlp) }
    : value instanceof Uint8Array
    ? Hex.fromBytes(value)
    : typeof value === "bigint"
    ? `${value}n`
    : Array.isArray(value)
    ? value.map(show)
    : typeof value === "object" && value !== null
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, show(v)]))
    : value

/** Decodes a payload, expecting success. */
const decoded = (version: EthVersion, code: number, payload: Uint8Array): EthMessage.EthMessage => {
  const result = EthMessage.decode(version, code, payload)
  if (Result.isFailure(result)) throw new Error(`expected ${code} to decode: ${result.failure.message}`)
  return result.success
}

/** Decodes a payload, expecting failure. */
const refused = (version: EthVersion, code: number, payload: Uint8Array): DecodeError => {
  const result = EthMessage.decode(version, code, payload)
  if (Result.isSuccess(result)) throw new Error(`expected ${code} to be refused, got ${result.success._tag}`)
  return result.failure
}

const uint32 = fc.integer({ min: 0, max: 2 ** 32 - 1 })

/** Any message the encoder can write. */
const message: fc.Arbitrary<EthMessage.EthMessage> = fc.oneof(
  fc.record({ protocolVersion: uint32, networkId: uint32, td: Arb.uint(32), bestHash: Arb.hash, genesisHash: Arb.hash })
    .map(EthMessage.Status),
  fc.array(Arb.hash, { maxLength: 20 }).map((hashes) => EthMessage.NewBlockHashes({ hashes })),
  fc.array(Arb.transaction, { maxLength: 5 }).map((transactions) => EthMessage.Transactions({ transactions })),
  fc.record({ hash: Arb.hash, max: fc.maxSafeNat() }).map(EthMessage.GetBlockHashes),
  fc.array(Arb.hash, { maxLength: 20 }).map((hashes) => EthMessage.BlockHashes({ hashes })),
  fc.array(Arb.hash, { maxLength: 20 }).map((hashes) => EthMessage.GetBlocks({ hashes })),
  fc.array(Arb.block, { maxLength: 3 }).map((blocks) => EthMessage.Blocks({ blocks })),
  fc.record({ block: Arb.block, td: Arb.uint(32) }).map(EthMessage.NewBlock),
  fc.record({ number: fc.maxSafeNat(), amount: fc.maxSafeNat() }).map(EthMessage.GetBlockHashesFromNumber)
)

describe("EthMessage round trips", () => {
  it("every message decodes to itself under eth/61 and re-encodes to the same bytes; eth/60 lacks only GetBlockHashesFromNumber", () => {
    fc.assert(
      fc.property(message, (original) => {
        const encoded = EthMessage.encode(original)
        expect(encoded.code).toBe(EthMessage.codes[original._tag])
        const back = decoded(61, encoded.code, encoded.payload)
        expect(show(back)).toEqual(show(original))
        expect(Hex.fromBytes(EthMessage.encode(back).payload)).toBe(Hex.fromBytes(encoded.payload))
        if (original._tag === "GetBlockHashesFromNumber") {
          expect(refused(60, encoded.code, encoded.payload)._tag).toBe("UnknownMessageCode")
        } else {
          expect(show(decoded(60, encoded.code, encoded.payload))).toEqual(show(original))
        }
      }),
      { numRuns: 300 }
    )
  })

  it("a Blocks message from stored bytes is the same message as one from decoded blocks", () => {
    fc.assert(
      fc.property(fc.array(Arb.block, { maxLength: 4 }), (blocks) => {
        const fromBytes = EthMessage.encodeStoredBlocks(blocks.map((b) => Block.encode(b)))
        const fromBlocks = EthMessage.encode(EthMessage.Blocks({ blocks }))
        expect([fromBytes.code, Hex.fromBytes(fromBytes.payload)]).toEqual([fromBlocks.code, Hex.fromBytes(fromBlocks.payload)])
      }),
      { numRuns: 50 }
    )
  })

  it.effect("a Blocks message of 10 MiB decodes into its blocks, each hashed from its bytes", () =>
    Effect.gen(function*() {
      const generated = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 1000, { transactions: true, uncles: true })
      const blocks: Array<Block.Block> = []
      let size = 0
      for (let i = 0; size + generated[i % 1000]!.rlp.length <= EthMessage.maxPayload - 4; i++) {
        blocks.push(generated[i % 1000]!)
        size += generated[i % 1000]!.rlp.length
      }
      const { payload } = EthMessage.encode(EthMessage.Blocks({ blocks }))
      expect(payload.length).toBeGreaterThan(EthMessage.maxPayload - 2048)
      expect(payload.length).toBeLessThanOrEqual(EthMessage.maxPayload)
      const back = decoded(61, EthMessage.codes.Blocks, payload)
      expect(back._tag === "Blocks" && back.blocks.map((b) => Hash.toHex(b.hash))).toEqual(blocks.map((b) => Hash.toHex(b.hash)))
    }))
})

describe("EthMessage against an independent RLP encoder", () => {
  const best = Hash.keccak(Uint8Array.of(1))
  const genesis = Hash.keccak(Uint8Array.of(2))

  it("reads a Status written as go-ethereum 1.0 writes it, and writes one that decodes to the same fields", () => {
    const payload = RLP.encode([61, 1, 17179869184n, best, genesis])
    const status = decoded(61, 0x00, payload)
    expect(show(status)).toEqual(show(EthMessage.Status({ protocolVersion: 61, networkId: 1, td: 17179869184n, bestHash: best, genesisHash: genesis })))
    expect(Hex.fromBytes(EthMessage.encode(status).payload)).toBe(Hex.fromBytes(payload))
  })

  it("reads the requests and hash lists it writes", () => {
    const cases: ReadonlyArray<readonly [number, Uint8Array, EthMessage.EthMessage]> = [
      [0x03, RLP.encode([best, 512]), EthMessage.GetBlockHashes({ hash: best, max: 512 })],
      [0x08, RLP.encode([0, 512]), EthMessage.GetBlockHashesFromNumber({ number: 0, amount: 512 })],
      [0x05, RLP.encode([best, genesis]), EthMessage.GetBlocks({ hashes: [best, genesis] })],
      [0x04, RLP.encode([]), EthMessage.BlockHashes({ hashes: [] })],
      [0x01, RLP.encode([genesis]), EthMessage.NewBlockHashes({ hashes: [genesis] })]
    ]
    for (const [code, payload, expected] of cases) {
      expect(show(decoded(61, code, payload))).toEqual(show(expected))
      expect(Hex.fromBytes(EthMessage.encode(expected).payload)).toBe(Hex.fromBytes(payload))
    }
  })
})

describe("EthMessage refuses malformed payloads with a tagged error naming what was wrong", () => {
  const hash = Hash.keccak(Uint8Array.of(3))
  const block = TestChain.extend(TestChain.genesis(), 1)[0]!
  /** The block's RLP with its header's difficulty written with a leading zero byte. */
  const badDifficulty = (() => {
    const fields = RLP.decode(block.header.rlp) as Array<Uint8Array>
    fields[7] = Uint8Array.of(0, ...fields[7]!)
    return RLP.encode([fields, [], []])
  })()
  const status = (fields: ReadonlyArray<unknown>) => RLP.encode(fields as Parameters<typeof RLP.encode>[0])
  const concat = (...parts: ReadonlyArray<Uint8Array>) => Uint8Array.from(parts.flatMap((p) => [...p]))

  it("a code the negotiated version does not have", () => {
    for (const [version, code] of [[60, 0x08], [61, 0x09], [61, 0x10], [61, -1], [60, 1.5]] as const) {
      const error = refused(version, code, RLP.encode([]))
      expect(error._tag).toBe("UnknownMessageCode")
      expect(error.message).toContain(`eth/${version}`)
    }
  })

  it("a payload over 10 MiB, before reading any of it", () => {
    const error = refused(61, 0x06, new Uint8Array(EthMessage.maxPayload + 1))
    expect(error).toMatchObject({ _tag: "MessageTooLarge", code: 0x06, size: EthMessage.maxPayload + 1, limit: EthMessage.maxPayload })
  })

  /** [what, version, code, payload, message kind, field, words in the reason] */
  const cases: ReadonlyArray<readonly [string, EthVersion, number, Uint8Array, string, string, string]> = [
    ["not RLP: a list longer than the payload", 61, 0x05, Uint8Array.of(0xc5, 0xa0), "GetBlocks", "payload", "not RLP"],
    ["not RLP: bytes after the item", 61, 0x04, Uint8Array.of(0xc0, 0xc0), "BlockHashes", "payload", "1 bytes follow"],
    ["not RLP: a non-canonical length", 61, 0x00, Uint8Array.of(0xf8, 0x01, 0x05), "Status", "payload", "short form"],
    ["a byte string where a list belongs", 61, 0x01, RLP.encode(hash), "NewBlockHashes", "payload", "expected a list"],
    ["a Status of 4 fields", 61, 0x00, status([61, 1, 5, hash]), "Status", "payload", "expected 5 fields"],
    ["a Status of 6 fields", 61, 0x00, status([61, 1, 5, hash, hash, 0]), "Status", "payload", "got 6"],
    ["a Status version that is a list", 61, 0x00, status([[61], 1, 5, hash, hash]), "Status", "protocolVersion", "got a list"],
    ["a network id over 32 bits", 61, 0x00, status([61, 2n ** 32n, 5, hash, hash]), "Status", "networkId", "exceeds 4"],
    ["a TD with a leading zero", 61, 0x00, status([61, 1, Uint8Array.of(0, 5), hash, hash]), "Status", "td", "not minimal"],
    ["a TD over 256 bits", 61, 0x00, status([61, 1, 2n ** 256n, hash, hash]), "Status", "td", "exceeds 32"],
    ["a 31-byte head hash", 61, 0x00, status([61, 1, 5, hash.subarray(1), hash]), "Status", "bestHash", "got 31 bytes"],
    ["a genesis hash that is a list", 61, 0x00, status([61, 1, 5, hash, [hash]]), "Status", "genesisHash", "got a list"],
    ["a 33-byte hash in a list", 61, 0x05, RLP.encode([hash, hash, concat(hash, Uint8Array.of(1))]), "GetBlocks", "hashes[2]", "got 33 bytes"],
    ["a non-canonical item in a hash list", 61, 0x04, concat(Uint8Array.of(0xe3), RLP.encode(hash).subarray(0, 33), Uint8Array.of(0x81, 0x05)), "BlockHashes", "hashes[1]", "single byte below 0x80"],
    ["a GetBlockHashes without max", 61, 0x03, RLP.encode([hash]), "GetBlockHashes", "payload", "expected 2 fields"],
    ["a max over 64 bits", 61, 0x03, RLP.encode([hash, 2n ** 64n]), "GetBlockHashes", "max", "exceeds 8"],
    ["a max beyond 2^53 - 1", 61, 0x03, RLP.encode([hash, 2n ** 60n]), "GetBlockHashes", "max", "beyond 2^53 - 1"],
    ["a block number with a leading zero", 61, 0x08, RLP.encode([Uint8Array.of(0, 1), 5]), "GetBlockHashesFromNumber", "number", "not minimal"],
    ["an amount that is a list", 61, 0x08, RLP.encode([1, []]), "GetBlockHashesFromNumber", "amount", "got a list"],
    ["a block that is a byte string", 61, 0x06, RLP.encode([block.rlp.subarray(0, 3)]), "Blocks", "blocks[0]", "got a byte string"],
    ["a block header field out of form", 61, 0x06, Rlp.encodeList([block.rlp, badDifficulty]), "Blocks", "blocks[1].header.difficulty", "not minimal"],
    ["a block of 2 parts", 60, 0x06, Rlp.encodeList([Rlp.encodeList([block.header.rlp, Rlp.encodeList([])])]), "Blocks", "blocks[0]", "expected 3 items"],
    ["a NewBlock without its TD", 60, 0x07, Rlp.encodeList([block.rlp]), "NewBlock", "payload", "expected 2 fields"],
    ["a NewBlock whose block is malformed", 61, 0x07, Rlp.encodeList([badDifficulty, Rlp.encodeInteger(5)]), "NewBlock", "block.header.difficulty", "not minimal"],
    ["a NewBlock TD with a leading zero", 61, 0x07, Rlp.encodeList([block.rlp, Uint8Array.of(0x82, 0, 1)]), "NewBlock", "td", "not minimal"],
    ["a transaction with a malformed item inside", 61, 0x02, Uint8Array.of(0xc4, 0xc3, 0xc2, 0x81, 0x05), "Transactions", "transactions[0]", "single byte below 0x80"],
    ["Transactions as a byte string", 61, 0x02, Uint8Array.of(0x80), "Transactions", "payload", "expected a list"]
  ]
  for (const [what, version, code, payload, kind, field, reason] of cases) {
    it(what, () => {
      const error = refused(version, code, payload)
      expect(error._tag).toBe("MalformedMessage")
      expect(error).toMatchObject({ kind, field })
      expect(error.message).toContain(reason)
    })
  }

  it("a transaction is opaque but must be well-formed RLP, however deeply nested", () => {
    let nested: unknown = []
    for (let i = 0; i < 50; i++) nested = [nested]
    const back = decoded(61, 0x02, RLP.encode([nested as Parameters<typeof RLP.encode>[0], Uint8Array.of(7)]))
    expect(back._tag === "Transactions" && back.transactions.length).toBe(2)
  })
})

describe("EthMessage never throws", () => {
  const versions = fc.constantFrom<EthVersion>(60, 61)

  it("on any bytes under any code, and whatever it accepts is canonical: it re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(versions, fc.integer({ min: 0, max: 9 }), fc.uint8Array({ maxLength: 400 }), (version, code, payload) => {
        const result = EthMessage.decode(version, code, payload)
        if (Result.isSuccess(result)) expect(Hex.fromBytes(EthMessage.encode(result.success).payload)).toBe(Hex.fromBytes(payload))
      }),
      { numRuns: 2000 }
    )
  })

  it("on valid messages with bytes changed or cut off", () => {
    const damaged = message.chain((original) => {
      const { code, payload } = EthMessage.encode(original)
      return fc.tuple(
        fc.constant(code),
        fc.constant(payload),
        fc.array(fc.tuple(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
        fc.nat(payload.length)
      )
    })
    fc.assert(
      fc.property(damaged, ([code, payload, flips, cut]) => {
        const bytes = payload.slice(0, cut)
        for (const [at, mask] of flips) if (at < bytes.length) bytes[at]! ^= mask
        const result = EthMessage.decode(61, code, bytes)
        if (Result.isSuccess(result)) expect(Hex.fromBytes(EthMessage.encode(result.success).payload)).toBe(Hex.fromBytes(bytes))
      }),
      { numRuns: 1000 }
    )
  })
})
