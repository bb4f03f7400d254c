/**
 * Who checks proof-of-work seals: a service, because the real check (Ethash, in worker threads)
 * needs Node and costs real time, while chains made by the chain generator carry made-up seals
 * that only the "none" verifier accepts.
 *
 * @since 0.2.0
 */
import { Context, Effect, Layer } from "effect"
import type * as Header from "./Header.ts"
import type { InvalidBlock } from "./InvalidBlock.ts"

/** What a seal verifier does. */
export interface Shape {
  /** Its name as the CLI and summaries show it ("ethash", "none"). */
  readonly name: string
  /**
   * Checks the seal of every header (blocks and uncles alike, in any order); the result holds, at
   * the index of each header, the InvalidBlock its seal fails with, or undefined when it is good.
   */
  readonly verify: (headers: ReadonlyArray<Header.Header>) => Effect.Effect<ReadonlyArray<InvalidBlock | undefined>>
}

/** The seal verifier service. */
export class SealVerifier extends Context.Service<SealVerifier, Shape>()("@ethsync/core/SealVerifier") {}

/** Accepts every seal: for generated chains, whose seals are made up. */
export const none: Shape = {
  name: "none",
  verify: (headers) => Effect.succeed(new Array<InvalidBlock | undefined>(headers.length).fill(undefined))
}

/** The verifier that accepts every seal, as a layer. */
export const layerNone: Layer.Layer<SealVerifier> = Layer.succeed(SealVerifier, none)
