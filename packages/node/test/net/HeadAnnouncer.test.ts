/**
 * Announcing a new head as go-ethereum 1.0 does: the block to the square root of the peers that
 * lack it, the hash to the others, nothing to a peer that has it; each in its version's form.
 */
import { describe, expect, it } from "@effect/vitest"
import { Hash, Hex } from "@ethsync/core"
import { ChainGenerator } from "@ethsync/testkit"
import { Effect, Result } from "effect"
import * as EthMessage from "../../src/eth/EthMessage.ts"
import * as HeaderFirstMessage from "../../src/eth/HeaderFirstMessage.ts"
import * as EthSessions from "../../src/net/EthSessions.ts"
import * as HeadAnnouncer from "../../src/net/HeadAnnouncer.ts"

/** Decodes what a session of `version` was sent (a test failure if it does not decode). */
const decoded = (version: 61 | 68, { code, payload }: EthSessions.Encoded): EthMessage.EthMessage | HeaderFirstMessage.HeaderFirstMessage => {
  const message: Result.Result<EthMessage.EthMessage | HeaderFirstMessage.HeaderFirstMessage, { readonly message: string }> =
    version === 61 ? EthMessage.decode(version, code, payload) : HeaderFirstMessage.decode(version, code, payload)
  if (Result.isFailure(message)) throw new Error(message.failure.message)
  return message.success
}

/** A session of eth/`version` that records what it is sent. */
const recording = (id: string, version: 61 | 68 = 61) => {
  const sent: Array<EthMessage.EthMessage | HeaderFirstMessage.HeaderFirstMessage> = []
  const known = new Set<string>()
  const session: EthSessions.Session = {
    id,
    version,
    send: (message) => Effect.sync(() => void sent.push(decoded(version, message))),
    knows: (hash) => known.has(Hex.fromBytes(hash)),
    learn: (hash) => void known.add(Hex.fromBytes(hash)),
    traffic: Effect.succeed({ in: new Map(), out: new Map() })
  }
  return { session, sent }
}

describe("HeadAnnouncer", () => {
  it.effect("sends the block to the square root of the peers lacking it, the hash to the rest, nothing to those that have it", () =>
    Effect.gen(function*() {
      const [block] = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 1)
      const peers = Array.from({ length: 10 }, (_, i) => recording(`peer${i}`))
      peers[0]!.session.learn(block!.hash)
      const sent = yield* HeadAnnouncer.announce(peers.map((p) => p.session), { block: block!, td: 42n })
      expect(sent).toEqual({ blocks: 3, hashes: 6 })
      expect(peers[0]!.sent).toEqual([])
      const kinds = peers.slice(1).map((p) => p.sent.map((m) => m._tag).join())
      expect(kinds.filter((k) => k === "NewBlock")).toHaveLength(3)
      expect(kinds.filter((k) => k === "NewBlockHashes")).toHaveLength(6)
      const newBlock = peers.flatMap((p) => p.sent).find((m) => m._tag === "NewBlock")
      expect(newBlock?._tag === "NewBlock" && newBlock.td).toBe(42n)
      // Every peer has it now: a second announcement sends nothing.
      expect(yield* HeadAnnouncer.announce(peers.map((p) => p.session), { block: block!, td: 42n })).toEqual({ blocks: 0, hashes: 0 })
    }))

  it.effect("an eth/68 peer gets the hash with its number, an eth/61 peer the bare hash", () =>
    Effect.gen(function*() {
      const [block] = yield* ChainGenerator.generate(ChainGenerator.testGenesis, 1)
      const old = recording("old", 61)
      const modern = recording("modern", 68)
      const holder = recording("holder", 61)
      holder.session.learn(block!.hash)
      const others = Array.from({ length: 2 }, (_, i) => recording(`other${i}`, 61))
      // Four peers lack it: the first two get the block, the last two the hash.
      yield* HeadAnnouncer.announce([old.session, holder.session, ...others.map((p) => p.session), modern.session], { block: block!, td: 42n })
      expect(old.sent.map((m) => m._tag)).toEqual(["NewBlock"])
      expect(holder.sent).toEqual([])
      const [announcement] = modern.sent
      expect(announcement?._tag === "NewBlockHashes" && "announcements" in announcement && announcement.announcements)
        .toEqual([{ hash: block!.hash, number: block!.number }])
      const [hashOnly] = others[1]!.sent
      expect(hashOnly?._tag === "NewBlockHashes" && "hashes" in hashOnly && hashOnly.hashes).toEqual([block!.hash])
    }))

  it.effect("a session forgets the oldest blocks beyond its limit", () =>
    Effect.gen(function*() {
      const link: EthSessions.Link = { send: () => Effect.void, stats: Effect.succeed({ in: new Map(), out: new Map() }) }
      const session = EthSessions.session(link, "peer", 61)
      const hashes = Array.from({ length: EthSessions.maxKnownBlocks + 1 }, (_, i) => Hash.keccak(Uint8Array.of(i >> 8, i & 255)))
      for (const hash of hashes) session.learn(hash)
      expect(session.knows(hashes[0]!)).toBe(false)
      expect(session.knows(hashes[1]!)).toBe(true)
      expect(session.knows(hashes[hashes.length - 1]!)).toBe(true)
    }))
})
