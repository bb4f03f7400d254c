/**
 * fast-check arbitraries of valid Frontier headers, transactions and blocks: any field value
 * within the sizes the decoder allows.
 */
import { RLP } from "@ethereumjs/rlp"
import fc from "fast-check"
import * as Block from "../../src/chain/Block.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Header from "../../src/chain/Header.ts"

/** Exactly `n` random bytes. */
export const bytes = (n: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: n, maxLength: n })

/** An unsigned integer of at most `maxBytes` bytes (small values and the extremes are favoured). */
export const uint = (maxBytes: number): fc.Arbitrary<bigint> => fc.bigInt({ min: 0n, max: (1n << BigInt(8 * maxBytes)) - 1n })

/** Any 32 bytes, as a hash. */
export const hash: fc.Arbitrary<Hash.Hash> = bytes(32).map(Hash.makeUnsafe)

/** Any header fields the decoder accepts. */
export const fields: fc.Arbitrary<Header.Fields> = fc.record({
  parentHash: hash,
  uncleHash: hash,
  coinbase: bytes(20),
  stateRoot: hash,
  transactionsRoot: hash,
  receiptsRoot: hash,
  logsBloom: bytes(256),
  difficulty: uint(32),
  number: fc.maxSafeNat(),
  gasLimit: uint(8),
  gasUsed: uint(8),
  timestamp: uint(8),
  extraData: fc.uint8Array({ maxLength: Header.maxExtraData }),
  mixHash: hash,
  nonce: bytes(8)
})

/** A header made from any valid fields. */
export const header: fc.Arbitrary<Header.Header> = fields.map(Header.make)

/** A Frontier transaction: `rlp([nonce, gasPrice, gasLimit, to, value, data, v, r, s])`, `to` empty for a creation. */
export const transaction: fc.Arbitrary<Uint8Array> = fc
  .tuple(
    uint(8),
    uint(32),
    uint(8),
    fc.oneof(bytes(0), bytes(20)),
    uint(32),
    fc.uint8Array({ maxLength: 300 }),
    uint(1),
    uint(32),
    uint(32)
  )
  .map((tx) => RLP.encode(tx))

/** A block with any header, 0..4 transactions and 0..2 uncles (the body need not match the header). */
export const block: fc.Arbitrary<Block.Block> = fc
  .tuple(header, fc.array(transaction, { maxLength: 4 }), fc.array(header, { maxLength: 2 }))
  .map(([h, txs, uncles]) => Block.make(h, txs, uncles))
