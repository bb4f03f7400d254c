/**
 * Attackers of the header-first engine, each a simulated header-first peer spec built from an
 * honest chain: a made-up chain that breaks the header rules, a peer that never answers, one that
 * has no bodies, one that sends bodies of no block asked for, a sync peer whose skeleton is not its
 * chain, and a filler whose fills are not the skeleton's.
 *
 * @since 0.3.0
 */
import { Block, Header } from "@ethsync/core"
import type * as HeaderSimPeer from "./HeaderSimPeer.ts"

/** Extra data that marks a forged header: its hash differs from the honest one. */
const forgedMark = new TextEncoder().encode("forged")

/** `headers` re-made with the fields `change` gives for each, each linked to the one before it (the first keeps its parent). */
const relink = (headers: ReadonlyArray<Header.Header>, change: (header: Header.Header) => Partial<Header.Fields>): Array<Header.Header> => {
  const out: Array<Header.Header> = []
  for (const header of headers) {
    const parentHash = out.length === 0 ? header.parentHash : out[out.length - 1]!.hash
    out.push(Header.make({ ...header, ...change(header), parentHash }))
  }
  return out
}

/**
 * `chain` up to height `from` - 1, then made up: linked by parent hashes, but every block from
 * `from` on has one more than the right difficulty, so the header at `from` breaks the rules.
 */
export const madeUpChain = (id: string, chain: ReadonlyArray<Block.Block>, from = 1): HeaderSimPeer.Spec => {
  const forged = relink(chain.slice(from).map((block) => block.header), (header) => ({ difficulty: header.difficulty + 1n }))
  const blocks = forged.map((header, i) => Block.make(header, chain[from + i]!.transactions, chain[from + i]!.uncles))
  return { id, chain: [...chain.slice(0, from), ...blocks] }
}

/** A peer that takes every request and answers none. */
export const stalling = (id: string, chain: ReadonlyArray<Block.Block>): HeaderSimPeer.Spec => ({
  id,
  chain,
  headers: () => undefined,
  bodies: () => undefined
})

/** A peer that serves headers but answers every body request with no bodies. */
export const missingBodies = (id: string, chain: ReadonlyArray<Block.Block>): HeaderSimPeer.Spec => ({
  id,
  chain,
  bodies: () => []
})

/** A peer whose every body carries one transaction more than the real one: it belongs to no header asked for. */
export const wrongBodies = (id: string, chain: ReadonlyArray<Block.Block>): HeaderSimPeer.Spec => {
  const extra = chain.find((block) => block.transactions.length > 0)!.transactions[0]!
  return {
    id,
    chain,
    bodies: (_, honest) => honest.map((body) => ({ transactions: [...body.transactions, extra], uncles: body.uncles }))
  }
}

/** A sync peer whose skeleton headers (requests with a skip) are forged, while its fills are its real chain. */
export const lyingSkeleton = (id: string, chain: ReadonlyArray<Block.Block>): HeaderSimPeer.Spec => ({
  id,
  chain,
  headers: (request, honest) => request.skip > 0 ? honest.map((h) => Header.make({ ...h, extraData: forgedMark })) : honest
})

/** A peer whose fills (several consecutive headers) are forged: linked among themselves, but not to the skeleton's anchor. */
export const lyingFiller = (id: string, chain: ReadonlyArray<Block.Block>): HeaderSimPeer.Spec => ({
  id,
  chain,
  headers: (request, honest) => request.skip === 0 && request.amount > 1 ? relink(honest, () => ({ extraData: forgedMark })) : honest
})
