/**
 * The seal verifiers a command can be told to use (`--verify-seals`), and the layer of each.
 *
 * @since 0.2.0
 */
import { SealVerifier } from "@ethsync/core"
import type { Layer } from "effect"
import * as EthashVerifier from "./seal/EthashVerifier.ts"

/** The names `--verify-seals` takes: real Ethash checks, or none for chains with made-up seals. */
export const names = ["ethash", "none"] as const

/** One of {@link names}. */
export type Name = (typeof names)[number]

/** The verifier named `name`; Ethash keeps its epoch caches in `datadir`. */
export const layer = (name: Name, datadir: string): Layer.Layer<SealVerifier.SealVerifier> =>
  name === "ethash" ? EthashVerifier.layer({ datadir }) : SealVerifier.layerNone
