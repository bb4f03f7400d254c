/**
 * M1's served chain: `blocks` generated blocks on the testkit's test genesis (no uncles, no
 * transactions, seals made up), imported into an LMDB datadir once and kept under the OS temp dir,
 * named by the chain's parameters, so that later runs reuse it (making it is not timed). A
 * datadir whose making was cut short has no `complete.json` and is made again.
 *
 * @since 0.2.0
 */
import { NodeServices } from "@effect/platform-node"
import { Hex, SealVerifier } from "@ethsync/core"
import { LmdbChainStore } from "@ethsync/node"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect } from "effect"
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { BenchFailed } from "./Workloads.ts"

/** A made chain, ready to serve. */
export interface Chain {
  /** The LMDB datadir holding it. */
  readonly datadir: string
  /** A geth-format file of its genesis alone: what `--genesis` takes. */
  readonly genesisFile: string
  /** The genesis hash, in hex. */
  readonly genesis: string
  /** Blocks on top of the genesis. */
  readonly blocks: number
  /** The head's total difficulty. */
  readonly td: bigint
}

/**
 * Changes whenever the way the chain is made or stored changes, so an older cache is not reused
 * (2: the datadir's layout 2; a version-1 datadir would be migrated by the first server to open it).
 */
const version = 2

/** Blocks generated (and held) at a time. */
const generateAt = 8192

/** Blocks inserted in one commit. */
const insertAt = 1024

/** What `complete.json` records. */
interface Record {
  /** Blocks on top of the genesis. */
  readonly blocks: number
  /** The head's total difficulty, in decimal. */
  readonly td: string
}

/** The cached chain of `blocks` blocks, made first if it is not there. */
export const ensure = (blocks: number): Effect.Effect<Chain, BenchFailed> =>
  Effect.gen(function*() {
    const genesis = ChainGenerator.testGenesis
    const genesisHex = Hex.fromBytes(genesis.hash)
    const folder = join(tmpdir(), `ethsync-bench-chain-v${version}-${genesisHex.slice(2, 14)}-${blocks}`)
    const chain = (td: bigint): Chain => ({
      datadir: join(folder, "datadir"),
      genesisFile: join(folder, "genesis.rlp"),
      genesis: genesisHex,
      blocks,
      td
    })
    const marker = join(folder, "complete.json")
    if (existsSync(marker)) {
      const record: Record = JSON.parse(readFileSync(marker, "utf8"))
      if (record.blocks === blocks) return chain(BigInt(record.td))
    }
    rmSync(folder, { recursive: true, force: true })
    mkdirSync(folder, { recursive: true })
    const made = chain(0n)
    writeFileSync(made.genesisFile, genesis.rlp)
    const td = yield* Effect.scoped(Effect.gen(function*() {
      const store = yield* LmdbChainStore.make({ path: made.datadir, initialGenesis: genesis, verifier: SealVerifier.none })
      let parent = genesis
      for (let from = 0; from < blocks; from += generateAt) {
        const generated = yield* ChainGenerator.generate(parent, Math.min(generateAt, blocks - from), { seed: 1 + from / generateAt })
        for (let at = 0; at < generated.length; at += insertAt) yield* store.insert(generated.slice(at, at + insertAt))
        parent = generated[generated.length - 1]!
      }
      const head = yield* store.head
      if (head.block.number !== blocks) return yield* new BenchFailed({ reason: `the made chain's head is ${head.block.number}, not ${blocks}` })
      return head.td
    })).pipe(
      Effect.mapError((e) => e instanceof BenchFailed ? e : new BenchFailed({ reason: `making the chain: ${e.message}` })),
      Effect.provide(NodeServices.layer)
    )
    writeFileSync(marker, JSON.stringify({ blocks, td: td.toString() } satisfies Record))
    return chain(td)
  })
