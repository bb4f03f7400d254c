import { RLP } from "@ethereumjs/rlp"
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import * as Rlp from "../../src/chain/Rlp.ts"
import { hex } from "../support/chain.ts"

const bytes = (...values: ReadonlyArray<number | ReadonlyArray<number>>): Uint8Array =>
  Uint8Array.from(values.flatMap((v) => (typeof v === "number" ? [v] : [...v])))

const zeros = (n: number): Array<number> => new Array<number>(n).fill(0x61)

/** The reason readSingle refuses `input`, or undefined when it accepts it. */
const refusal = (input: Uint8Array): string | undefined => {
  const item = Rlp.readSingle(input)
  return item instanceof Rlp.RlpError ? item.reason : undefined
}

/** A decoded RLP value as text (hex for byte strings, brackets for lists), to compare decoders. */
type Value = Uint8Array | ReadonlyArray<Value>
const show = (value: Value): string =>
  value instanceof Uint8Array ? hex(value) : `[${value.map(show).join(",")}]`

/** What the strict reader makes of a whole input (checked deeply), as text; an RlpError if it refuses it. */
const strict = (input: Uint8Array): string | Rlp.RlpError => {
  const item = Rlp.readSingle(input)
  if (item instanceof Rlp.RlpError) return item
  const deep = Rlp.validateDeep(input, item)
  if (deep) return deep
  const build = (it: Rlp.Item): Value => {
    if (!it.isList) return Rlp.payload(input, it)
    const children = Rlp.readList(input, it)
    if (children instanceof Rlp.RlpError) throw children
    return children.map(build)
  }
  return show(build(item))
}

/** What @ethereumjs/rlp makes of the input, as text; undefined if it throws. */
const reference = (input: Uint8Array): string | undefined => {
  try {
    return show(RLP.decode(input) as Value)
  } catch {
    return undefined
  }
}

// Protects canonical RLP reading: one encoding per value (so one hash per block), bounds always checked.
describe("Rlp.readItem canonical form", () => {
  const accepted: ReadonlyArray<readonly [string, Uint8Array, boolean, number, number]> = [
    ["a single byte below 0x80 stands for itself", bytes(0x05), false, 0, 1],
    ["0x80 is the empty string", bytes(0x80), false, 1, 1],
    ["0x81 0x80: a single byte of 0x80 needs its prefix", bytes(0x81, 0x80), false, 1, 2],
    ["a 55-byte string uses the short form", bytes(0xb7, zeros(55)), false, 1, 56],
    ["a 56-byte string uses the long form", bytes(0xb8, 56, zeros(56)), false, 2, 58],
    ["a 256-byte string has a two-byte length", bytes(0xb9, 0x01, 0x00, zeros(256)), false, 3, 259],
    ["0xc0 is the empty list", bytes(0xc0), true, 1, 1],
    ["a 56-byte list uses the long form", bytes(0xf8, 56, zeros(56)), true, 2, 58]
  ]
  for (const [name, input, isList, payloadStart, end] of accepted) {
    it(`accepts ${name}`, () => {
      expect(Rlp.readSingle(input)).toEqual({ isList, start: 0, payloadStart, end })
      expect(reference(input)).toBeDefined()
    })
  }

  const refused: ReadonlyArray<readonly [string, Uint8Array, string]> = [
    ["0x81 0x05: a single byte below 0x80 with a prefix", bytes(0x81, 0x05), "must not have a prefix"],
    ["0x81 0x00", bytes(0x81, 0x00), "must not have a prefix"],
    ["a string of 55 bytes in the long form (0xb8 0x37)", bytes(0xb8, 55, zeros(55)), "short form"],
    ["a string of 1 byte in the long form (0xb8 0x01 0x80)", bytes(0xb8, 1, 0x80), "short form"],
    ["a list of 55 bytes in the long form (0xf8 0x37)", bytes(0xf8, 55, zeros(55)), "short form"],
    ["a string length with a leading zero (0xb9 0x00 0x38)", bytes(0xb9, 0x00, 56, zeros(56)), "leading zero"],
    ["a list length with a leading zero (0xf9 0x00 0x38)", bytes(0xf9, 0x00, 56, zeros(56)), "leading zero"],
    ["a string cut short", bytes(0x83, 1, 2), "past the end"],
    ["a single-byte string with its byte missing", bytes(0x81), "ends inside"],
    ["a long length cut short", bytes(0xb9, 0x01), "ends inside a length"],
    ["a list cut short", bytes(0xc3, 0x01, 0x02), "past the end"],
    ["an 8-byte length", bytes(0xbf, 1, 0, 0, 0, 0, 0, 0, 0), "beyond any input"],
    ["no bytes at all", bytes(), "input ends"],
    ["an item followed by more bytes", bytes(0x80, 0x80), "follow the item"]
  ]
  for (const [name, input, reason] of refused) {
    it(`refuses ${name}`, () => {
      expect(refusal(input)).toContain(reason)
      const error = Rlp.readSingle(input) as Rlp.RlpError
      expect(error._tag).toBe("RlpError")
      expect(error.message).toBe(`invalid RLP at byte ${error.offset}: ${error.reason}`)
    })
  }

  it("reads an item in the middle of a buffer, bounded by the enclosing limit", () => {
    const input = bytes(0xff, 0x82, 1, 2, 0xff)
    expect(Rlp.readItem(input, 1)).toEqual({ isList: false, start: 1, payloadStart: 2, end: 4 })
    expect(hex(Rlp.payload(input, Rlp.readItem(input, 1) as Rlp.Item))).toBe("0102")
    expect(hex(Rlp.raw(input, Rlp.readItem(input, 1) as Rlp.Item))).toBe("820102")
    const bounded = Rlp.readItem(input, 1, 3)
    expect(bounded).toBeInstanceOf(Rlp.RlpError)
    expect((bounded as Rlp.RlpError).offset).toBe(1)
    expect(Rlp.readItem(input, 5)).toBeInstanceOf(Rlp.RlpError)
  })

  it("readSingle checks only the outer item; validateDeep finds a malformed item nested in it", () => {
    const nested = bytes(0xc3, 0xc2, 0x81, 0x05)
    const item = Rlp.readSingle(nested)
    expect(item).not.toBeInstanceOf(Rlp.RlpError)
    const deep = Rlp.validateDeep(nested, item as Rlp.Item)
    expect(deep).toBeInstanceOf(Rlp.RlpError)
    expect(deep?.offset).toBe(2)
    expect(Rlp.validateDeep(bytes(0xc3, 0xc2, 0x81, 0x85), Rlp.readSingle(bytes(0xc3, 0xc2, 0x81, 0x85)) as Rlp.Item)).toBeUndefined()
  })

  it("validateDeep checks lists nested 200,000 deep without exhausting the stack, and finds a fault at the bottom", () => {
    const depth = 200_000
    /** `depth` lists, each holding the next, with `last` at the bottom; every prefix in canonical form. */
    const nested = (last: ReadonlyArray<number>) => {
      const prefixes: Array<Array<number>> = []
      let length = last.length
      for (let level = 0; level < depth; level++) {
        const digits: Array<number> = []
        for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) digits.unshift(rest % 256)
        const prefix = length <= 55 ? [0xc0 + length] : [0xf7 + digits.length, ...digits]
        prefixes.push(prefix)
        length += prefix.length
      }
      const out = new Uint8Array(length)
      let at = 0
      for (let level = depth - 1; level >= 0; level--) {
        out.set(prefixes[level]!, at)
        at += prefixes[level]!.length
      }
      out.set(last, at)
      return { out, bottom: at }
    }
    const valid = nested([0xc0]).out
    expect(Rlp.validateDeep(valid, Rlp.readSingle(valid) as Rlp.Item)).toBeUndefined()
    const faulty = nested([0xc2, 0x81, 0x05])
    const error = Rlp.validateDeep(faulty.out, Rlp.readSingle(faulty.out) as Rlp.Item)
    expect(error).toBeInstanceOf(Rlp.RlpError)
    expect(error?.offset).toBe(faulty.bottom + 1)
  })

  it("readChildren names the index of the first malformed child; readList gives its error", () => {
    const input = bytes(0xc5, 0x01, 0x80, 0x81, 0x05, 0x02)
    const list = Rlp.readSingle(input) as Rlp.Item
    const children = Rlp.readChildren(input, list)
    expect(Array.isArray(children)).toBe(false)
    expect((children as Rlp.ChildError).index).toBe(2)
    expect((children as Rlp.ChildError).error.offset).toBe(3)
    expect(Rlp.readList(input, list)).toBeInstanceOf(Rlp.RlpError)
    const good = bytes(0xc3, 0x01, 0x80, 0x02)
    expect(Rlp.readList(good, Rlp.readSingle(good) as Rlp.Item)).toHaveLength(3)
  })
})

// Protects the encoders: they write what the reference encoder writes, so re-encoded blocks keep their hash.
describe("Rlp encoders", () => {
  it("encodes integers minimally: 0 is the empty string, 127 stands alone, 128 and 256 are prefixed", () => {
    expect(hex(Rlp.encodeInteger(0))).toBe("80")
    expect(hex(Rlp.encodeInteger(0n))).toBe("80")
    expect(hex(Rlp.encodeInteger(127))).toBe("7f")
    expect(hex(Rlp.encodeInteger(128))).toBe("8180")
    expect(hex(Rlp.encodeInteger(256))).toBe("820100")
    expect(hex(Rlp.encodeInteger(2n ** 64n - 1n))).toBe("88ffffffffffffffff")
  })

  it("encodes lists with the short form up to 55 bytes of payload and the long form from 56", () => {
    expect(hex(Rlp.encodeList([]))).toBe("c0")
    expect(hex(Rlp.encodeList([bytes(zeros(55))]))).toBe("f7" + "61".repeat(55))
    expect(hex(Rlp.encodeList([bytes(zeros(56))]))).toBe("f838" + "61".repeat(56))
    expect(hex(Rlp.encodeList([bytes(zeros(256))]).subarray(0, 3))).toBe("f90100")
  })

  const tree: fc.Arbitrary<Value> = fc.letrec<{ node: Value }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      fc.uint8Array({ maxLength: 70 }),
      fc.array(tie("node"), { maxLength: 5 })
    )
  })).node

  const encode = (value: Value): Uint8Array =>
    value instanceof Uint8Array ? Rlp.encodeBytes(value) : Rlp.encodeList(value.map(encode))

  it("encodeBytes and encodeList agree with @ethereumjs/rlp on random trees, and read back (property)", () => {
    fc.assert(
      fc.property(tree, (value) => {
        const ours = encode(value)
        expect(hex(ours)).toBe(hex(RLP.encode(value as Parameters<typeof RLP.encode>[0])))
        expect(strict(ours)).toBe(show(value))
      }),
      { numRuns: 500 }
    )
  })

  /** A tree's items as encodeList takes them: leaves encoded, lists left as arrays for it to wrap. */
  const items = (value: ReadonlyArray<Value>): Rlp.Items => value.map((child) => child instanceof Uint8Array ? Rlp.encodeBytes(child) : items(child))

  it("encodeList wraps nested arrays as nested lists, as @ethereumjs/rlp encodes the tree (property)", () => {
    fc.assert(
      fc.property(fc.array(tree, { maxLength: 5 }), (value) => {
        expect(hex(Rlp.encodeList(items(value)))).toBe(hex(RLP.encode(value as Parameters<typeof RLP.encode>[0])))
      }),
      { numRuns: 500 }
    )
    const long = [bytes(zeros(300)), [bytes(zeros(60)), [bytes(zeros(70))]], []]
    expect(hex(Rlp.encodeList(items(long)))).toBe(hex(RLP.encode(long)))
  })

  it("encodeInteger agrees with @ethereumjs/rlp and reads back without a leading zero (property)", () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 256n - 1n }), (n) => {
        const ours = Rlp.encodeInteger(n)
        expect(hex(ours)).toBe(hex(RLP.encode(n)))
        const payload = Rlp.payload(ours, Rlp.readSingle(ours) as Rlp.Item)
        expect(payload[0]).not.toBe(0)
        expect(payload.length === 0 ? 0n : BigInt("0x" + hex(payload))).toBe(n)
      }),
      { numRuns: 500 }
    )
  })
})

/** How one item is written: canonically, or in one of the non-canonical forms a reader must refuse. */
interface Form {
  /** Long form even for a length under 56. */
  readonly long: boolean
  /** Leading zero bytes put in front of a long length. */
  readonly zeros: number
  /** A single byte below 0x80 written with a 0x81 prefix. */
  readonly prefixSingle: boolean
}

type Loose = { readonly data: Uint8Array; readonly form: Form } | { readonly children: ReadonlyArray<Loose>; readonly form: Form }

const canonical: Form = { long: false, zeros: 0, prefixSingle: false }
const form: fc.Arbitrary<Form> = fc.oneof(
  { arbitrary: fc.constant(canonical), weight: 12 },
  { arbitrary: fc.constant({ ...canonical, long: true }), weight: 1 },
  { arbitrary: fc.record({ long: fc.constant(true), zeros: fc.integer({ min: 1, max: 2 }), prefixSingle: fc.constant(false) }), weight: 1 },
  { arbitrary: fc.constant({ ...canonical, prefixSingle: true }), weight: 1 }
)

const loose: fc.Arbitrary<Loose> = fc.letrec<{ node: Loose }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small" },
    fc.record({ data: fc.oneof(fc.uint8Array({ maxLength: 1 }), fc.uint8Array({ maxLength: 70 })), form }),
    fc.record({ children: fc.array(tie("node"), { maxLength: 4 }), form })
  )
})).node

const lengthBytes = (n: number): Array<number> => {
  const out: Array<number> = []
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) out.unshift(rest % 256)
  return out
}

/** Writes a tree with the forms it asks for (canonical unless told otherwise). */
const writeLoose = (node: Loose): Uint8Array => {
  const isList = "children" in node
  const payload = isList ? bytes(...node.children.map((c) => [...writeLoose(c)])) : node.data
  const { long, zeros: z, prefixSingle } = node.form
  if (!isList && payload.length === 1 && payload[0]! < 0x80 && !prefixSingle && !long) return payload
  const base = isList ? 0xc0 : 0x80
  if (!long && z === 0 && payload.length < 56) return bytes(base + payload.length, [...payload])
  const length = [...new Array<number>(z).fill(0), ...lengthBytes(payload.length)]
  return bytes(base + 55 + length.length, length, [...payload])
}

/** Writes a tree, then maybe spoils the bytes (cut, extended or with a byte changed). */
const input: fc.Arbitrary<Uint8Array> = fc.oneof(
  { arbitrary: loose.map(writeLoose), weight: 4 },
  {
    arbitrary: loose.map(writeLoose).chain((b) =>
      fc.oneof(
        fc.nat(b.length).map((cut) => b.subarray(0, cut)),
        fc.uint8Array({ minLength: 1, maxLength: 3 }).map((extra) => bytes([...b], [...extra])),
        fc.tuple(fc.nat(Math.max(0, b.length - 1)), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
          const copy = Uint8Array.from(b)
          if (copy.length > 0) copy[at]! ^= xor
          return copy
        })
      )),
    weight: 2
  },
  { arbitrary: fc.uint8Array({ minLength: 1, maxLength: 80 }), weight: 2 }
)

// Protects the strict reader by cross-checking it against @ethereumjs/rlp on canonical and non-canonical input.
describe("Rlp.readSingle against @ethereumjs/rlp (property)", () => {
  it("accepts exactly what RLP.decode accepts, with the same values, on trees written canonically or not", () => {
    fc.assert(
      fc.property(input.filter((b) => b.length > 0), (b) => {
        const ours = strict(b)
        const theirs = reference(b)
        if (theirs === undefined) return ours instanceof Rlp.RlpError
        return ours === theirs
      }),
      { numRuns: 3000 }
    )
  })

  it("the single disagreement: RLP.decode returns an empty string for empty input, the strict reader refuses it", () => {
    expect(reference(new Uint8Array(0))).toBe("")
    expect(refusal(new Uint8Array(0))).toContain("input ends")
  })

  it("readItem never throws on random bytes at random offsets and limits, and stays in bounds (property)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }).chain((b) => fc.tuple(fc.constant(b), fc.nat(b.length + 2), fc.nat(b.length))),
        ([b, offset, limit]) => {
          const item = Rlp.readItem(b, offset, limit)
          if (item instanceof Rlp.RlpError) return item.offset === offset && item.reason.length > 0
          return item.start === offset && item.start <= item.payloadStart && item.payloadStart <= item.end && item.end <= limit
        }
      ),
      { numRuns: 2000 }
    )
  })
})
