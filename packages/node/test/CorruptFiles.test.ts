/**
 * Corrupt inputs through the real executable: each stops the import with one line naming the
 * bad block and exit code 1, and the datadir keeps every block before it and nothing after.
 */
import { describe, expect, it } from "@effect/vitest"
import { type Block, Hash, HeaderRules } from "@ethsync/core"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as LmdbChainStore from "../src/LmdbChainStore.ts"
import * as CliRunner from "./CliRunner.ts"
import * as Consistency from "./Consistency.ts"
import * as TempDir from "./TempDir.ts"
import * as TestChain from "./TestChain.ts"

const genesis = TestChain.genesis()
/** Blocks 0..1099: more than one batch of 1024, all good. */
const good = [genesis, ...TestChain.extend(genesis, 1099)]
const parent = good[1099]!

/** Imports `bytes` as a file into a fresh datadir; checks the outcome and that exactly `good` was kept. */
const importCorrupt = (bytes: Uint8Array, message: (file: string) => RegExp | string, refused: ReadonlyArray<Block.Block>) =>
  Effect.gen(function*() {
    const dir = yield* TempDir.make
    const file = Path.join(dir, "corrupt.rlp")
    const datadir = Path.join(dir, "datadir")
    Fs.writeFileSync(file, bytes)
    const outcome = yield* Effect.promise(() => CliRunner.spawn(["import", "--log-level", "warn", "--verify-seals", "none", "--datadir", datadir, file]))
    expect(outcome.stderr).toHaveLength(1)
    const expected = message(file)
    if (typeof expected === "string") expect(outcome.stderr[0]).toBe(expected)
    else expect(outcome.stderr[0]).toMatch(expected)
    expect(outcome.code).toBe(1)
    const head = yield* Consistency.check(datadir)
    expect(Hash.toHex(head.hash)).toBe(Hash.toHex(parent.hash))
    const store = yield* LmdbChainStore.make({ path: datadir, readOnly: true })
    for (const block of refused) expect(yield* store.has(block.hash)).toBe(false)
  })

/** The good blocks, then `bad`, then blocks built on `bad`. */
const withBad = (bad: Block.Block) => {
  const after = TestChain.extend(bad, 5)
  return { bytes: TestChain.fileBytes([...good, bad, ...after]), refused: [bad, ...after] }
}

describe.concurrent("corrupt files", () => {
  it.live("a truncated file", () => {
    const cut = TestChain.child(parent)
    const bytes = TestChain.fileBytes([...good, cut])
    const offset = bytes.length - cut.rlp.length
    return importCorrupt(
      bytes.subarray(0, offset + 100),
      (file) => `ethsync: ${file} is truncated: the block at position 1100 (byte ${offset}) ends after 100 bytes`,
      [cut]
    )
  })

  it.live("garbage bytes", () => {
    const after = TestChain.extend(parent, 3)
    const prefix = TestChain.fileBytes(good)
    const bytes = new Uint8Array([...prefix, ...new Uint8Array(64).fill(0xff), ...TestChain.fileBytes(after)])
    return importCorrupt(
      bytes,
      (file) => new RegExp(`^ethsync: ${file}: the block at position 1100 \\(byte ${prefix.length}\\) is not valid RLP: `),
      after
    )
  })

  it.live("a block with a wrong parent", () => {
    const elsewhere = Hash.keccak(new TextEncoder().encode("no such block"))
    const { bytes, refused } = withBad(TestChain.child(parent, 15n, { parentHash: elsewhere }))
    const bad = refused[0]!
    return importCorrupt(
      bytes,
      (file) =>
        `ethsync: ${file}: block 1100 (${Hash.toHex(bad.hash)}) breaks the unknownParent rule: parent ${Hash.toHex(elsewhere)} is not known`,
      refused
    )
  })

  it.live("a wrong difficulty", () => {
    const expected = HeaderRules.expectedDifficulty(parent.header, parent.header.timestamp + 15n)
    const { bytes, refused } = withBad(TestChain.child(parent, 15n, { difficulty: expected + 1n }))
    return importCorrupt(
      bytes,
      (file) =>
        `ethsync: ${file}: block 1100 (${Hash.toHex(refused[0]!.hash)}) breaks the difficulty rule: difficulty ${expected + 1n}, expected ${expected}`,
      refused
    )
  })

  it.live("an oversized extraData", () => {
    const { bytes, refused } = withBad(TestChain.child(parent, 15n, { extraData: new Uint8Array(33) }))
    const offset = TestChain.fileBytes(good).length
    return importCorrupt(
      bytes,
      (file) => `ethsync: ${file}: the block at position 1100 (byte ${offset}) does not decode: header.extraData: 33 bytes exceeds 32`,
      refused
    )
  })
})
