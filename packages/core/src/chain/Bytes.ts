/**
 * Byte strings: the few operations on plain `Uint8Array`s that several modules need.
 *
 * @since 0.1.0
 */

/** The bytes of `parts`, one after the other, in a new array. */
export const concat = (parts: ReadonlyArray<Uint8Array>): Uint8Array => {
  let length = 0
  for (const part of parts) length += part.length
  const out = new Uint8Array(length)
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}
