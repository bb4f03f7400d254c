/**
 * Bodies for validated headers: the heights still waiting for a body, lowest first, and how an
 * answer's bodies are matched to the headers asked for: by transactions root and uncle hash, so a
 * peer may leave out bodies it lacks, but may not send one that belongs to no header asked for.
 *
 * @since 0.3.0
 */
import { Effect, Result } from "effect"
import * as Block from "../../chain/Block.ts"
import * as BodyRules from "../../chain/BodyRules.ts"
import * as Hash from "../../chain/Hash.ts"
import type * as Header from "../../chain/Header.ts"
import type { Body } from "../../sync/HeaderPeer.ts"

/** Whether a header's block has no transactions and no uncles: its body is known without asking. */
export const isEmpty = (header: Header.Header): boolean =>
  Hash.equals(header.transactionsRoot, Hash.emptyTrieRoot) && Hash.equals(header.uncleHash, Hash.emptyUnclesHash)

/** What ties a body to its header: the transactions root and the uncle hash, as one key. */
const tie = (transactionsRoot: Hash.Hash, uncleHash: Hash.Hash): string => Hash.key(transactionsRoot) + Hash.key(uncleHash)

/**
 * The blocks made of each of `bodies` and the header of `headers` it belongs to (a header takes
 * one body at most; bodies may be left out), or why a body belongs to none of them.
 */
export const match = (
  headers: ReadonlyArray<Header.Header>,
  bodies: ReadonlyArray<Body>
): Effect.Effect<Result.Result<ReadonlyArray<Block.Block>, string>> =>
  Effect.gen(function*() {
    /** Headers asked for and not yet matched, by what ties them to a body, lowest first. */
    const open = new Map<string, Array<Header.Header>>()
    for (const header of headers) {
      const key = tie(header.transactionsRoot, header.uncleHash)
      const list = open.get(key)
      if (list) list.push(header)
      else open.set(key, [header])
    }
    const parts: Array<Block.Parts> = []
    for (let i = 0; i < bodies.length; i++) {
      const body = bodies[i]!
      const uncleHash = Block.hashUncles(body.uncles)
      const root = yield* BodyRules.transactionsRoot(body.transactions)
      const header = open.get(tie(root, uncleHash))?.shift()
      if (!header) {
        return Result.fail(`body ${i} has transactions root ${Hash.toHex(root)} and uncle hash ${Hash.toHex(uncleHash)}`)
      }
      // The block keeps the uncle hash and the root, so that the body rules at insert compute neither again.
      parts.push({ header, transactions: body.transactions, uncles: body.uncles, unclesHash: uncleHash, transactionsRoot: root })
    }
    return Result.succeed(Block.makeAll(parts))
  })

/** Heights waiting for a body and not asked for, in ascending order. */
export class Pending {
  /** The heights, ascending. */
  #heights: Array<number> = []

  /** How many heights wait. */
  get size(): number {
    return this.#heights.length
  }

  /** Adds a height (not already present). */
  add(height: number): void {
    const list = this.#heights
    if (list.length === 0 || list[list.length - 1]! < height) {
      list.push(height)
      return
    }
    let lo = 0
    let hi = list.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (list[mid]! < height) lo = mid + 1
      else hi = mid
    }
    list.splice(lo, 0, height)
  }

  /** Takes the lowest `count` heights that `allowed` accepts. */
  take(count: number, allowed: (height: number) => boolean): Array<number> {
    const taken: Array<number> = []
    const kept: Array<number> = []
    for (const height of this.#heights) {
      if (taken.length < count && allowed(height)) taken.push(height)
      else kept.push(height)
    }
    this.#heights = kept
    return taken
  }

  /** Whether any waiting height is one `allowed` accepts. */
  some(allowed: (height: number) => boolean): boolean {
    return this.#heights.some(allowed)
  }
}
