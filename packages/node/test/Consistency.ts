/**
 * Checks that a datadir is consistent: its head is a fully readable block, and the canonical
 * index and the TDs agree with the chain from genesis to it.
 */
import { type Block, Hash } from "@ethsync/core"
import { expect } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as LmdbChainStore from "../src/LmdbChainStore.ts"

/** Opens the datadir at `path`, checks it, and returns its head block. */
export const check = (path: string): Effect.Effect<Block.Block, unknown> =>
  Effect.scoped(Effect.gen(function*() {
    const store = yield* LmdbChainStore.make({ path, readOnly: true })
    const head = yield* store.head
    let parent: Block.Block | undefined
    let td = 0n
    for (let number = 0; number <= head.block.number; number++) {
      const block = Option.getOrThrow(yield* store.getByNumber(number))
      expect(block.number).toBe(number)
      if (parent) expect(Hash.toHex(block.header.parentHash)).toBe(Hash.toHex(parent.hash))
      td += block.header.difficulty
      expect(Option.getOrThrow(yield* store.td(block.hash))).toBe(td)
      parent = block
    }
    expect(Hash.toHex(parent!.hash)).toBe(Hash.toHex(head.block.hash))
    expect(head.td).toBe(td)
    expect(Option.isNone(yield* store.getByNumber(head.block.number + 1))).toBe(true)
    return head.block
  }))
