/**
 * Hex text for byte strings: the one place where bytes become `0x…` and back.
 *
 * @since 0.1.0
 */

/** Two lowercase hex digits for every byte value, so formatting is a table lookup. */
const byteToHex: ReadonlyArray<string> = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"))

/** Formats bytes as `0x`-prefixed lowercase hex. */
export const fromBytes = (bytes: Uint8Array): string => {
  let out = "0x"
  for (let i = 0; i < bytes.length; i++) out += byteToHex[bytes[i]!]
  return out
}

/** Parses `0x`-prefixed (or bare) hex of even length; `undefined` when the text is not hex. */
export const toBytes = (text: string): Uint8Array | undefined => {
  const body = text.startsWith("0x") || text.startsWith("0X") ? text.slice(2) : text
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) return undefined
  const out = new Uint8Array(body.length / 2)
  for (let i = 0; i < out.length; i++) out[i] = parseInt(body.slice(2 * i, 2 * i + 2), 16)
  return out
}

/** Byte-wise equality of two byte strings. */
export const equals = (a: Uint8Array, b: Uint8Array): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}
