/**
 * `ethsync export --datadir DIR FILE [--first N] [--last M]`: writes the canonical chain in the
 * `geth export` format.
 *
 * @since 0.1.0
 */
import { Console, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as ChainExport from "../ChainExport.ts"
import * as LmdbChainStore from "../LmdbChainStore.ts"
import * as Progress from "../Progress.ts"
import * as Flags from "./Flags.ts"

/** The `export` command. */
export const command = Command.make("export", {
  datadir: Flags.datadir({ mustExist: true }),
  first: Flag.Int("first").pipe(Flag.withDescription("First block number to write (default 0)"), Flag.withDefault(0)),
  last: Flag.Int("last").pipe(Flag.withDescription("Last block number to write (default: the head)"), Flag.optional),
  file: Argument.File("file").pipe(Argument.withDescription("File to write; replaced if it exists"))
}, ({ datadir, first, last, file }) =>
  Effect.scoped(Effect.gen(function*() {
    const store = yield* LmdbChainStore.make({ path: datadir, readOnly: true })
    const options = { first, last: Option.getOrUndefined(last) }
    const range = ChainExport.range(options, (yield* store.head).block.number)
    const meter = yield* Progress.make(Math.max(0, range.last - range.first + 1))
    const summary = yield* Effect.scoped(Effect.andThen(
      Progress.show("exporting", meter),
      ChainExport.exportChain(store, file, { ...options, meter })
    ))
    yield* Console.log(`exported blocks ${summary.first}..${summary.last} (${summary.bytes} bytes) to ${file}`)
  }))).pipe(
  Command.withDescription("Write canonical blocks [first..last] to a file in the `geth export` format (concatenated RLP blocks)"),
  Command.withExamples([
    { command: "ethsync export --datadir ./chain chain.rlp", description: "Export the whole canonical chain" },
    { command: "ethsync export --datadir ./chain --first 1000 --last 1999 part.rlp", description: "Export blocks 1000..1999" }
  ])
)
