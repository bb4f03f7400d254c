/**
 * The attackers of the seed's scenarios, each a simulated peer spec built by changing an honest
 * peer's hash list or block map (or by adding to its replies), as the seed's tests do. Each is an
 * eth/61 attacker too, through `SimPeer.eth61`, as the hash list it serves by hash it serves by
 * number; the staller of eth/61 is its own.
 *
 * @since 0.1.0
 */
import { Block, Hash, Header } from "@ethsync/core"
import { Effect } from "effect"
import { fork } from "./ChainGenerator.ts"
import * as HashList from "./HashList.ts"
import type * as SimPeer from "./SimPeer.ts"
import { blockMapOf, type TestChain } from "./TestChain.ts"

/** A hash that no test block has: bytes of 0x02, as the seed's `unknownHash`. */
export const unknownHash: Hash.Hash = Hash.makeUnsafe(new Uint8Array(32).fill(2))

/** A copy of `block` with some header fields changed: another block, with its own hash. */
export const forge = (block: Block.Block, fields: Partial<Header.Fields>): Block.Block =>
  Block.make(Header.make({ ...block.header, ...fields }), block.transactions, block.uncles)

/** #7: a single block whose parent nobody has, on top of the genesis of `chain`. */
export const unknownParent = (id: string, chain: TestChain): SimPeer.Spec => {
  const forged = forge(chain.blocks[1]!, { parentHash: unknownHash })
  return { id, hashes: HashList.fromArray([forged.hash, chain.blocks[0]!.hash]), blocks: blockMapOf([forged]) }
}

/** #8: `chain` without its last link (the genesis): the peer never reaches a block we have. */
export const withoutLastLink = (id: string, chain: TestChain): SimPeer.Spec => ({
  id,
  hashes: HashList.fromArray(HashList.toArray(chain.hashes).slice(0, -1)),
  blocks: chain.blockMap
})

/** #9: `chain` with the hash in the middle of the list replaced by one that has no block. */
export const missingBlock = (id: string, chain: TestChain): SimPeer.Spec => {
  const hashes = HashList.toArray(chain.hashes)
  hashes[Math.floor(hashes.length / 2)] = unknownHash
  return { id, hashes: HashList.fromArray(hashes), blocks: chain.blockMap }
}

/** #10: `chain` with the 2nd and 3rd chunks of `size` hashes swapped (the blocks are all real). */
export const swappedChunks = (id: string, chain: TestChain, size: number): SimPeer.Spec => {
  const hashes = HashList.toArray(chain.hashes)
  const first = hashes.slice(size, 2 * size)
  const second = hashes.slice(2 * size, 3 * size)
  hashes.splice(size, 2 * size, ...second, ...first)
  return { id, hashes: HashList.fromArray(hashes), blocks: chain.blockMap }
}

/** #11 and #12: `count` made-up hashes on top of `root`, with no block behind any of them. */
export const madeUpChain = (id: string, count: number, root: Hash.Hash, tag: number): SimPeer.Spec => ({
  id,
  hashes: HashList.madeUp(count, root, tag),
  blocks: new Map()
})

/**
 * eth/61's staller: it claims `td`, more total difficulty than the genesis of `chain`, yet its hash
 * chain holds nothing above the genesis, so its first forward answer is empty.
 */
export const stalling61 = (id: string, chain: TestChain, td: bigint): SimPeer.Spec => ({
  id,
  hashes: HashList.fromArray([chain.blocks[0]!.hash]),
  blocks: new Map(),
  td,
  version: 61
})

/** #13: every second hash of `chain` (the blocks are all real, so each names the hash it skipped). */
export const everySecondHash = (id: string, chain: TestChain): SimPeer.Spec => {
  const hashes = HashList.toArray(chain.hashes)
  return {
    id,
    hashes: HashList.fromArray(Array.from({ length: Math.floor(hashes.length / 2) }, (_, i) => hashes[2 * i]!)),
    blocks: chain.blockMap
  }
}

/**
 * #14: `chain` with every block but the genesis forged to name the genesis as its parent. The forged
 * blocks (a keccak each) are made when the peer is first asked for them.
 */
export const genesisParents = (id: string, chain: TestChain): SimPeer.Spec => {
  const genesis = chain.blocks[0]!
  const last = chain.hashes.length - 1
  const forged = new Map<string, Block.Block>()
  const hashes = HashList.lazy(chain.hashes.length, (i) => {
    if (i === last) return genesis.hash
    const block = forge(chain.blocks[last - i]!, { parentHash: genesis.hash })
    forged.set(block.key, block)
    return block.hash
  })
  return { id, hashes, blocks: forged }
}

/** A fork peer of #15 and #16, and the first block of its fork: the hash the test bans. */
export interface BannedFork {
  /** The attacker. */
  readonly spec: SimPeer.Spec
  /** The fork's first block, on top of the shared part. */
  readonly banned: Block.Block
  /** The fork's head, which the attacker advertises. */
  readonly head: Block.Block
}

/**
 * #15 and #16: a fork of `chain` with `length` blocks above its first one (the one to ban), branching
 * where the seed's test branches (23 blocks above the middle of the chain). The peer has the
 * shared part of the chain and its fork.
 */
export const bannedFork = (id: string, chain: TestChain, length: number): Effect.Effect<BannedFork> =>
  Effect.gen(function*() {
    const at = chain.length - (Math.floor(chain.hashes.length / 2) - 23)
    const branch = yield* fork(chain.blocks, at, length + 1, { seed: 1000 })
    const shared = chain.blocks.slice(0, at + 1)
    const hashes = [...branch.map((b) => b.hash).reverse(), ...shared.map((b) => b.hash).reverse()]
    return {
      spec: { id, hashes: HashList.fromArray(hashes), blocks: blockMapOf([...shared, ...branch]) },
      banned: branch[0]!,
      head: branch[branch.length - 1]!
    }
  })

/** A peer holding `chain` but serving, for block `number`, a copy whose bytes hash to something else. */
export const tamperedBlock = (id: string, chain: TestChain, number: number): { readonly spec: SimPeer.Spec; readonly tampered: Block.Block } => {
  const real = chain.blocks[number]!
  const tampered = forge(real, { extraData: new TextEncoder().encode("tampered") })
  const blocks = new Map(chain.blockMap)
  blocks.set(real.key, tampered)
  return { spec: { id, hashes: chain.hashes, blocks }, tampered }
}
