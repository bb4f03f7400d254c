/**
 * The eth/62-68 codec: every message of every version round-trips; payloads made by an independent
 * RLP library and by @ethereumjs/devp2p's own ETH protocol decode as expected; the codes each
 * version has match devp2p's; each class of malformed payload gets its tagged error naming the
 * field; and no input makes the decoder throw.
 */
import { ETH, EthMessageCodes } from "@ethereumjs/devp2p"
import { RLP } from "@ethereumjs/rlp"
import { Block, Hash, Header, Hex, Rlp } from "@ethsync/core"
import { describe, expect, it } from "@effect/vitest"
import { Result } from "effect"
import fc from "fast-check"
import * as Arb from "../../../core/test/support/arbitraries.ts"
import * as ForkId from "../../src/eth/ForkId.ts"
import * as HeaderFirstMessage from "../../src/eth/HeaderFirstMessage.ts"
import * as HeaderFirstVersion from "../../src/eth/HeaderFirstVersion.ts"
import type { DecodeError } from "../../src/eth/MessageError.ts"
import * as TestChain from "../TestChain.ts"

type Version = HeaderFirstVersion.HeaderFirstVersion
type Message = HeaderFirstMessage.HeaderFirstMessage

/** A message as plain data (hex for bytes, headers and blocks as their hash and bytes), to compare messages. */
const show = (value: unknown): unknown =>
  value instanceof Block.Block || value instanceof Header.Header
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
const decoded = (version: Version, code: number, payload: Uint8Array): Message => {
  const result = HeaderFirstMessage.decode(version, code, payload)
  if (Result.isFailure(result)) throw new Error(`expected ${code} to decode under eth/${version}: ${result.failure.message}`)
  return result.success
}

/** Decodes a payload, expecting failure. */
const refused = (version: Version, code: number, payload: Uint8Array): DecodeError => {
  const result = HeaderFirstMessage.decode(version, code, payload)
  if (Result.isSuccess(result)) throw new Error(`expected ${code} to be refused under eth/${version}, got ${result.success._tag}`)
  return result.failure
}

/** The kinds of message, in code order. */
const kinds = Object.keys(HeaderFirstMessage.codes) as ReadonlyArray<HeaderFirstMessage.Kind>

/** Any message the encoder can write for `version`: its kinds, its Status and announcement shapes, request ids from eth/66. */
const messageFor = (version: Version): fc.Arbitrary<Message> => {
  const requestId = HeaderFirstVersion.hasRequestIds(version) ? Arb.uint(8) : fc.constant(undefined)
  const hashes = fc.array(Arb.hash, { maxLength: 10 })
  const transactions = fc.array(Arb.transaction, { maxLength: 4 })
  const byKind: Record<HeaderFirstMessage.Kind, fc.Arbitrary<Message>> = {
    Status: fc.record({
      protocolVersion: fc.constant(version),
      networkId: fc.maxSafeNat(),
      td: Arb.uint(32),
      bestHash: Arb.hash,
      genesisHash: Arb.hash,
      forkId: HeaderFirstVersion.hasForkId(version) ? fc.record({ hash: Arb.bytes(4), next: Arb.uint(8) }) : fc.constant(undefined)
    }).map(HeaderFirstMessage.Status),
    NewBlockHashes: fc.array(fc.record({ hash: Arb.hash, number: fc.maxSafeNat() }), { maxLength: 8 })
      .map((announcements) => HeaderFirstMessage.NewBlockHashes({ announcements })),
    Transactions: transactions.map((txs) => HeaderFirstMessage.Transactions({ transactions: txs })),
    GetBlockHeaders: fc.record({
      requestId,
      origin: fc.oneof(Arb.hash, fc.maxSafeNat()),
      amount: fc.maxSafeNat(),
      skip: fc.maxSafeNat(),
      reverse: fc.boolean()
    }).map(HeaderFirstMessage.GetBlockHeaders),
    BlockHeaders: fc.record({ requestId, headers: fc.array(Arb.header, { maxLength: 4 }) }).map(HeaderFirstMessage.BlockHeaders),
    GetBlockBodies: fc.record({ requestId, hashes }).map(HeaderFirstMessage.GetBlockBodies),
    BlockBodies: fc.record({
      requestId,
      bodies: fc.array(fc.record({ transactions, uncles: fc.array(Arb.header, { maxLength: 2 }) }), { maxLength: 3 })
    }).map(HeaderFirstMessage.BlockBodies),
    NewBlock: fc.record({ block: Arb.block, td: Arb.uint(32) }).map(HeaderFirstMessage.NewBlock),
    NewPooledTransactionHashes: HeaderFirstVersion.hasTypedAnnouncements(version)
      ? fc.array(fc.tuple(Arb.hash, fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 ** 32 - 1 })), { maxLength: 8 })
        .map((items) =>
          HeaderFirstMessage.NewPooledTransactionHashes({
            hashes: items.map(([hash]) => hash),
            typed: { types: Uint8Array.from(items.map(([, type]) => type)), sizes: items.map(([, , size]) => size) }
          })
        )
      : hashes.map((h) => HeaderFirstMessage.NewPooledTransactionHashes({ hashes: h, typed: undefined })),
    GetPooledTransactions: fc.record({ requestId, hashes }).map(HeaderFirstMessage.GetPooledTransactions),
    PooledTransactions: fc.record({ requestId, transactions }).map(HeaderFirstMessage.PooledTransactions),
    GetNodeData: fc.record({ requestId, hashes }).map(HeaderFirstMessage.GetNodeData),
    NodeData: fc.record({ requestId, values: fc.array(fc.uint8Array({ maxLength: 60 }), { maxLength: 4 }) }).map(HeaderFirstMessage.NodeData),
    GetReceipts: fc.record({ requestId, hashes }).map(HeaderFirstMessage.GetReceipts),
    Receipts: fc.record({ requestId, receipts: fc.array(fc.array(Arb.transaction, { maxLength: 3 }), { maxLength: 3 }) })
      .map(HeaderFirstMessage.Receipts)
  }
  return fc.oneof(...kinds.filter((kind) => HeaderFirstMessage.has(version, kind)).map((kind) => byKind[kind]))
}

/** A version and a message it can carry. */
const versioned = fc.constantFrom(...HeaderFirstVersion.all).chain((version) => fc.tuple(fc.constant(version), messageFor(version)))

describe("HeaderFirstMessage round trips", () => {
  it("every message of every version decodes to itself and re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(versioned, ([version, original]) => {
        const encoded = HeaderFirstMessage.encode(original)
        expect(encoded.code).toBe(HeaderFirstMessage.codes[original._tag])
        const back = decoded(version, encoded.code, encoded.payload)
        expect(show(back)).toEqual(show(original))
        expect(Hex.fromBytes(HeaderFirstMessage.encode(back).payload)).toBe(Hex.fromBytes(encoded.payload))
      }),
      { numRuns: 1000 }
    )
  })

  it("answers made from stored headers and bodies are the same messages as from decoded ones", () => {
    fc.assert(
      fc.property(fc.option(Arb.uint(8), { nil: undefined }), fc.array(Arb.block, { maxLength: 4 }), (requestId, blocks) => {
        const headers = HeaderFirstMessage.encodeStored("BlockHeaders", requestId, blocks.map((b) => b.header.rlp))
        const fromHeaders = HeaderFirstMessage.encode(HeaderFirstMessage.BlockHeaders({ requestId, headers: blocks.map((b) => b.header) }))
        expect([headers.code, Hex.fromBytes(headers.payload)]).toEqual([fromHeaders.code, Hex.fromBytes(fromHeaders.payload)])
        const bodies = HeaderFirstMessage.encodeStored("BlockBodies", requestId, blocks.map(Block.bodyRlp))
        const fromBodies = HeaderFirstMessage.encode(HeaderFirstMessage.BlockBodies({ requestId, bodies: blocks }))
        expect([bodies.code, Hex.fromBytes(bodies.payload)]).toEqual([fromBodies.code, Hex.fromBytes(fromBodies.payload)])
      }),
      { numRuns: 100 }
    )
  })
})

describe("HeaderFirstMessage against an independent RLP encoder", () => {
  const best = Hash.keccak(Uint8Array.of(1))
  const genesis = Hash.keccak(Uint8Array.of(2))
  const block = TestChain.extend(TestChain.genesis(), 1)[0]!
  const uncle = TestChain.child(TestChain.genesis(), 20n)

  it("reads a Status of eth/63 and of eth/66 with the mainnet fork id, and writes the same bytes", () => {
    const cases: ReadonlyArray<readonly [Version, Uint8Array, Message]> = [
      [63, RLP.encode([63, 1, 17179869184n, best, genesis]), HeaderFirstMessage.Status({ protocolVersion: 63, networkId: 1, td: 17179869184n, bestHash: best, genesisHash: genesis, forkId: undefined })],
      [66, RLP.encode([66, 1, 17179869184n, best, genesis, [Uint8Array.of(0xfc, 0x64, 0xec, 0x04), 1150000]]), HeaderFirstMessage.Status({ protocolVersion: 66, networkId: 1, td: 17179869184n, bestHash: best, genesisHash: genesis, forkId: { hash: Uint8Array.of(0xfc, 0x64, 0xec, 0x04), next: 1150000n } })]
    ]
    for (const [version, payload, expected] of cases) {
      expect(show(decoded(version, 0x00, payload))).toEqual(show(expected))
      expect(Hex.fromBytes(HeaderFirstMessage.encode(expected).payload)).toBe(Hex.fromBytes(payload))
    }
  })

  it("reads requests with and without request ids, and writes the same bytes", () => {
    const cases: ReadonlyArray<readonly [Version, number, Uint8Array, Message]> = [
      [62, 0x03, RLP.encode([best, 192, 0, 1]), HeaderFirstMessage.GetBlockHeaders({ requestId: undefined, origin: best, amount: 192, skip: 0, reverse: true })],
      [66, 0x03, RLP.encode([7, [0, 128, 191, 0]]), HeaderFirstMessage.GetBlockHeaders({ requestId: 7n, origin: 0, amount: 128, skip: 191, reverse: false })],
      [68, 0x03, RLP.encode([2n ** 64n - 1n, [8191, 1, 0, 0]]), HeaderFirstMessage.GetBlockHeaders({ requestId: 2n ** 64n - 1n, origin: 8191, amount: 1, skip: 0, reverse: false })],
      [65, 0x05, RLP.encode([best, genesis]), HeaderFirstMessage.GetBlockBodies({ requestId: undefined, hashes: [best, genesis] })],
      [67, 0x05, RLP.encode([0, [best]]), HeaderFirstMessage.GetBlockBodies({ requestId: 0n, hashes: [best] })],
      [66, 0x0d, RLP.encode([3, [genesis]]), HeaderFirstMessage.GetNodeData({ requestId: 3n, hashes: [genesis] })],
      [63, 0x0f, RLP.encode([best]), HeaderFirstMessage.GetReceipts({ requestId: undefined, hashes: [best] })],
      [68, 0x09, RLP.encode([9, []]), HeaderFirstMessage.GetPooledTransactions({ requestId: 9n, hashes: [] })]
    ]
    for (const [version, code, payload, expected] of cases) {
      expect(show(decoded(version, code, payload))).toEqual(show(expected))
      expect(Hex.fromBytes(HeaderFirstMessage.encode(expected).payload)).toBe(Hex.fromBytes(payload))
    }
  })

  it("reads answers and announcements as other clients write them", () => {
    const headerFields = RLP.decode(block.header.rlp) as Array<Uint8Array>
    const cases: ReadonlyArray<readonly [Version, number, Uint8Array, Message]> = [
      [66, 0x04, RLP.encode([5, [headerFields]]), HeaderFirstMessage.BlockHeaders({ requestId: 5n, headers: [block.header] })],
      [62, 0x06, RLP.encode([[[], [RLP.decode(uncle.header.rlp) as Array<Uint8Array>]]]), HeaderFirstMessage.BlockBodies({ requestId: undefined, bodies: [{ transactions: [], uncles: [uncle.header] }] })],
      [66, 0x10, RLP.encode([6, [[], []]]), HeaderFirstMessage.Receipts({ requestId: 6n, receipts: [[], []] })],
      [66, 0x0e, RLP.encode([6, [Uint8Array.of(1, 2)]]), HeaderFirstMessage.NodeData({ requestId: 6n, values: [Uint8Array.of(1, 2)] })],
      [64, 0x01, RLP.encode([[best, 1], [genesis, 0]]), HeaderFirstMessage.NewBlockHashes({ announcements: [{ hash: best, number: 1 }, { hash: genesis, number: 0 }] })],
      [67, 0x08, RLP.encode([best]), HeaderFirstMessage.NewPooledTransactionHashes({ hashes: [best], typed: undefined })],
      [68, 0x08, RLP.encode([Uint8Array.of(0, 2), [120, 3000], [best, genesis]]), HeaderFirstMessage.NewPooledTransactionHashes({ hashes: [best, genesis], typed: { types: Uint8Array.of(0, 2), sizes: [120, 3000] } })],
      [68, 0x07, RLP.encode([RLP.decode(block.rlp) as Array<Uint8Array>, 99]), HeaderFirstMessage.NewBlock({ block, td: 99n })]
    ]
    for (const [version, code, payload, expected] of cases) {
      expect(show(decoded(version, code, payload))).toEqual(show(expected))
      expect(Hex.fromBytes(HeaderFirstMessage.encode(expected).payload)).toBe(Hex.fromBytes(payload))
    }
  })
})

/** A message code as devp2p's types name it. */
type Devp2pCode = (typeof EthMessageCodes)[keyof typeof EthMessageCodes]

/** An @ethereumjs/devp2p ETH protocol of `version` on a stand-in peer (mainnet, Frontier), recording what it sends. */
const devp2pEth = (version: Version) => {
  const sent: Array<readonly [number, Uint8Array]> = []
  const common = {
    hardfork: () => "chainstart",
    hardforkBlock: () => 0n,
    forkHash: () => "0xfc64ec04",
    nextHardforkBlockOrTimestamp: () => 1_150_000n,
    chainId: () => 1n,
    hardforkForForkHash: (hash: string) => (hash === "0xfc64ec04" ? { name: "chainstart" } : null),
    hardforkGteHardfork: () => true
  }
  const peer = { common, _hello: null, _socket: {}, disconnect: () => undefined }
  const eth = new ETH(version, peer as unknown as ConstructorParameters<typeof ETH>[1], (code, payload) => {
    sent.push([code, payload])
    return true
  })
  clearTimeout((eth as unknown as { _statusTimeoutId: ReturnType<typeof setTimeout> })._statusTimeoutId)
  return { eth, sent }
}

describe("HeaderFirstMessage against @ethereumjs/devp2p's ETH protocol", () => {
  it("uses devp2p's code for every message", () => {
    const names: Record<HeaderFirstMessage.Kind, keyof typeof EthMessageCodes> = {
      Status: "STATUS",
      NewBlockHashes: "NEW_BLOCK_HASHES",
      Transactions: "TX",
      GetBlockHeaders: "GET_BLOCK_HEADERS",
      BlockHeaders: "BLOCK_HEADERS",
      GetBlockBodies: "GET_BLOCK_BODIES",
      BlockBodies: "BLOCK_BODIES",
      NewBlock: "NEW_BLOCK",
      NewPooledTransactionHashes: "NEW_POOLED_TRANSACTION_HASHES",
      GetPooledTransactions: "GET_POOLED_TRANSACTIONS",
      PooledTransactions: "POOLED_TRANSACTIONS",
      GetNodeData: "GET_NODE_DATA",
      NodeData: "NODE_DATA",
      GetReceipts: "GET_RECEIPTS",
      Receipts: "RECEIPTS"
    }
    for (const kind of kinds) expect([kind, HeaderFirstMessage.codes[kind]]).toEqual([kind, EthMessageCodes[names[kind]]])
  })

  it("has exactly the codes devp2p lets each version send", () => {
    for (const version of HeaderFirstVersion.all) {
      const { eth } = devp2pEth(version)
      for (let code = 1; code <= 0x11; code++) {
        let allowed = true
        try {
          eth.sendMessage(code as Devp2pCode, [])
        } catch {
          allowed = false
        }
        const ours = HeaderFirstMessage.decode(version, code, Rlp.encodeList([]))
        const known = Result.isSuccess(ours) || ours.failure._tag !== "UnknownMessageCode"
        expect([version, code, known]).toEqual([version, code, allowed])
      }
    }
  })

  it("reads the Status devp2p sends, fork id included, and devp2p accepts ours", () => {
    const best = Hash.keccak(Uint8Array.of(4))
    const genesis = Hash.keccak(Uint8Array.of(5))
    for (const version of HeaderFirstVersion.all) {
      const { eth, sent } = devp2pEth(version)
      const statuses: Array<unknown> = []
      eth.events.on("status", (status: unknown) => statuses.push(status))
      eth.sendStatus({ td: Rlp.encodeInteger(1234n).subarray(1), bestHash: best, genesisHash: genesis })
      const [code, payload] = sent[0]!
      const theirs = decoded(version, code, payload)
      const forkId = HeaderFirstVersion.hasForkId(version) ? ForkId.make(genesis, 0n) : undefined
      const expected = HeaderFirstMessage.Status({ protocolVersion: version, networkId: 1, td: 1234n, bestHash: best, genesisHash: genesis, forkId: forkId && { hash: Uint8Array.of(0xfc, 0x64, 0xec, 0x04), next: 1_150_000n } })
      expect(show(theirs)).toEqual(show(expected))
      const ours = HeaderFirstMessage.encode(HeaderFirstMessage.Status({ ...expected, td: 10n, bestHash: genesis }))
      eth._handleMessage(ours.code as Devp2pCode, ours.payload)
      expect(statuses).toHaveLength(1)
    }
  })

  it("devp2p reads our requests with their request ids", () => {
    const { eth } = devp2pEth(66)
    const received: Array<readonly [number, unknown]> = []
    eth.events.on("message", (code: number, payload: unknown) => received.push([code, payload]))
    const request = HeaderFirstMessage.encode(HeaderFirstMessage.GetBlockHeaders({ requestId: 77n, origin: 1000, amount: 192, skip: 0, reverse: false }))
    eth._handleMessage(request.code as Devp2pCode, request.payload)
    expect(received.map(([code, payload]) => [code, show(payload)])).toEqual([
      [EthMessageCodes.GET_BLOCK_HEADERS, show([Uint8Array.of(77), [Uint8Array.of(0x03, 0xe8), Uint8Array.of(192), new Uint8Array(), new Uint8Array()]])]
    ])
  })
})

describe("HeaderFirstMessage refuses malformed payloads with a tagged error naming what was wrong", () => {
  const hash = Hash.keccak(Uint8Array.of(3))
  const block = TestChain.extend(TestChain.genesis(), 1)[0]!
  const headerFields = RLP.decode(block.header.rlp) as Array<Uint8Array>
  /** The header's fields with its difficulty written with a leading zero byte. */
  const badDifficulty = headerFields.map((field, i) => (i === 7 ? Uint8Array.of(0, ...field) : field))
  const encode = (value: unknown) => RLP.encode(value as Parameters<typeof RLP.encode>[0])

  it("a code the negotiated version does not have", () => {
    const cases: ReadonlyArray<readonly [Version, number]> = [
      [62, 0x08], [62, 0x0f], [63, 0x08], [64, 0x0a], [67, 0x0d], [68, 0x0e], [65, 0x0b], [66, 0x0c], [68, 0x11], [68, -1], [66, 2.5]
    ]
    for (const [version, code] of cases) {
      const error = refused(version, code, RLP.encode([]))
      expect(error._tag).toBe("UnknownMessageCode")
      expect(error.message).toContain(`eth/${version}`)
    }
  })

  it("a payload over 10 MiB, before reading any of it", () => {
    const error = refused(66, 0x06, new Uint8Array(HeaderFirstMessage.maxPayload + 1))
    expect(error).toMatchObject({ _tag: "MessageTooLarge", code: 0x06, size: HeaderFirstMessage.maxPayload + 1 })
  })

  /** [what, version, code, payload, message kind, field, words in the reason] */
  const cases: ReadonlyArray<readonly [string, Version, number, Uint8Array, string, string, string]> = [
    ["not RLP", 66, 0x03, Uint8Array.of(0xc5, 0xa0), "GetBlockHeaders", "payload", "not RLP"],
    ["bytes after the payload", 62, 0x05, Uint8Array.of(0xc0, 0xc0), "GetBlockBodies", "payload", "1 bytes follow"],
    ["an eth/63 Status under eth/64: no fork id", 64, 0x00, encode([64, 1, 5, hash, hash]), "Status", "payload", "expected 6 fields"],
    ["an eth/64 Status under eth/63", 63, 0x00, encode([63, 1, 5, hash, hash, [Uint8Array.of(1, 2, 3, 4), 0]]), "Status", "payload", "expected 5 fields"],
    ["a fork hash of 3 bytes", 66, 0x00, encode([66, 1, 5, hash, hash, [Uint8Array.of(1, 2, 3), 0]]), "Status", "forkId.hash", "expected 4 bytes, got 3"],
    ["a fork id of one field", 66, 0x00, encode([66, 1, 5, hash, hash, [Uint8Array.of(1, 2, 3, 4)]]), "Status", "forkId", "expected 2 fields"],
    ["a fork id that is a byte string", 68, 0x00, encode([68, 1, 5, hash, hash, Uint8Array.of(1, 2, 3, 4)]), "Status", "forkId", "expected a list"],
    ["a next fork over 64 bits", 66, 0x00, encode([66, 1, 5, hash, hash, [Uint8Array.of(1, 2, 3, 4), 2n ** 64n]]), "Status", "forkId.next", "exceeds 8"],
    ["a TD with a leading zero", 62, 0x00, encode([62, 1, Uint8Array.of(0, 5), hash, hash]), "Status", "td", "not minimal"],
    ["a 31-byte genesis hash", 65, 0x00, encode([65, 1, 5, hash, hash.subarray(1), [Uint8Array.of(1, 2, 3, 4), 0]]), "Status", "genesisHash", "got 31 bytes"],
    ["an eth/65 request under eth/66: no request id", 66, 0x03, encode([hash, 1, 0, 0]), "GetBlockHeaders", "payload", "expected 2 fields (requestId, message)"],
    ["an eth/66 request under eth/65", 65, 0x03, encode([1, [hash, 1, 0, 0]]), "GetBlockHeaders", "payload", "expected 4 fields"],
    ["a request id over 64 bits", 67, 0x05, encode([2n ** 64n, [hash]]), "GetBlockBodies", "requestId", "exceeds 8"],
    ["a request id that is a list", 66, 0x04, encode([[1], []]), "BlockHeaders", "requestId", "got a list"],
    ["an origin of 9 bytes", 62, 0x03, encode([new Uint8Array(9).fill(1), 1, 0, 0]), "GetBlockHeaders", "origin", "got 9 bytes"],
    ["an origin that is a list", 66, 0x03, encode([1, [[1], 1, 0, 0]]), "GetBlockHeaders", "origin", "got a list"],
    ["an origin number with a leading zero", 66, 0x03, encode([1, [Uint8Array.of(0, 1), 1, 0, 0]]), "GetBlockHeaders", "origin", "not minimal"],
    ["a skip beyond 2^53 - 1", 66, 0x03, encode([1, [5, 1, 2n ** 60n, 0]]), "GetBlockHeaders", "skip", "beyond 2^53 - 1"],
    ["a reverse flag of 2", 66, 0x03, encode([1, [5, 1, 0, 2]]), "GetBlockHeaders", "reverse", "expected 0 or 1, got 2"],
    ["a reverse flag of two bytes", 62, 0x03, encode([5, 1, 0, Uint8Array.of(1, 0)]), "GetBlockHeaders", "reverse", "exceeds 1"],
    ["a header with a bad field", 66, 0x04, encode([1, [headerFields, badDifficulty]]), "BlockHeaders", "headers[1].difficulty", "not minimal"],
    ["a header of 14 fields", 62, 0x04, encode([headerFields.slice(1)]), "BlockHeaders", "headers[0]", "expected 15 fields"],
    ["a body of one part", 66, 0x06, encode([1, [[[]]]]), "BlockBodies", "bodies[0]", "expected 2 fields"],
    ["an uncle with a bad field", 62, 0x06, encode([[[], [badDifficulty]]]), "BlockBodies", "bodies[0].uncles[0].difficulty", "not minimal"],
    ["a body's transactions as a byte string", 66, 0x06, encode([1, [[Uint8Array.of(1), []]]]), "BlockBodies", "bodies[0].transactions", "expected a list"],
    ["an announcement without its number", 62, 0x01, encode([[hash]]), "NewBlockHashes", "announcements[0]", "expected 2 fields"],
    ["an announcement of a 20-byte hash", 66, 0x01, encode([[hash.subarray(12), 1]]), "NewBlockHashes", "announcements[0].hash", "got 20 bytes"],
    ["a NewBlock whose block is malformed", 66, 0x07, encode([[badDifficulty, [], []], 5]), "NewBlock", "block.header.difficulty", "not minimal"],
    ["an eth/67 announcement under eth/68", 68, 0x08, encode([hash, hash]), "NewPooledTransactionHashes", "payload", "expected 3 fields"],
    ["an eth/68 announcement with one size too few", 68, 0x08, encode([Uint8Array.of(0, 0), [1], [hash, hash]]), "NewPooledTransactionHashes", "payload", "2 types and 1 sizes for 2 hashes"],
    ["an eth/68 announcement's types as a list", 68, 0x08, encode([[0], [1], [hash]]), "NewPooledTransactionHashes", "types", "expected a byte string"],
    ["an eth/68 size over 32 bits", 68, 0x08, encode([Uint8Array.of(0), [2n ** 32n], [hash]]), "NewPooledTransactionHashes", "sizes[0]", "exceeds 4"],
    ["a node data value that is a list", 63, 0x0e, encode([[1]]), "NodeData", "values[0]", "expected a byte string"],
    ["a receipt list that is a byte string", 66, 0x10, encode([1, [Uint8Array.of(5)]]), "Receipts", "receipts[0]", "expected a list"],
    ["a pooled transaction with a malformed item inside", 66, 0x0a, Rlp.encodeList([Rlp.encodeInteger(1), Uint8Array.of(0xc4, 0xc3, 0xc2, 0x81, 0x05)]), "PooledTransactions", "transactions[0]", "single byte below 0x80"]
  ]
  for (const [what, version, code, payload, kind, field, reason] of cases) {
    it(what, () => {
      const error = refused(version, code, payload)
      expect(error._tag).toBe("MalformedMessage")
      expect(error).toMatchObject({ kind, field })
      expect(error.message).toContain(reason)
    })
  }
})

describe("HeaderFirstMessage never throws", () => {
  const versions = fc.constantFrom(...HeaderFirstVersion.all)

  it("on any bytes under any code, and whatever it accepts is canonical: it re-encodes to the same bytes", () => {
    fc.assert(
      fc.property(versions, fc.integer({ min: 0, max: 0x11 }), fc.uint8Array({ maxLength: 400 }), (version, code, payload) => {
        const result = HeaderFirstMessage.decode(version, code, payload)
        if (Result.isSuccess(result)) expect(Hex.fromBytes(HeaderFirstMessage.encode(result.success).payload)).toBe(Hex.fromBytes(payload))
      }),
      { numRuns: 3000 }
    )
  })

  it("on valid messages with bytes changed or cut off", () => {
    const damaged = versioned.chain(([version, original]) => {
      const { code, payload } = HeaderFirstMessage.encode(original)
      return fc.tuple(
        fc.constant(version),
        fc.constant(code),
        fc.constant(payload),
        fc.array(fc.tuple(fc.nat(payload.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 3 }),
        fc.nat(payload.length)
      )
    })
    fc.assert(
      fc.property(damaged, ([version, code, payload, flips, cut]) => {
        const bytes = payload.slice(0, cut)
        for (const [at, mask] of flips) if (at < bytes.length) bytes[at]! ^= mask
        const result = HeaderFirstMessage.decode(version, code, bytes)
        if (Result.isSuccess(result)) expect(Hex.fromBytes(HeaderFirstMessage.encode(result.success).payload)).toBe(Hex.fromBytes(bytes))
      }),
      { numRuns: 1500 }
    )
  })
})
