/**
 * The EIP-2124 fork id that eth/64 and later put in Status: a CRC32 of the genesis hash and of
 * every fork block passed (each as a uint64, big-endian), and the next fork's block (0 for none).
 * A peer's id is checked by the EIP-2124 rules against the forks ethsync knows, so a peer on another
 * chain, or one that missed a fork, is told apart before any block is asked of it.
 *
 * @since 0.2.0
 */
import { type Hash, Hex } from "@ethsync/core"
import { Data, Result } from "effect"
import { crc32 } from "node:zlib"

/** A fork id as Status carries it. */
export interface ForkId {
  /** The CRC32 of the genesis hash and the passed fork blocks, as 4 big-endian bytes. */
  readonly hash: Uint8Array
  /** The block number of the next fork the sender knows, 0 when it knows none. */
  readonly next: bigint
}

/**
 * The fork blocks ethsync knows on mainnet: only Homestead (1,150,000), the first fork after
 * Frontier, so a Frontier node announces it as its next fork.
 */
export const mainnetForks: ReadonlyArray<bigint> = [1_150_000n]

/** A peer's fork id that the EIP-2124 rules refuse. */
export class ForkIdRejected extends Data.TaggedError("ForkIdRejected")<{
  /** The peer's fork hash, 0x-hex. */
  readonly hash: string
  /** The peer's next fork. */
  readonly next: bigint
  /** Why it is refused, in words. */
  readonly reason: string
}> {
  override get message() {
    return `the peer's fork id (${this.hash}, next ${this.next}) is refused: ${this.reason}`
  }
}

/** A CRC32 as 4 big-endian bytes. */
const checksumBytes = (sum: number): Uint8Array => {
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, sum)
  return out
}

/** A block number as 8 big-endian bytes, as the checksum takes it. */
const uint64 = (value: bigint): Uint8Array => {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, value)
  return out
}

/** The checksum after the genesis and after each fork in turn: `forks.length + 1` sums. */
const checksums = (genesis: Hash.Hash, forks: ReadonlyArray<bigint>): Array<number> => {
  const sums = [crc32(genesis)]
  for (const fork of forks) sums.push(crc32(uint64(fork), sums.at(-1)!))
  return sums
}

/** How many of `forks` a chain whose head is at `head` has passed. */
const passed = (forks: ReadonlyArray<bigint>, head: bigint): number => {
  const index = forks.findIndex((fork) => fork > head)
  return index === -1 ? forks.length : index
}

/** Our fork id with the head at height `head`, on the chain of `genesis` with the fork blocks `forks` (ascending). */
export const make = (genesis: Hash.Hash, head: bigint, forks: ReadonlyArray<bigint> = mainnetForks): ForkId => {
  const at = passed(forks, head)
  return { hash: checksumBytes(checksums(genesis, forks)[at]!), next: forks[at] ?? 0n }
}

/** Reads 4 big-endian bytes as a number, or undefined for any other length. */
const readChecksum = (bytes: Uint8Array): number | undefined =>
  bytes.length === 4 ? new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0) : undefined

/**
 * The peer's fork id when the EIP-2124 rules accept it against our chain (`genesis`, our head at
 * `head`, the fork blocks `forks`): the same fork state with a next fork we have not passed; an
 * older fork state whose next fork is the one we passed after it (the peer is syncing); or a later
 * fork state we know (we are syncing). Anything else is ForkIdRejected.
 */
export const check = (
  genesis: Hash.Hash,
  head: bigint,
  theirs: ForkId,
  forks: ReadonlyArray<bigint> = mainnetForks
): Result.Result<ForkId, ForkIdRejected> => {
  const reject = (reason: string) =>
    Result.fail(new ForkIdRejected({ hash: Hex.fromBytes(theirs.hash), next: theirs.next, reason }))
  const sums = checksums(genesis, forks)
  const sum = readChecksum(theirs.hash)
  const at = passed(forks, head)
  const index = sum === undefined ? -1 : sums.indexOf(sum)
  if (index === at) {
    return theirs.next > 0n && head >= theirs.next
      ? reject(`it announces a fork at ${theirs.next} that our chain has passed without it`)
      : Result.succeed(theirs)
  }
  if (index >= 0 && index < at) {
    return theirs.next === forks[index]
      ? Result.succeed(theirs)
      : reject(`it is at an older fork state whose next fork should be ${forks[index]}`)
  }
  if (index > at) return Result.succeed(theirs)
  return reject("its fork hash matches no fork state of our chain")
}
