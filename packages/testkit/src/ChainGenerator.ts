/**
 * Deterministic Frontier test chains: blocks drawn from a seed, each valid against its parent by
 * every header and body rule (the proof-of-work seal aside), optionally with uncles and transactions.
 *
 * @since 0.1.0
 */
import { Block, BodyRules, Hash, Header, HeaderRules, Rlp } from "@ethsync/core"
import { Effect } from "effect"

/** Options of a generated chain. */
export interface Options {
  /** PRNG seed (an integer): same seed, parent and options give identical blocks. Default 1. */
  readonly seed?: number
  /** Include 0-2 uncle headers (siblings of the parent or grandparent) in some blocks. Default false. */
  readonly uncles?: boolean
  /** Include 0-3 random 9-field transactions in some blocks, with the right trie root. Default false. */
  readonly transactions?: boolean
}

/** A seeded stream of uint32 words. */
type Random = () => number

/** mulberry32: a small, fast PRNG whose whole state is one 32-bit word. */
const random = (seed: number): Random => {
  /** The generator's state. */
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), state | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }
}

/** A uniform integer in [0, n). */
const below = (next: Random, n: number): number => Math.floor((next() / 4294967296) * n)

/** `n` seeded bytes, four per word. */
const bytes = (next: Random, n: number): Uint8Array => {
  const out = new Uint8Array(n)
  /** The word whose bytes are being used. */
  let word = 0
  for (let i = 0; i < n; i++) {
    if ((i & 3) === 0) word = next()
    out[i] = word >>> ((i & 3) << 3)
  }
  return out
}

/** 32 seeded bytes. */
const hash = (next: Random): Hash.Hash => Hash.makeUnsafe(bytes(next, 32))

/** 32 seeded bytes with a non-zero first byte: a minimal RLP integer (a signature's r or s). */
const word256 = (next: Random): Uint8Array => {
  const out = bytes(next, 32)
  out[0] ||= 1
  return out
}

/** 256 zero bytes: every generated logsBloom (shared by all headers; never written to). */
const emptyBloom = new Uint8Array(256)

/** An empty transaction or uncle list (shared). */
const none: ReadonlyArray<never> = []

/** A small genesis for test chains: low difficulty (131072), gasLimit 3141592, timestamp 0, distinct from mainnet's. */
export const testGenesis: Block.Block = Block.make(
  Header.make({
    parentHash: Hash.zero,
    uncleHash: Hash.emptyUnclesHash,
    coinbase: new Uint8Array(20),
    stateRoot: Hash.emptyTrieRoot,
    transactionsRoot: Hash.emptyTrieRoot,
    receiptsRoot: Hash.emptyTrieRoot,
    logsBloom: emptyBloom,
    difficulty: HeaderRules.minimumDifficulty,
    number: 0,
    gasLimit: 3141592n,
    gasUsed: 0n,
    timestamp: 0n,
    extraData: new TextEncoder().encode("ethsync test genesis"),
    mixHash: Hash.zero,
    nonce: new Uint8Array(8)
  }),
  none,
  none
)

/** A block's transactions and the gas they use. */
interface Body {
  /** Each transaction's RLP. */
  readonly transactions: ReadonlyArray<Uint8Array>
  /** Intrinsic gas of the transactions (21000 plus 68 per data byte each). */
  readonly gasUsed: bigint
}

/** In half the blocks, 1-3 random 9-field Frontier transactions (nonce, gasPrice, gasLimit, to, value, data, v, r, s; not really signed). */
const drawBody = (next: Random): Body => {
  const count = below(next, 2) === 0 ? 1 + below(next, 3) : 0
  if (count === 0) return { transactions: none, gasUsed: 0n }
  const transactions: Array<Uint8Array> = []
  let gasUsed = 0
  for (let i = 0; i < count; i++) {
    const data = bytes(next, below(next, 65))
    const gas = 21000 + 68 * data.length
    gasUsed += gas
    transactions.push(Rlp.encodeList([
      Rlp.encodeInteger(below(next, 1000)),
      Rlp.encodeInteger(BigInt(1 + below(next, 100)) * 1_000_000_000n),
      Rlp.encodeInteger(gas),
      Rlp.encodeBytes(bytes(next, 20)),
      Rlp.encodeInteger(next()),
      Rlp.encodeBytes(data),
      Rlp.encodeInteger(27 + below(next, 2)),
      Rlp.encodeBytes(word256(next)),
      Rlp.encodeBytes(word256(next))
    ]))
  }
  return { transactions, gasUsed: BigInt(gasUsed) }
}

/** A sibling of `of` (same parent, number, timestamp, difficulty and gas limit, so valid against that parent; another coinbase). */
const sibling = (next: Random, of: Header.Header): Header.Header =>
  Header.make({
    ...of,
    uncleHash: Hash.emptyUnclesHash,
    coinbase: bytes(next, 20),
    stateRoot: hash(next),
    transactionsRoot: Hash.emptyTrieRoot,
    receiptsRoot: hash(next),
    gasUsed: 0n,
    mixHash: hash(next),
    nonce: bytes(next, 8)
  })

/** In a quarter of the blocks, 1-2 uncles, each a sibling of the parent or (when known) the grandparent; never of a genesis. */
const drawUncles = (next: Random, parent: Header.Header, grandparent: Header.Header | undefined): ReadonlyArray<Header.Header> => {
  const count = below(next, 4) === 0 ? 1 + below(next, 2) : 0
  if (count === 0) return none
  const uncles: Array<Header.Header> = []
  for (let i = 0; i < count; i++) {
    const of = grandparent !== undefined && grandparent.number > 0 && below(next, 2) === 1 ? grandparent : parent
    if (of.number > 0) uncles.push(sibling(next, of))
  }
  return uncles
}

/** The blocks on `parent`, every field drawn from `next`; `bodies` and their `roots` are given when blocks carry transactions. */
const build = (
  parent: Block.Block,
  length: number,
  next: Random,
  withUncles: boolean,
  bodies: ReadonlyArray<Body> | undefined,
  roots: ReadonlyArray<Hash.Hash> | undefined
): ReadonlyArray<Block.Block> => {
  const blocks: Array<Block.Block> = []
  /** The header the next block builds on. */
  let previous = parent.header
  /** The parent of `previous`, once generated here: uncles may be its siblings too. */
  let before: Header.Header | undefined
  for (let i = 0; i < length; i++) {
    const timestamp = previous.timestamp + BigInt(1 + below(next, 20))
    const bound = Number(previous.gasLimit / HeaderRules.gasLimitBoundDivisor)
    let gasLimit = previous.gasLimit + BigInt(below(next, 2 * bound - 1) - bound + 1)
    if (gasLimit < HeaderRules.minGasLimit) gasLimit = HeaderRules.minGasLimit
    const uncles = withUncles ? drawUncles(next, previous, before) : none
    const body = bodies?.[i]
    const header = Header.make({
      parentHash: previous.hash,
      uncleHash: Block.hashUncles(uncles),
      coinbase: bytes(next, 20),
      stateRoot: hash(next),
      transactionsRoot: roots?.[i] ?? Hash.emptyTrieRoot,
      receiptsRoot: hash(next),
      logsBloom: emptyBloom,
      difficulty: HeaderRules.expectedDifficulty(previous, timestamp),
      number: previous.number + 1,
      gasLimit,
      gasUsed: body === undefined ? 0n : body.gasUsed < gasLimit ? body.gasUsed : gasLimit,
      timestamp,
      extraData: bytes(next, below(next, Header.maxExtraData + 1)),
      mixHash: hash(next),
      nonce: bytes(next, 8)
    })
    blocks.push(Block.make(header, body?.transactions ?? none, uncles))
    before = previous
    previous = header
  }
  return blocks
}

/** `length` valid blocks on top of `parent` (numbers parent+1 .. parent+length), each passing every Frontier header and body rule against its predecessor (seal unchecked). */
export const generate = (parent: Block.Block, length: number, options: Options = {}): Effect.Effect<ReadonlyArray<Block.Block>> =>
  Effect.suspend(() => {
    const next = random(options.seed ?? 1)
    const withUncles = options.uncles ?? false
    if (!options.transactions) return Effect.succeed(build(parent, length, next, withUncles, undefined, undefined))
    const bodies: Array<Body> = []
    for (let i = 0; i < length; i++) bodies.push(drawBody(next))
    return Effect.map(
      Effect.forEach(bodies, (body) => BodyRules.transactionsRoot(body.transactions)),
      (roots) => build(parent, length, next, withUncles, bodies, roots)
    )
  })

/** A fork: `length` blocks branching off `chain[at]` (chain[0] being the array's first block), different from `chain[at + 1]` on (if its seed would repeat it, the next seeds are tried). */
export const fork = (
  chain: ReadonlyArray<Block.Block>,
  at: number,
  length: number,
  options: Options = {}
): Effect.Effect<ReadonlyArray<Block.Block>> => {
  const base = chain[at]
  if (base === undefined) return Effect.die(new RangeError(`fork point ${at} is outside a chain of ${chain.length} blocks`))
  const original = chain[at + 1]
  const attempt = (seed: number): Effect.Effect<ReadonlyArray<Block.Block>> =>
    Effect.flatMap(generate(base, length, { ...options, seed }), (blocks) =>
      original !== undefined && blocks[0] !== undefined && Hash.equals(blocks[0].hash, original.hash)
        ? attempt(seed + 1)
        : Effect.succeed(blocks))
  return attempt(options.seed ?? 1)
}
