/**
 * `--network` and `--genesis`: the chain a new datadir starts from, for every command that may
 * create one (import, serve, sync, node).
 *
 * @since 0.2.0
 */
import { Data, Effect, Option } from "effect"
import { Flag } from "effect/cli"
import * as GenesisChoice from "../GenesisChoice.ts"

/** `--network` and `--genesis` were both given. */
export class ConflictingGenesis extends Data.TaggedError("ConflictingGenesis")<{}> {
  override get message() {
    return "--network and --genesis both name a chain; give one of them"
  }
}

/** `--network NAME`: a built-in chain. */
export const network = Flag.Literals("network", GenesisChoice.networkNames).pipe(
  Flag.withDescription("Built-in chain the datadir holds; a new datadir starts from its genesis"),
  Flag.optional
)

/** `--genesis FILE`: a custom chain, whose genesis is block 0 of the file. */
export const genesis = Flag.File("genesis", { mustExist: true }).pipe(
  Flag.withDescription("Custom chain: block 0 of this RLP file is the genesis the datadir holds or starts from"),
  Flag.optional
)

/** The genesis the flags name, if they name one. */
export const chosen = (network: Option.Option<GenesisChoice.NetworkName>, genesis: Option.Option<string>) => {
  if (Option.isSome(network) && Option.isSome(genesis)) return Effect.fail(new ConflictingGenesis())
  const choice = Option.isSome(network)
    ? GenesisChoice.GenesisChoice.Network({ name: network.value })
    : Option.isSome(genesis)
    ? GenesisChoice.GenesisChoice.File({ path: genesis.value })
    : undefined
  return choice ? GenesisChoice.load(choice) : Effect.succeed(undefined)
}
