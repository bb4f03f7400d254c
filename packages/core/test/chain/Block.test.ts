import { RLP } from "@ethereumjs/rlp"
import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import * as Block from "../../src/chain/Block.ts"
import { BlockDecodeError } from "../../src/chain/BlockDecodeError.ts"
import * as Bytes from "../../src/chain/Bytes.ts"
import * as Genesis from "../../src/chain/Genesis.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Header from "../../src/chain/Header.ts"
import * as Arb from "../support/arbitraries.ts"
import { childBlock, childHeader, fieldsOf, hex, transaction } from "../support/chain.ts"
import { load, rlpPath } from "../support/mainnet.ts"

/** The 15 fields encoded by the reference encoder (@ethereumjs/rlp), one item each, in wire order. */
const encodedFields = (f: Header.Fields): Array<Uint8Array> => [
  RLP.encode(f.parentHash),
  RLP.encode(f.uncleHash),
  RLP.encode(f.coinbase),
  RLP.encode(f.stateRoot),
  RLP.encode(f.transactionsRoot),
  RLP.encode(f.receiptsRoot),
  RLP.encode(f.logsBloom),
  RLP.encode(f.difficulty),
  RLP.encode(BigInt(f.number)),
  RLP.encode(f.gasLimit),
  RLP.encode(f.gasUsed),
  RLP.encode(f.timestamp),
  RLP.encode(f.extraData),
  RLP.encode(f.mixHash),
  RLP.encode(f.nonce)
]

/** Bytes and byte values, one after the other. */
const concat = (...parts: ReadonlyArray<Uint8Array | ReadonlyArray<number>>): Uint8Array =>
  Bytes.concat(parts.map((p) => Uint8Array.from(p)))

/** Wraps raw items in a canonical list prefix (they are not re-encoded, so they may be malformed). */
const list = (...items: ReadonlyArray<Uint8Array>): Uint8Array => {
  const payload = concat(...items)
  const n = payload.length
  if (n < 56) return concat([0xc0 + n], payload)
  if (n < 256) return concat([0xf8, n], payload)
  return concat([0xf9, n >> 8, n & 0xff], payload)
}

/** A valid header with every integer field non-zero and 32 bytes of extraData, so each can be spoilt. */
const base: Header.Fields = {
  ...fieldsOf(childHeader(Genesis.mainnet.header, { extraData: new Uint8Array(32).fill(7) })),
  gasUsed: 21000n,
  coinbase: new Uint8Array(20).fill(0xcb)
}

/** A block from raw header fields (each an encoded item), with optional raw transactions and uncles. */
const blockFrom = (
  headerItems: ReadonlyArray<Uint8Array>,
  transactions: ReadonlyArray<Uint8Array> = [],
  uncles: ReadonlyArray<Uint8Array> = []
): Uint8Array => list(list(...headerItems), list(...transactions), list(...uncles))

/** The header items of `base` with item `i` replaced by `item`. */
const withField = (i: number, item: Uint8Array): Array<Uint8Array> => encodedFields(base).map((f, j) => (j === i ? item : f))

/** The decode error of bytes that must not decode. */
const decodeError = (bytes: Uint8Array): BlockDecodeError => {
  const result = Block.decode(bytes)
  if (Result.isSuccess(result)) throw new Error("expected a BlockDecodeError, but the bytes decoded")
  expect(result.failure).toBeInstanceOf(BlockDecodeError)
  expect(result.failure._tag).toBe("BlockDecodeError")
  return result.failure
}

const F = {
  parentHash: 0, uncleHash: 1, coinbase: 2, stateRoot: 3, transactionsRoot: 4, receiptsRoot: 5, logsBloom: 6,
  difficulty: 7, number: 8, gasLimit: 9, gasUsed: 10, timestamp: 11, extraData: 12, mixHash: 13, nonce: 14
} as const

/** Real blocks to spoil: the genesis, a block with uncles and transactions, and real blocks with uncles. */
const samples: ReadonlyArray<Uint8Array> = (() => {
  const uncle = childHeader(Genesis.mainnet.header, { extraData: Uint8Array.of(1) })
  const withBody = childBlock(Genesis.mainnet, { uncles: [uncle, uncle], transactions: [transaction(0n), transaction(1n, new Uint8Array(70))] })
  const out = [Genesis.mainnet.rlp, withBody.rlp]
  if (rlpPath !== undefined) {
    const withUncles = load().blocks.filter((b) => b.uncles.length === 2).slice(0, 3)
    for (const b of withUncles) out.push(b.rlp)
  }
  return out
})()

// Protects strict decoding: each malformation is refused with a BlockDecodeError naming the field at fault.
describe("Block.decode strictness", () => {
  it("the unspoilt base block decodes, and to the same bytes as the reference encoder gives", () => {
    const bytes = blockFrom(encodedFields(base))
    const block = Result.getOrThrow(Block.decode(bytes))
    expect(hex(Block.encode(block))).toBe(hex(bytes))
    expect(hex(Header.make(base).rlp)).toBe(hex(block.header.rlp))
    expect(block.header.extraData.length).toBe(32)
  })

  const cases: ReadonlyArray<readonly [string, Uint8Array, string]> = [
    ["a header of 14 fields", blockFrom(encodedFields(base).slice(0, 14)), "header"],
    ["a header of 16 fields", blockFrom([...encodedFields(base), RLP.encode(Uint8Array.of(1))]), "header"],
    ["a header that is a byte string", list(RLP.encode(new Uint8Array(40)), list(), list()), "header"],
    ["a 31-byte parentHash", blockFrom(withField(F.parentHash, RLP.encode(new Uint8Array(31)))), "header.parentHash"],
    ["a 33-byte parentHash", blockFrom(withField(F.parentHash, RLP.encode(new Uint8Array(33)))), "header.parentHash"],
    ["a 31-byte uncleHash", blockFrom(withField(F.uncleHash, RLP.encode(new Uint8Array(31)))), "header.uncleHash"],
    ["a 21-byte coinbase", blockFrom(withField(F.coinbase, RLP.encode(new Uint8Array(21)))), "header.coinbase"],
    ["a 19-byte coinbase", blockFrom(withField(F.coinbase, RLP.encode(new Uint8Array(19)))), "header.coinbase"],
    ["a 255-byte logsBloom", blockFrom(withField(F.logsBloom, RLP.encode(new Uint8Array(255)))), "header.logsBloom"],
    ["a 9-byte nonce", blockFrom(withField(F.nonce, RLP.encode(new Uint8Array(9)))), "header.nonce"],
    ["a mixHash that is a list", blockFrom(withField(F.mixHash, list(RLP.encode(new Uint8Array(32))))), "header.mixHash"],
    ["a number that is a list", blockFrom(withField(F.number, list())), "header.number"],
    ["33 bytes of extraData", blockFrom(withField(F.extraData, RLP.encode(new Uint8Array(33)))), "header.extraData"],
    ["an extraData that is a list", blockFrom(withField(F.extraData, list())), "header.extraData"],
    ["a difficulty with a leading zero", blockFrom(withField(F.difficulty, RLP.encode(concat([0], RLP.encode(base.difficulty).subarray(1))))), "header.difficulty"],
    ["a number with a leading zero (0x0001)", blockFrom(withField(F.number, RLP.encode(Uint8Array.of(0, 1)))), "header.number"],
    ["a gasUsed of zero written 0x00 instead of the empty string", blockFrom(withField(F.gasUsed, Uint8Array.of(0x00))), "header.gasUsed"],
    ["a 9-byte timestamp", blockFrom(withField(F.timestamp, RLP.encode(new Uint8Array(9).fill(1)))), "header.timestamp"],
    ["a 9-byte gasLimit", blockFrom(withField(F.gasLimit, RLP.encode(new Uint8Array(9).fill(1)))), "header.gasLimit"],
    ["a 33-byte difficulty", blockFrom(withField(F.difficulty, RLP.encode(new Uint8Array(33).fill(1)))), "header.difficulty"],
    ["a number of 2^53, beyond a safe integer", blockFrom(withField(F.number, RLP.encode(2n ** 53n))), "header.number"],
    // Non-canonical RLP inside the header, named by the field it sits in.
    ["a number written 0x81 0x05 (a prefixed byte below 0x80)", blockFrom(withField(F.number, Uint8Array.of(0x81, 0x05))), "header.number"],
    ["an extraData of 32 bytes in the long form (0xb8 0x20)", blockFrom(withField(F.extraData, concat([0xb8, 32], new Uint8Array(32)))), "header.extraData"],
    ["a logsBloom length with a leading zero (0xba 0x00 0x01 0x00)", blockFrom(withField(F.logsBloom, concat([0xba, 0x00, 0x01, 0x00], new Uint8Array(256)))), "header.logsBloom"],
    ["a field that runs past the end of the header", blockFrom([...encodedFields(base).slice(0, 14), Uint8Array.of(0x88, 1, 2, 3)]), "header.nonce"],
    // The block list itself.
    ["a block list of 2 items", list(list(...encodedFields(base)), list()), "block"],
    ["a block list of 4 items", list(list(...encodedFields(base)), list(), list(), list()), "block"],
    ["a block that is a byte string", RLP.encode(new Uint8Array(600)), "block"],
    ["a block list whose length has a leading zero", (() => {
      const good = blockFrom(encodedFields(base))
      const payload = good.subarray(3)
      return concat([0xfa, 0x00, good[1]!, good[2]!], payload)
    })(), "block"],
    ["a block list in the long form with a length under 56", concat([0xf8, 3], list(), list(), list()), "block"],
    ["a block list truncated by one byte", blockFrom(encodedFields(base)).subarray(0, -1), "block"],
    ["a block followed by a trailing byte", concat(blockFrom(encodedFields(base)), [0x00]), "block"],
    ["a block followed by a second block", concat(Genesis.mainnet.rlp, Genesis.mainnet.rlp), "block"],
    ["no bytes at all", new Uint8Array(0), "block"],
    // The body.
    ["a transaction list that is a byte string", list(list(...encodedFields(base)), RLP.encode(Uint8Array.of(1, 2)), list()), "transactions"],
    ["a transaction of 8 fields", blockFrom(encodedFields(base), [list(...Array.from({ length: 8 }, () => RLP.encode(Uint8Array.of(1))))]), "transactions[0]"],
    ["a transaction that is a byte string", blockFrom(encodedFields(base), [transaction(0n), RLP.encode(Uint8Array.of(9, 9))]), "transactions[1]"],
    ["a transaction with a non-canonical field inside", blockFrom(encodedFields(base), [list(...Array.from({ length: 9 }, (_, i) => (i === 5 ? Uint8Array.of(0x81, 0x01) : RLP.encode(1n))))]), "transactions[0]"],
    ["an uncle list that is a byte string", list(list(...encodedFields(base)), list(), RLP.encode(Uint8Array.of(1, 2))), "uncles"],
    ["an uncle with a 7-byte nonce", blockFrom(encodedFields(base), [], [list(...withField(F.nonce, RLP.encode(new Uint8Array(7))))]), "uncles[0].nonce"],
    ["a second uncle of 14 fields", blockFrom(encodedFields(base), [], [list(...encodedFields(base)), list(...encodedFields(base).slice(1))]), "uncles[1]"],
    ["an uncle with 33 bytes of extraData", blockFrom(encodedFields(base), [], [list(...withField(F.extraData, RLP.encode(new Uint8Array(33))))]), "uncles[0].extraData"]
  ]

  for (const [name, bytes, field] of cases) {
    it(`refuses ${name}: BlockDecodeError on ${field}`, () => {
      const error = decodeError(bytes)
      expect(error.field).toBe(field)
      expect(error.reason.length).toBeGreaterThan(0)
      expect(error.message).toBe(`${field}: ${error.reason}`)
    })
  }

  it("accepts the extremes the format allows: 32 bytes of extraData, 32-byte difficulty, 8-byte integers, empty integers", () => {
    const extremes: Header.Fields = {
      ...base,
      extraData: new Uint8Array(32).fill(0xff),
      difficulty: 2n ** 256n - 1n,
      number: Number.MAX_SAFE_INTEGER,
      gasLimit: 2n ** 64n - 1n,
      gasUsed: 0n,
      timestamp: 2n ** 64n - 1n
    }
    const bytes = blockFrom(encodedFields(extremes))
    const header = Result.getOrThrow(Block.decode(bytes)).header
    expect(fieldsOf(header)).toEqual(extremes)
  })

  it("Header.decode refuses trailing bytes and non-canonical fields, naming the field", () => {
    const good = Header.make(base).rlp
    expect(Header.decode(good)).toBeInstanceOf(Header.Header)
    const trailing = Header.decode(concat(good, [0x80]))
    expect(trailing).toBeInstanceOf(BlockDecodeError)
    expect((trailing as BlockDecodeError).field).toBe("header")
    const spoilt = Header.decode(list(...withField(F.timestamp, Uint8Array.of(0x81, 0x7f))))
    expect((spoilt as BlockDecodeError).field).toBe("header.timestamp")
  })
})

// Protects block identity: the hash is keccak-256 of the header bytes as received.
describe("Block hash", () => {
  it("is keccak-256 of the header's RLP, and changes with any field", () => {
    const block = Result.getOrThrow(Block.decode(samples[1]!))
    expect(Hash.toHex(block.hash)).toBe(Hash.toHex(Hash.keccak(block.header.rlp)))
    const other = Header.make({ ...fieldsOf(block.header), nonce: new Uint8Array(8).fill(1) })
    expect(Hash.equals(other.hash, block.hash)).toBe(false)
  })
})

/** Asserts the outcome of decoding arbitrary bytes: a tagged error, or a block that re-encodes to exactly those bytes. */
const decodesStrictlyOrFails = (bytes: Uint8Array): boolean => {
  const result = Block.decode(bytes)
  if (Result.isFailure(result)) {
    return result.failure instanceof BlockDecodeError && result.failure.field.length > 0
  }
  return Buffer.from(Block.encode(result.success)).equals(Buffer.from(bytes))
}

/** Same for a header. */
const headerDecodesStrictlyOrFails = (bytes: Uint8Array): boolean => {
  const result = Header.decode(bytes)
  if (result instanceof BlockDecodeError) return result.field.startsWith("header")
  return Buffer.from(Header.encode(result)).equals(Buffer.from(bytes))
}

// Protects against hostile bytes: decoding never throws, and anything accepted re-encodes to exactly its input.
describe("Block.decode and Header.decode on hostile input (property)", () => {
  const sample = fc.constantFrom(...samples)

  it("random bytes never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 800 }), (bytes) => decodesStrictlyOrFails(bytes) && headerDecodesStrictlyOrFails(bytes)),
      { numRuns: 1000 }
    )
  })

  it("random bytes behind a plausible block prefix never throw", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 800 }), fc.constantFrom(0xf8, 0xf9, 0xc5, 0xb8), (body, prefix) => {
        const len = body.length
        const bytes = prefix === 0xf9 ? concat([0xf9, len >> 8, len & 0xff], body) : concat([prefix, len & 0xff], body)
        return decodesStrictlyOrFails(bytes) && headerDecodesStrictlyOrFails(bytes)
      }),
      { numRuns: 500 }
    )
  })

  it("every truncation of a real block fails with a BlockDecodeError", () => {
    fc.assert(
      fc.property(sample.chain((s) => fc.tuple(fc.constant(s), fc.nat(s.length - 1))), ([s, cut]) => {
        const result = Block.decode(s.subarray(0, cut))
        return Result.isFailure(result) && result.failure instanceof BlockDecodeError
      }),
      { numRuns: 500 }
    )
  })

  it("a real block with bytes appended fails with a BlockDecodeError on `block`", () => {
    fc.assert(
      fc.property(sample, fc.uint8Array({ minLength: 1, maxLength: 64 }), (s, extra) => {
        const result = Block.decode(concat(s, extra))
        return Result.isFailure(result) && result.failure.field === "block"
      }),
      { numRuns: 500 }
    )
  })

  it("a real block with random bytes changed never throws, and whatever decodes re-encodes to the same bytes", () => {
    const spoilt = sample.chain((s) =>
      fc.array(fc.tuple(fc.nat(s.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }).map((flips) => {
        const copy = Uint8Array.from(s)
        for (const [at, xor] of flips) copy[at]! ^= xor
        return copy
      })
    )
    fc.assert(
      fc.property(spoilt, (bytes) => {
        if (!decodesStrictlyOrFails(bytes)) return false
        const result = Block.decode(bytes)
        return Result.isFailure(result) || Hash.equals(result.success.hash, Hash.keccak(result.success.header.rlp))
      }),
      { numRuns: 1000 }
    )
  })

  it("a real header cut short or with random bytes changed gives a BlockDecodeError or exactly those bytes back", () => {
    const headers = samples.map((s) => Result.getOrThrow(Block.decode(s))).flatMap((b) => [b.header, ...b.uncles]).map((h) => h.rlp)
    const spoilt = fc.constantFrom(...headers).chain((s) =>
      fc.oneof(
        fc.nat(s.length - 1).map((cut) => s.subarray(0, cut)),
        fc.tuple(fc.nat(s.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
          const copy = Uint8Array.from(s)
          copy[at]! ^= xor
          return copy
        })
      )
    )
    fc.assert(fc.property(spoilt, headerDecodesStrictlyOrFails), { numRuns: 500 })
  })

  it("a real block with random bytes inserted or removed never throws", () => {
    const edited = sample.chain((s) =>
      fc.tuple(fc.nat(s.length - 1), fc.nat(8), fc.uint8Array({ maxLength: 8 })).map(([at, remove, insert]) =>
        concat(s.subarray(0, at), insert, s.subarray(Math.min(s.length, at + remove)))
      )
    )
    fc.assert(fc.property(edited, decodesStrictlyOrFails), { numRuns: 500 })
  })
})

// Protects round trips: any valid header or block encodes, decodes and re-encodes to the same bytes.
describe("Header and Block round trips (property)", () => {
  it("a header made from any valid fields decodes to the same fields, bytes and hash", () => {
    fc.assert(
      fc.property(Arb.fields, (f) => {
        const header = Header.make(f)
        expect(hex(header.rlp)).toBe(hex(list(...encodedFields(f))))
        const decoded = Header.decode(header.rlp)
        if (decoded instanceof BlockDecodeError) throw decoded
        expect(fieldsOf(decoded)).toEqual(f)
        expect(hex(Header.encode(decoded))).toBe(hex(header.rlp))
        expect(Hash.toHex(decoded.hash)).toBe(Hash.toHex(header.hash))
      }),
      { numRuns: 300 }
    )
  })

  it("a block with any header, random uncles and random 9-field transactions decodes and re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(Arb.block, (block) => {
        const decoded = Result.getOrThrow(Block.decode(block.rlp))
        expect(hex(Block.encode(decoded))).toBe(hex(block.rlp))
        expect(hex(Block.encode(block))).toBe(hex(block.rlp))
        expect(fieldsOf(decoded.header)).toEqual(fieldsOf(block.header))
        expect(decoded.transactions.map(hex)).toEqual(block.transactions.map(hex))
        expect(decoded.uncles.map((u) => Hash.toHex(u.hash))).toEqual(block.uncles.map((u) => Hash.toHex(u.hash)))
        expect(Hash.toHex(decoded.hash)).toBe(Hash.toHex(block.hash))
      }),
      { numRuns: 300 }
    )
  })

  it("Block.make and makeAll write the list of the header, transactions and uncles as given (makeAll all into one buffer), and hash the uncle list as its header must", () => {
    fc.assert(
      fc.property(Arb.block, (block) => {
        const made = Block.make(block.header, block.transactions, block.uncles)
        const uncleList = list(...block.uncles.map((u) => u.rlp))
        expect(hex(made.rlp)).toBe(hex(list(block.header.rlp, list(...block.transactions), uncleList)))
        expect(Hash.toHex(made.unclesHash)).toBe(Hash.toHex(Hash.keccak(uncleList)))
        expect(Hash.toHex(Result.getOrThrow(Block.decode(made.rlp)).unclesHash)).toBe(Hash.toHex(Hash.keccak(uncleList)))
      }),
      { numRuns: 300 }
    )
    fc.assert(
      fc.property(fc.array(Arb.block, { maxLength: 6 }), (blocks) => {
        const made = Block.makeAll(blocks.map((b) => ({ header: b.header, transactions: b.transactions, uncles: b.uncles })))
        expect(made.map((b) => hex(b.rlp))).toEqual(blocks.map((b) => hex(Block.make(b.header, b.transactions, b.uncles).rlp)))
        expect(new Set(made.map((b) => b.rlp.buffer)).size).toBeLessThanOrEqual(1)
      }),
      { numRuns: 100 }
    )
    for (const bytes of samples) {
      const block = Result.getOrThrow(Block.decode(bytes))
      expect(Hash.toHex(block.unclesHash)).toBe(Hash.toHex(block.header.uncleHash))
      expect(hex(Block.make(block.header, block.transactions, block.uncles).rlp)).toBe(hex(bytes))
    }
  })
})
