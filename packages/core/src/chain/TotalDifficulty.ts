/**
 * Total difficulty: the sum of difficulties from genesis up to a block; the best chain has the most.
 *
 * @since 0.1.0
 */
import type * as Header from "./Header.ts"

/** The TD of `header` given its parent's TD. */
export const next = (parentTd: bigint, header: Header.Header): bigint => parentTd + header.difficulty

/** The TD of the last of `headers`, a chain from genesis. */
export const of = (headers: Iterable<Header.Header>): bigint => {
  let td = 0n
  for (const header of headers) td += header.difficulty
  return td
}
