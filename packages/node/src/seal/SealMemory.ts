/**
 * A seal verifier that remembers the headers whose seals it found good, so that a header checked
 * twice costs one check: the header-first engine checks seals before it asks for bodies, and the
 * chain store checks them again when it inserts the blocks. A header is remembered by its hash,
 * which covers its seal, so a remembered header is exactly one whose seal was good. Bounded: the
 * oldest are forgotten first.
 *
 * @since 0.2.0
 */
import { Hash, type InvalidBlock, type SealVerifier } from "@ethsync/core"
import { Effect } from "effect"

/** Headers remembered unless told otherwise: twice the header-first engine's window of 4096. */
export const defaultCapacity = 8192

/** `verifier`, remembering up to `capacity` good seals. */
export const remembering = (verifier: SealVerifier.Shape, capacity = defaultCapacity): SealVerifier.Shape => {
  /** Keys of headers whose seal was good, oldest first. */
  const good = new Set<string>()
  return {
    name: verifier.name,
    verify: (headers) =>
      Effect.gen(function*() {
        const unknown = headers.filter((header) => !good.has(Hash.key(header.hash)))
        const checked = unknown.length === 0 ? [] : yield* verifier.verify(unknown)
        const verdicts = new Map<string, InvalidBlock.InvalidBlock | undefined>()
        unknown.forEach((header, i) => {
          const verdict = checked[i]
          verdicts.set(Hash.key(header.hash), verdict)
          if (verdict === undefined) {
            good.add(Hash.key(header.hash))
            if (good.size > capacity) good.delete(good.values().next().value!)
          }
        })
        return headers.map((header) => verdicts.get(Hash.key(header.hash)))
      })
  }
}
