/**
 * A block number as a datadir writes it: 8 bytes big-endian, at the start of LMDB's record keys
 * (ChainDb) and in the hash index's entries (HashIndex), so that keys sort by height.
 *
 * @since 0.2.0
 */

/** Bytes of a block number as written. */
export const length = 8

/** Writes `number` into `bytes` at `offset`, 8 bytes big-endian. */
export const write = (bytes: Uint8Array, offset: number, number: number): void => {
  for (let i = offset + length - 1, rest = number; i >= offset; i--, rest = Math.floor(rest / 256)) bytes[i] = rest % 256
}

/** The number written in `bytes` at `offset`. */
export const read = (bytes: Uint8Array, offset: number): number => {
  let number = 0
  for (let i = offset; i < offset + length; i++) number = number * 256 + bytes[i]!
  return number
}
