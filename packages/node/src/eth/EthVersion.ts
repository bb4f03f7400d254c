/**
 * The eth protocol versions ethsync speaks, 60 and 61, and how many message codes each has:
 * what the capability negotiation of a connection needs.
 *
 * @since 0.2.0
 */

/** An eth protocol version ethsync speaks: 61 adds GetBlockHashesFromNumber to 60. */
export type EthVersion = 60 | 61

/** The versions ethsync offers, highest first (the order of a hello's capability list). */
export const supported: ReadonlyArray<EthVersion> = [61, 60]

/** How many message codes a version uses (codes 0 .. count - 1, relative to the capability's offset). */
export const codeCount = (version: EthVersion): number => (version === 61 ? 9 : 8)

/** The highest version both sides offer, or undefined when they share none. */
export const highestShared = (theirs: Iterable<number>): EthVersion | undefined => {
  const offered = new Set(theirs)
  return supported.find((version) => offered.has(version))
}
