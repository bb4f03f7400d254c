/**
 * `ethsync import --datadir DIR FILE...`: imports `geth export`-format files into a datadir.
 *
 * @since 0.1.0
 */
import { ChainStore, Hash, SealVerifier } from "@ethsync/core"
import { Console, Data, Duration, Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as BlockFile from "../BlockFile.ts"
import * as ChainImport from "../ChainImport.ts"
import * as GenesisChoice from "../GenesisChoice.ts"
import * as LmdbChainStore from "../LmdbChainStore.ts"
import * as Progress from "../Progress.ts"
import * as SealChoice from "../SealChoice.ts"
import * as SealPrefetch from "../SealPrefetch.ts"
import * as Flags from "./Flags.ts"
import * as GenesisFlags from "./GenesisFlags.ts"

/** An empty datadir, and nothing that names its chain: no flag, and no block 0 at the start of the first file. */
export class ChainUnnamed extends Data.TaggedError("ChainUnnamed")<{
  /** The datadir's folder. */
  readonly path: string
  /** The first file, which does not start with a block 0. */
  readonly file: string
}> {
  override get message() {
    return `datadir ${this.path} holds no chain yet and ${this.file} does not start with block 0: ` +
      "pass --network or --genesis to name the chain it holds"
  }
}

/** The `import` command. */
export const command = Command.make("import", {
  datadir: Flags.datadir({ mustExist: false }),
  network: GenesisFlags.network,
  genesis: GenesisFlags.genesis,
  verifySeals: Flags.verifySeals,
  batchSize: Flag.Int("batch-size").pipe(
    Flag.withDescription("Blocks written per transaction (default 1024)"),
    Flag.filter((n) => n >= 1, (n) => `a batch holds at least 1 block, not ${n}`),
    Flag.withDefault(1024)
  ),
  files: Argument.File("file", { mustExist: true }).pipe(
    Argument.withDescription("Files of concatenated RLP blocks, as `geth export` writes them; imported in order"),
    Argument.variadic({ min: 1 })
  )
}, ({ datadir, network, genesis, batchSize, files }) =>
  Effect.scoped(Effect.gen(function*() {
    const chosen = yield* GenesisFlags.chosen(network, genesis)
    const initialGenesis = chosen ? undefined : yield* GenesisChoice.leadingGenesis(files[0]!)
    // With neither, only a datadir that holds a chain opens; an empty one is left as it is.
    const prefetch = yield* SealPrefetch.make(yield* SealVerifier.SealVerifier)
    const store = yield* LmdbChainStore.make({ path: datadir, genesis: chosen, initialGenesis, verifier: prefetch.verifier }).pipe(
      Effect.catchTag("EmptyDatadir", () => Effect.fail(new ChainUnnamed({ path: datadir, file: files[0]! })))
    )
    const meter = yield* Progress.make(yield* BlockFile.totalSize(files))
    const [took, summary] = yield* Effect.timed(Effect.scoped(Effect.andThen(
      Progress.show("importing", meter),
      ChainImport.importFiles(files, { batchSize, meter, prefetch })
    ))).pipe(Effect.provideService(ChainStore.ChainStore, store))
    const head = yield* store.head
    const seconds = Duration.toMillis(took) / 1000
    yield* Console.log(
      `imported ${summary.imported} new blocks of ${summary.read} read in ${seconds.toFixed(2)} s ` +
        `(${Math.round(summary.read / Math.max(seconds, 0.001))} blocks/s); ` +
        `head ${head.block.number} ${Hash.toHex(head.block.hash)}`
    )
  }))).pipe(
  Command.provide((input) => SealChoice.layer(input.verifySeals, input.datadir)),
  Command.withShortDescription("Import blocks from `geth export`-format files"),
  Command.withDescription(
    "Import blocks from files in the `geth export` format. A leading block 0 must be the datadir's genesis " +
      "(an empty datadir starts from it; without one, an empty datadir needs --network or --genesis). " +
      "Blocks already stored are skipped. Every seal is checked (Ethash) unless --verify-seals none. " +
      "The first invalid block stops the import (exit code 1) with everything before it kept."
  ),
  Command.withExamples([
    { command: "ethsync import --datadir ./chain mainnet-0-8191.rlp", description: "Import mainnet blocks 0..8191" },
    { command: "ethsync import --datadir ./dev --genesis dev.rlp dev.rlp", description: "Start a custom chain from block 0 of dev.rlp" }
  ])
)
