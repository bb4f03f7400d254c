/**
 * Numbers in text for people: counts with thousands separators, nouns in the plural when needed.
 *
 * @since 0.1.0
 */

/** A count, rounded to a whole number, with thousands separators: `20,000`. */
export const count = (n: number): string => Math.round(n).toLocaleString("en-US")

/** `n` and `noun`, plural (an added `s`) unless `n` is 1: `1 block`, `20,000 blocks`. */
export const plural = (n: number, noun: string): string => `${count(n)} ${noun}${n === 1 ? "" : "s"}`
