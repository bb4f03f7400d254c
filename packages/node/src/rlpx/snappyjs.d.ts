/**
 * The two functions of `snappyjs` 0.7 that p2p version 5 compression uses (the package ships no types).
 *
 * @since 0.2.0
 */
declare module "snappyjs" {
  /** Compresses bytes into a snappy block. */
  export function compress(uncompressed: Uint8Array): Uint8Array
  /** Decompresses a snappy block; throws on a corrupt one or one longer than `maxLength`. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array
}
