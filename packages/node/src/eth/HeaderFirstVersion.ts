/**
 * The header-first eth versions, 62 to 68, and which messages each has: what the decoder needs to
 * refuse a code the negotiated version lacks, and what the capability negotiation offers.
 *
 * @since 0.2.0
 */

/** An eth version of the header-first family (GetBlockHeaders and GetBlockBodies replace hash chains). */
export type HeaderFirstVersion = 62 | 63 | 64 | 65 | 66 | 67 | 68

/** Every header-first version, highest first. */
export const all: ReadonlyArray<HeaderFirstVersion> = [68, 67, 66, 65, 64, 63, 62]

/** The header-first versions ethsync offers, highest first: those with request ids, which every client in use today speaks. */
export const supported: ReadonlyArray<HeaderFirstVersion> = [68, 67, 66]

/** Whether a number is a header-first version. */
export const is = (version: number): version is HeaderFirstVersion => (all as ReadonlyArray<number>).includes(version)

/** How many message codes a version uses: eth/62 has 8, eth/63 and later reserve 17 (up to Receipts, 0x10). */
export const codeCount = (version: HeaderFirstVersion): number => (version === 62 ? 8 : 17)

/** Whether Status carries the EIP-2124 fork id (eth/64 and later). */
export const hasForkId = (version: HeaderFirstVersion): boolean => version >= 64

/** Whether requests and their answers are wrapped as `[requestId, payload]` (eth/66 and later). */
export const hasRequestIds = (version: HeaderFirstVersion): boolean => version >= 66

/** Whether NewPooledTransactionHashes announces each transaction's type and size (eth/68). */
export const hasTypedAnnouncements = (version: HeaderFirstVersion): boolean => version >= 68

/** The highest version both sides offer, or undefined when they share none. */
export const highestShared = (theirs: Iterable<number>): HeaderFirstVersion | undefined => {
  const offered = new Set(theirs)
  return supported.find((version) => offered.has(version))
}
