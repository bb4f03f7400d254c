/**
 * Bodies matched to their headers keep what matching them computed: the transactions root is
 * built once per body, not again by the body rules at insert.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Result } from "effect"
import * as Block from "../../src/chain/Block.ts"
import * as BodyRules from "../../src/chain/BodyRules.ts"
import * as Genesis from "../../src/chain/Genesis.ts"
import * as Hash from "../../src/chain/Hash.ts"
import * as Bodies from "../../src/headers/internal/Bodies.ts"
import { childBlock, transaction } from "../support/chain.ts"

describe("Bodies.match", () => {
  const transactions = [transaction(0n), transaction(1n)]

  it.effect("a body with transactions makes a block that carries the root it was matched by, and the body rules take it", () =>
    Effect.gen(function*() {
      const root = yield* BodyRules.transactionsRoot(transactions)
      const block = childBlock(Genesis.mainnet, { transactions, transactionsRoot: root })
      const matched = yield* Bodies.match([block.header], [{ transactions, uncles: [] }])
      expect(Result.isSuccess(matched)).toBe(true)
      const [made] = Result.getOrThrow(matched)
      expect(Hash.equals(made!.transactionsRoot!, root)).toBe(true)
      expect(made!.rlp).toEqual(block.rlp)
      // A block that states its root is not hashed again: with one transaction left out, only a
      // block that states none has its trie built and is refused.
      const partial = [transactions[0]!]
      const stated = new Block.Block(block.header, partial, [], block.rlp, undefined, root)
      const unstated = new Block.Block(block.header, partial, [], block.rlp)
      expect(yield* Effect.result(BodyRules.check(stated))).toEqual(Result.succeed(undefined))
      expect((yield* Effect.flip(BodyRules.check(unstated))).rule).toBe("transactionsRoot")
    }))
})
