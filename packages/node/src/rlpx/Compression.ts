/**
 * Snappy compression of message payloads, used once both hellos say p2p version 5 or more.
 * A block announces its length first, so a too-large one is refused before anything is
 * allocated; a corrupt block is reported, never thrown.
 *
 * @since 0.2.0
 */
import { compress as snappyCompress, uncompress } from "snappyjs"

/** The p2p version from which both sides compress every message after the hello. */
export const fromVersion = 5

/** Compresses a payload. */
export const compress = (payload: Uint8Array): Uint8Array => snappyCompress(payload)

/** The length a snappy block announces (its leading varint), or `undefined` when it has none. */
export const announcedLength = (block: Uint8Array): number | undefined => {
  let length = 0
  for (let i = 0; i < 5 && i < block.length; i++) {
    length += (block[i]! & 0x7f) * 2 ** (7 * i)
    if (block[i]! < 0x80) return length
  }
  return undefined
}

/**
 * Decompresses a payload of at most `limit` bytes; a string says why it cannot be (check
 * {@link announcedLength} first to tell a too-large one).
 */
export const decompress = (block: Uint8Array, limit: number): Uint8Array | string => {
  try {
    return uncompress(block, limit)
  } catch (error) {
    return `the snappy block is corrupt (${error instanceof Error ? error.message : String(error)})`
  }
}
