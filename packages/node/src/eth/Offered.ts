/**
 * The eth versions a node offers on RLPx, of both families: eth/66-68 (header-first, with request
 * ids, what every client in use today speaks) and eth/61-60 (hash chains, what a 2015 node
 * speaks). The connection settles on the highest version both sides offer, and that version
 * decides which handler and which sync engine serve the peer.
 *
 * @since 0.2.0
 */
import * as EthVersion from "./EthVersion.ts"
import * as HeaderFirstVersion from "./HeaderFirstVersion.ts"

/** An eth version a node can offer. */
export type Offered = EthVersion.EthVersion | HeaderFirstVersion.HeaderFirstVersion

/** Every version a node offers unless told otherwise, highest first. */
export const all: ReadonlyArray<Offered> = [...HeaderFirstVersion.supported, ...EthVersion.supported]

/** How many message codes a version takes on the connection. */
export const codeCount = (version: Offered): number =>
  HeaderFirstVersion.is(version) ? HeaderFirstVersion.codeCount(version) : EthVersion.codeCount(version)

/** The eth capabilities to offer on RLPx for `versions`: each version with its number of message codes. */
export const capabilities = (versions: ReadonlyArray<Offered>): ReadonlyArray<{ readonly name: string; readonly version: number; readonly length: number }> =>
  versions.map((version) => ({ name: "eth", version, length: codeCount(version) }))
