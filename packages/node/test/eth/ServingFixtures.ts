/**
 * What the serving tests of both protocol families share: the stores under test (memory and
 * LMDB), a way to run a serving effect against one, chains of large blocks for the size limits,
 * and small helpers to compare answers.
 */
import { RLP } from "@ethereumjs/rlp"
import { Block, BodyRules, ChainStore, Hash, MemoryChainStore, SealVerifier } from "@ethsync/core"
import { Effect, type Scope } from "effect"
import * as Path from "node:path"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import * as LmdbChainStore from "../../src/LmdbChainStore.ts"
import * as TempDir from "../TempDir.ts"
import * as TestChain from "../TestChain.ts"

/** Opens an empty store of the implementation under test, holding `genesis`. */
export type Open = (genesis: Block.Block) => Effect.Effect<ChainStore.Shape, unknown, Scope.Scope>

/** The memory store. */
export const openMemory: Open = (genesis) => Effect.succeed(MemoryChainStore.make(genesis))

/** The LMDB store in a temporary datadir; serving is tested here, not seals, so it checks none (generated seals are made up). */
export const openLmdb: Open = (genesis) =>
  Effect.flatMap(TempDir.make, (dir) => LmdbChainStore.make({ path: Path.join(dir, "datadir"), genesis, verifier: SealVerifier.none }))

/** Runs a serving effect against `store`. */
export const from = (store: ChainStore.Shape) => <A, E>(effect: Effect.Effect<A, E, ChainStore.ChainStore>) =>
  Effect.provideService(effect, ChainStore.ChainStore, store)

/** Hashes as 0x-hex. */
export const hexes = (hashes: ReadonlyArray<Hash.Hash>) => hashes.map(Hash.toHex)

/** Blocks' hashes as 0x-hex. */
export const hashesOf = (blocks: ReadonlyArray<Block.Block>) => blocks.map((b) => Hash.toHex(b.hash))

/** Bytes as the hex of their Keccak-256: a short stand-in for comparing large blocks. */
export const digest = (bytes: Uint8Array) => Hash.toHex(Hash.keccak(bytes))

/** A hash no store holds. */
export const unknown = Hash.keccak(Uint8Array.of(0xee))

/** A Frontier transaction carrying `size` bytes of data. */
const bigTransaction = (size: number, nonce: number): Uint8Array =>
  RLP.encode([nonce, 1, 21000, new Uint8Array(20).fill(1), 0, new Uint8Array(size).fill(7), 27, 1, 1])

/** `count` valid blocks on `parent`, each carrying one transaction of `size` data bytes. */
export const bigBlocks = (parent: Block.Block, count: number, size: number) =>
  Effect.gen(function*() {
    const out: Array<Block.Block> = []
    let tip = parent
    for (let i = 0; i < count; i++) {
      const tx = bigTransaction(size, i)
      const header = TestChain.child(tip, 15n, { transactionsRoot: yield* BodyRules.transactionsRoot([tx]) }).header
      tip = Block.make(header, [tx], [])
      out.push(tip)
    }
    return out
  })

/** An LMDB store holding every block of the mainnet file (ETHSYNC_MAINNET_RLP), with the file's blocks and items. */
export const mainnetStore = Effect.gen(function*() {
  const { blocks, items } = Mainnet.load()
  const store = yield* openLmdb(blocks[0]!)
  for (let at = 1; at < blocks.length; at += 2048) yield* store.insert(blocks.slice(at, at + 2048))
  return { blocks, items, store }
})
