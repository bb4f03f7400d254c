/**
 * Seal checks started ahead of need. The importer starts checking seals as it reads the blocks;
 * the store's insert, which checks seals with its verifier, then finds them under way (or done)
 * instead of starting over. So a worker-pool verifier checks the next batch while the main thread
 * validates and writes the current one.
 *
 * @since 0.2.0
 */
import { type Header, type InvalidBlock, SealVerifier } from "@ethsync/core"
import { Effect, Fiber, type Scope } from "effect"

/** The verdicts of one started check, in the order of its headers. */
type Verdicts = ReadonlyArray<InvalidBlock.InvalidBlock | undefined>

/** Where a started header's verdict will be. */
interface Started {
  /** The fiber checking the header's batch. */
  readonly fiber: Fiber.Fiber<Verdicts>
  /** The header's index in that batch. */
  readonly at: number
}

/** A verifier whose checks can be started early. */
export interface SealPrefetch {
  /**
   * The verifier to give the store: it answers for started headers from their checks (once each)
   * and checks any others with the underlying verifier.
   */
  readonly verifier: SealVerifier.Shape
  /** Starts checking the seals of `headers` in the background. */
  readonly start: (headers: ReadonlyArray<Header.Header>) => Effect.Effect<void>
  /** Drops the started checks of `headers` not asked for: their blocks were stored, or will not be. */
  readonly forget: (headers: ReadonlyArray<Header.Header>) => Effect.Effect<void>
}

/**
 * Prefetching over `underlying`. Checks still running when the scope closes are interrupted; the
 * verdicts of started headers never asked for (blocks found stored, or after a refused one) are
 * kept until they are forgotten.
 */
export const make = (underlying: SealVerifier.Shape): Effect.Effect<SealPrefetch, never, Scope.Scope> =>
  Effect.map(Effect.scope, (scope) => {
    /** Checks started and not yet asked for, by header key. */
    const started = new Map<string, Started>()

    const start = (headers: ReadonlyArray<Header.Header>) =>
      Effect.map(Effect.forkIn(underlying.verify(headers), scope, { startImmediately: true }), (fiber) => {
        for (let at = 0; at < headers.length; at++) started.set(headers[at]!.key, { fiber, at })
      })

    const verify = (headers: ReadonlyArray<Header.Header>): Effect.Effect<Verdicts> =>
      Effect.gen(function*() {
        const early: Array<Started | undefined> = headers.map((header) => {
          const found = started.get(header.key)
          started.delete(header.key)
          return found
        })
        const rest = headers.filter((_, i) => early[i] === undefined)
        const own = rest.length === 0 ? [] : yield* underlying.verify(rest)
        const verdicts: Array<InvalidBlock.InvalidBlock | undefined> = []
        let next = 0
        for (const found of early) verdicts.push(found ? (yield* Fiber.join(found.fiber))[found.at] : own[next++])
        return verdicts
      })

    const forget = (headers: ReadonlyArray<Header.Header>) =>
      Effect.sync(() => {
        for (const header of headers) started.delete(header.key)
      })

    return { verifier: SealVerifier.SealVerifier.of({ name: underlying.name, verify }), start, forget }
  })
