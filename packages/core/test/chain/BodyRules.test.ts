import { RLP } from "@ethereumjs/rlp"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Block from "../../src/chain/Block.ts"
import * as BodyRules from "../../src/chain/BodyRules.ts"
import * as Genesis from "../../src/chain/Genesis.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Header from "../../src/chain/Header.ts"
import { InvalidBlock } from "../../src/chain/InvalidBlock.ts"
import { childBlock, childHeader, fieldsOf, transaction } from "../support/chain.ts"

const genesis = Genesis.mainnet
const uncleA = childHeader(genesis.header, { extraData: Uint8Array.of(0xa) })
const uncleB = childHeader(genesis.header, { extraData: Uint8Array.of(0xb) })
const tx0 = transaction(0n)
const tx1 = transaction(1n, new Uint8Array(40).fill(0x5a))

/** The block with its header's fields changed (the body stays). */
const withHeader = (block: Block.Block, changes: Partial<Header.Fields>): Block.Block =>
  Block.make(Header.make({ ...fieldsOf(block.header), ...changes }), block.transactions, block.uncles)

/** The InvalidBlock BodyRules.check fails with, or undefined if it passes. */
const bodyError = (block: Block.Block) => Effect.flip(BodyRules.check(block)).pipe(Effect.orElseSucceed(() => undefined))

// Protects the published empty-uncles and empty-trie hashes that every Frontier client agrees on.
describe("BodyRules constants", () => {
  it("the empty uncle list and the empty trie have their published hashes", () => {
    expect(Hash.toHex(Hash.emptyUnclesHash)).toBe("0x1dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d49347")
    expect(Hash.toHex(Hash.emptyTrieRoot)).toBe("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")
  })
})

// Protects the uncle hash rule: a header that does not commit to the block's uncles is refused.
describe("BodyRules.uncleHash", () => {
  const block = childBlock(genesis, { uncles: [uncleA, uncleB] })

  it("passes when the header commits to the uncles it carries, and with no uncles", () => {
    expect(BodyRules.uncleHash(block)).toBeUndefined()
    expect(BodyRules.uncleHash(childBlock(genesis))).toBeUndefined()
    expect(Hash.toHex(block.header.uncleHash)).toBe(Hash.toHex(Hash.keccak(RLP.encode([uncleA.rlp, uncleB.rlp].map((u) => RLP.decode(u) as Array<Uint8Array>)))))
  })

  it.effect("fails with rule uncleHash when one header field (uncleHash) is changed", () =>
    Effect.gen(function*() {
      const spoilt = withHeader(block, { uncleHash: Hash.emptyUnclesHash })
      const error = BodyRules.uncleHash(spoilt)
      expect(error).toBeInstanceOf(InvalidBlock)
      expect(error?.rule).toBe("uncleHash")
      expect(error?.number).toBe(1)
      expect(error?.hash).toBe(Hash.toHex(spoilt.hash))
      expect((yield* bodyError(spoilt))?.rule).toBe("uncleHash")
    }))

  it("fails when the uncles are reordered, dropped, or added to a block that claims none", () => {
    expect(BodyRules.uncleHash(Block.make(block.header, [], [uncleB, uncleA]))?.rule).toBe("uncleHash")
    expect(BodyRules.uncleHash(Block.make(block.header, [], [uncleA]))?.rule).toBe("uncleHash")
    expect(BodyRules.uncleHash(Block.make(childHeader(genesis.header), [], [uncleA]))?.rule).toBe("uncleHash")
  })
})

// Protects the transactions root rule: the ordered-trie root of the body must be the header's.
describe("BodyRules.transactionsRoot", () => {
  it.effect("of one transaction is keccak(rlp([hex-prefix(key rlp(0)), tx])), computed by hand", () =>
    Effect.gen(function*() {
      // rlp(0) = 0x80: nibbles 8,0; a leaf with an even path gets the prefix 0x20: path bytes 0x20 0x80.
      const leaf = RLP.encode([Uint8Array.of(0x20, 0x80), tx0])
      expect(Hash.toHex(yield* BodyRules.transactionsRoot([tx0]))).toBe(Hash.toHex(Hash.keccak(leaf)))
    }))

  it.effect("of two transactions is a branch over keys rlp(0) = 0x80 and rlp(1) = 0x01, computed by hand", () =>
    Effect.gen(function*() {
      // Key 0x01 (nibbles 0,1) hangs under branch slot 0 with the odd path "1" (prefix 0x31);
      // key 0x80 (nibbles 8,0) hangs under slot 8 with the odd path "0" (prefix 0x30).
      const leaf1 = Hash.keccak(RLP.encode([Uint8Array.of(0x31), tx1]))
      const leaf0 = Hash.keccak(RLP.encode([Uint8Array.of(0x30), tx0]))
      const slots: Array<Uint8Array> = Array.from({ length: 17 }, () => new Uint8Array(0))
      slots[0] = leaf1
      slots[8] = leaf0
      const root = Hash.keccak(RLP.encode(slots))
      expect(Hash.toHex(yield* BodyRules.transactionsRoot([tx0, tx1]))).toBe(Hash.toHex(root))
      expect(Hash.toHex(yield* BodyRules.transactionsRoot([tx1, tx0]))).not.toBe(Hash.toHex(root))
    }))

  it.effect("of no transactions is the empty trie root", () =>
    Effect.gen(function*() {
      expect(Hash.toHex(yield* BodyRules.transactionsRoot([]))).toBe(Hash.toHex(Hash.emptyTrieRoot))
    }))

  it.effect("a block with one 9-field transaction passes with the right root and fails with rule transactionsRoot with a wrong one", () =>
    Effect.gen(function*() {
      expect(RLP.decode(tx0)).toHaveLength(9)
      const root = yield* BodyRules.transactionsRoot([tx0])
      const good = childBlock(genesis, { transactions: [tx0], transactionsRoot: root })
      expect(yield* bodyError(good)).toBeUndefined()
      const wrong = withHeader(good, { transactionsRoot: Hash.emptyTrieRoot })
      const error = yield* bodyError(wrong)
      expect(error).toBeInstanceOf(InvalidBlock)
      expect(error?.rule).toBe("transactionsRoot")
      expect(error?.hash).toBe(Hash.toHex(wrong.hash))
      expect(error?.reason).toContain(Hash.toHex(root))
      // The same header with a different transaction in the body.
      const swapped = Block.make(good.header, [tx1], [])
      expect((yield* bodyError(swapped))?.rule).toBe("transactionsRoot")
    }))

  it.effect("a block without transactions whose header names a non-empty root fails with rule transactionsRoot", () =>
    Effect.gen(function*() {
      const wrong = childBlock(genesis, { transactionsRoot: Hash.keccak(tx0) })
      expect((yield* bodyError(wrong))?.rule).toBe("transactionsRoot")
      expect(yield* bodyError(childBlock(genesis))).toBeUndefined()
    }))

  it.effect("check reports the uncle hash before the transactions root", () =>
    Effect.gen(function*() {
      const both = Block.make(childHeader(genesis.header), [tx0], [uncleA])
      expect((yield* bodyError(both))?.rule).toBe("uncleHash")
    }))
})
