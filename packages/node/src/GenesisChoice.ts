/**
 * Which chain a datadir holds: a built-in network (mainnet) or a custom chain whose genesis is
 * block 0 of an RLP file.
 *
 * @since 0.1.0
 */
import { type Block, Genesis } from "@ethsync/core"
import { Data, Effect, type FileSystem } from "effect"
import * as BlockFile from "./BlockFile.ts"

/** A built-in network: its genesis block and the id peers announce. */
export interface Network {
  /** Block 0. */
  readonly genesis: Block.Block
  /** The network id of the eth Status message. */
  readonly networkId: number
}

/** The built-in networks by name. */
export const networks = {
  mainnet: { genesis: Genesis.mainnet, networkId: Genesis.mainnetNetworkId }
} as const satisfies Record<string, Network>

/** The name of a built-in network. */
export type NetworkName = keyof typeof networks

/** Names of the built-in networks, for flags. */
export const networkNames: ReadonlyArray<NetworkName> = ["mainnet"]

/** Where a genesis comes from. */
export type GenesisChoice = Data.TaggedEnum<{
  /** A built-in network's genesis. */
  Network: { readonly name: NetworkName }
  /** Block 0 of a `geth export`-format file. */
  File: { readonly path: string }
}>

/** Constructors of GenesisChoice. */
export const GenesisChoice = Data.taggedEnum<GenesisChoice>()

/** A genesis file that does not start with a block 0. */
export class NotAGenesisFile extends Data.TaggedError("NotAGenesisFile")<{
  /** The file. */
  readonly path: string
  /** The number of its first block; undefined when it holds none. */
  readonly found: number | undefined
}> {
  override get message() {
    return this.found === undefined
      ? `${this.path} holds no block, so it cannot give a genesis`
      : `${this.path} does not start with a genesis block: its first block is number ${this.found}`
  }
}

/** Block 0 of a file, if the file starts with one. */
export const leadingGenesis = (path: string): Effect.Effect<Block.Block | undefined, BlockFile.BlockFileError, FileSystem.FileSystem> =>
  Effect.map(BlockFile.first(path), (first) => first?.block.number === 0 ? first.block : undefined)

/** The genesis block a choice names. */
export const load = (
  choice: GenesisChoice
): Effect.Effect<Block.Block, NotAGenesisFile | BlockFile.BlockFileError, FileSystem.FileSystem> =>
  GenesisChoice.$match(choice, {
    Network: ({ name }) => Effect.succeed(networks[name].genesis),
    File: ({ path }) =>
      Effect.flatMap(BlockFile.first(path), (first) =>
        first?.block.number === 0
          ? Effect.succeed(first.block)
          : Effect.fail(new NotAGenesisFile({ path, found: first?.block.number })))
  })
