/**
 * Helpers for the network tests: nodes on 127.0.0.1 with short durations, a server holding the
 * real mainnet blocks in memory, a syncing node on an LMDB datadir in a temp dir, and the bytes
 * its export writes.
 */
import { type Block, type ChainStore, Genesis, MemoryChainStore, SealVerifier } from "@ethsync/core"
import { Effect, References, type Scope } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { NodeServices } from "@effect/platform-node"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import * as ChainExport from "../../src/ChainExport.ts"
import * as LmdbChainStore from "../../src/LmdbChainStore.ts"
import * as EthNode from "../../src/net/EthNode.ts"
import * as Enode from "../../src/rlpx/Enode.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"
import * as TempDir from "../TempDir.ts"

/** Durations for tests: quick redials and syncs, limits that a busy event loop does not hit by accident. */
export const testTiming: Partial<EthNode.Timing> = {
  rlpx: { handshakeTimeout: "5 seconds", pingInterval: "1 second", idleTimeout: "15 seconds" },
  statusTimeout: "2 seconds",
  redialMin: "100 millis",
  redialMax: "1 second",
  syncInterval: "500 millis",
  headCheck: "100 millis",
  peerlessLimit: "10 seconds"
}

/** The real mainnet blocks 0..8191 (only where ETHSYNC_MAINNET_RLP is set). */
export const mainnetBlocks = (): ReadonlyArray<Block.Block> => Mainnet.load().blocks

/** A memory store holding mainnet blocks 0..`last`. */
export const mainnetStore = (last: number): Effect.Effect<ChainStore.Shape> =>
  Effect.gen(function*() {
    const blocks = mainnetBlocks()
    const store = MemoryChainStore.make(blocks[0]!)
    yield* Effect.orDie(store.insert(blocks.slice(1, last + 1)))
    return store
  })

/** The LMDB store of a syncing node. */
export type Store = LmdbChainStore.Store

/** An empty LMDB datadir of the mainnet chain in a temp dir. */
export const emptyDatadir: Effect.Effect<LmdbChainStore.Store, LmdbChainStore.OpenError, Scope.Scope> = Effect.flatMap(
  TempDir.make,
  (dir) => LmdbChainStore.make({ path: Path.join(dir, "datadir"), genesis: Genesis.mainnet, verifier: SealVerifier.none })
)

/** A mainnet node on 127.0.0.1 with a fresh key and the test durations, logging warnings only. */
export const node = (store: ChainStore.Shape, overrides: Partial<EthNode.Options> = {}) =>
  EthNode.make({ store, key: NodeKey.generate(), networkId: Genesis.mainnetNetworkId, timing: testTiming, ...overrides }).pipe(
    Effect.provideService(References.MinimumLogLevel, "Warn")
  )

/** The enode of a URL we formatted (a parse failure is a bug: it throws). */
export const enodeOf = (url: string): Enode.Enode => {
  const enode = Enode.parse(url)
  if (enode instanceof Enode.EnodeUrlError) throw enode
  return enode
}

/** Whether a store's export of its whole chain is byte-identical to the mainnet file. */
export const exportsTheFile = (store: LmdbChainStore.Store) =>
  Effect.gen(function*() {
    const dir = yield* TempDir.make
    const out = Path.join(dir, "export.rlp")
    yield* ChainExport.exportChain(store, out, { first: 0 })
    return Fs.readFileSync(out).equals(Fs.readFileSync(Mainnet.rlpPath!))
  }).pipe(Effect.provide(NodeServices.layer))
