/**
 * The local chain the downloader imports into: a service, so memory, LMDB or anything else can
 * stand behind it.
 *
 * @since 0.1.0
 */
import { Context, Data, type Effect, type Option } from "effect"
import type * as Block from "./Block.ts"
import type * as Hash from "./Hash.ts"
import type * as Header from "./Header.ts"
import type { InvalidBlock } from "./InvalidBlock.ts"

/** A batch insert stopped at a block: its index in the batch and the rule it broke. */
export class InsertFailed extends Data.TaggedError("InsertFailed")<{
  /** Index in the batch of the first block not inserted; the blocks before it were. */
  readonly index: number
  /** Why that block was refused. */
  readonly error: InvalidBlock
}> {
  override get message() {
    return `block at index ${this.index} of the batch refused: ${this.error.message}`
  }
}

/** The storage behind the chain failed (disk, permissions, corruption); not the data's fault. */
export class StoreError extends Data.TaggedError("StoreError")<{
  /** What was being done. */
  readonly operation: string
  /** What went wrong, in words. */
  readonly reason: string
}> {
  override get message() {
    return `chain store: ${this.operation} failed: ${this.reason}`
  }
}

/** A block named by its number and hash: enough for a store to find it whichever way it is keyed. */
export interface BlockId {
  /** Its height. */
  readonly number: number
  /** Its hash. */
  readonly hash: Hash.Hash
}

/** How much one read of block RLPs ({@link Shape.blockRlps}) gives at most: what one answer to a peer may hold. */
export interface RlpLimits {
  /** Most blocks. */
  readonly blocks: number
  /** Most bytes of their RLPs together (a first block larger than this is still given, alone). */
  readonly bytes: number
}

/**
 * The RLPs `read` finds for `hashes`, in order, unknown ones skipped, within `limits`: what a
 * store's {@link Shape.blockRlps} gives, `read` being its read of one block's stored bytes.
 */
export const collectRlps = (
  hashes: ReadonlyArray<Hash.Hash>,
  limits: RlpLimits,
  read: (hash: Hash.Hash) => Uint8Array | undefined
): Array<Uint8Array> => {
  const out: Array<Uint8Array> = []
  let bytes = 0
  for (const hash of hashes) {
    if (out.length >= limits.blocks) break
    const rlp = read(hash)
    if (rlp === undefined) continue
    if (out.length > 0 && bytes + rlp.length > limits.bytes) break
    out.push(rlp)
    bytes += rlp.length
  }
  return out
}

/** The head of the canonical chain: the block with the highest total difficulty. */
export interface Head {
  /** The head block. */
  readonly block: Block.Block
  /** Its total difficulty. */
  readonly td: bigint
}

/** What the downloader and the node need of a chain. */
export interface Shape {
  /** The genesis block this chain grows from. */
  readonly genesis: Block.Block
  /** Whether a block is stored. */
  readonly has: (hash: Hash.Hash) => Effect.Effect<boolean, StoreError>
  /** Index of the first of `hashes` that is stored, or -1: one call for a whole hash reply. */
  readonly firstKnown: (hashes: ReadonlyArray<Hash.Hash>) => Effect.Effect<number, StoreError>
  /** A stored block by hash. */
  readonly get: (hash: Hash.Hash) => Effect.Effect<Option.Option<Block.Block>, StoreError>
  /** The canonical block at a height. */
  readonly getByNumber: (number: number) => Effect.Effect<Option.Option<Block.Block>, StoreError>
  /**
   * The canonical hashes of the heights `first` .. `first + count - 1` that exist (0 up to the
   * head), ascending: one read of the canonical index answers a whole hash request.
   */
  readonly canonicalHashes: (first: number, count: number) => Effect.Effect<ReadonlyArray<Hash.Hash>, StoreError>
  /** A stored block's header (forks included), read without decoding its body. */
  readonly header: (hash: Hash.Hash) => Effect.Effect<Option.Option<Header.Header>, StoreError>
  /**
   * The RLPs, each as it was stored (neither decoded nor re-encoded: what a peer is sent), of the
   * stored blocks among `hashes` (forks included), in order, unknown ones skipped, within `limits`
   * (it stops before the block that would take it past them): one use of the store answers a
   * whole GetBlocks request (`collectRlps` does the walk).
   */
  readonly blockRlps: (hashes: ReadonlyArray<Hash.Hash>, limits: RlpLimits) => Effect.Effect<ReadonlyArray<Uint8Array>, StoreError>
  /**
   * The header RLP, as stored and not decoded, of each of `blocks` that is stored (forks included),
   * in order, unknown ones skipped: one call answers a whole BlockHeaders request. Each is named by
   * its number and hash, which a server walking the canonical index knows, so that a store keyed by
   * number finds it without a lookup by hash.
   */
  readonly headerRlps: (blocks: ReadonlyArray<BlockId>) => Effect.Effect<ReadonlyArray<Uint8Array>, StoreError>
  /**
   * A stored block's body, `[transactions, uncles]`, made from its stored bytes without decoding
   * them: what a BlockBodies answer carries.
   */
  readonly bodyRlp: (hash: Hash.Hash) => Effect.Effect<Option.Option<Uint8Array>, StoreError>
  /** The total difficulty of a stored block. */
  readonly td: (hash: Hash.Hash) => Effect.Effect<Option.Option<bigint>, StoreError>
  /** The canonical head and its TD. */
  readonly head: Effect.Effect<Head, StoreError>
  /**
   * Checks each block by the Frontier rules against its ancestors (stored, or earlier in the
   * batch), then its seal and its uncles' seals with the store's SealVerifier, and stores it;
   * blocks already stored are skipped. Returns how many blocks were new. Fails with InsertFailed
   * at the first bad block, after storing the ones before it. A caller may run it uninterruptibly
   * so that no interrupt separates a write from its result (the downloader does): it lets
   * interrupts in itself while nothing is written, and a write it has begun it finishes, durably,
   * before it returns.
   */
  readonly insert: (blocks: ReadonlyArray<Block.Block>) => Effect.Effect<number, InsertFailed | StoreError>
}

/** The chain store service. */
export class ChainStore extends Context.Service<ChainStore, Shape>()("@ethsync/core/ChainStore") {}
