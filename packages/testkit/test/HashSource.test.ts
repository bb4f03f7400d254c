import { describe, expect, it } from "@effect/vitest"
import { Hash, type SyncError } from "@ethsync/core"
import { Cause, Clock, Duration, Effect, Exit, Option } from "effect"
import { TestClock } from "effect/testing"
import { HashList, TestChain } from "../src/index.ts"
import { Harness, type ScriptedPeer } from "../src/harness/index.ts"

const { resultTag } = Harness

/** The sync's error, if it failed with one. */
const errorOf = (run: Harness.Outcome): SyncError.SyncError | undefined =>
  Exit.isFailure(run.exit) ? Option.getOrUndefined(Cause.findErrorOption(run.exit.cause)) : undefined

/** The virtual time at which a sync ended, given the time it was started at. */
const endOf = (begin: number, run: Harness.Outcome) => begin + run.elapsed

/** The harness steps the clock 10 ms at a time while waiting for a sync. */
const step = 10

/** Small hash batches pass the stalling check; everything else keeps the seed's values. */
const config = { minHashFetch: 4 }

/** `list` recording the hash each request starts from (a simulated peer looks `from` up with indexOf). */
const recording = (list: HashList.HashList) => {
  const froms: Array<Hash.Hash> = []
  const recorded: HashList.HashList = {
    length: list.length,
    at: list.at,
    indexOf: (hash) => {
      froms.push(hash)
      return list.indexOf(hash)
    }
  }
  return { froms, list: recorded }
}

/** Takes the scripted peer's next request, dying unless it is a hash request. */
const nextHashes = (peer: ScriptedPeer.ScriptedPeer) =>
  Effect.flatMap(peer.next, (request) =>
    request._tag === "Hashes" ? Effect.succeed(request) : Effect.die(new Error(`expected a hash request, got ${request._tag}`)))

/** Takes the scripted peer's next request, dying unless it is a block request. */
const nextBlocks = (peer: ScriptedPeer.ScriptedPeer) =>
  Effect.flatMap(peer.next, (request) =>
    request._tag === "Blocks" ? Effect.succeed(request) : Effect.die(new Error(`expected a block request, got ${request._tag}`)))

/**
 * As the scripted origin of a sync of `chain`: answers the first hash request with the 8 hashes below
 * the head and the cross-check that follows with the true block, then takes (and leaves unanswered)
 * the next hash request, which must start from the last hash sent. Returns the virtual time the
 * hashes were sent, which is when the unanswered request went out.
 */
const answerFirstBatch = (origin: ScriptedPeer.ScriptedPeer, chain: TestChain.TestChain) =>
  Effect.gen(function*() {
    const hashes = HashList.toArray(chain.hashes)
    const first = yield* nextHashes(origin)
    expect(Hash.equals(first.from, chain.head.hash)).toBe(true)
    yield* origin.sendHashes(hashes.slice(1, 9))
    const sentAt = yield* Clock.currentTimeMillis
    const check = yield* nextBlocks(origin)
    expect(check.hashes.length).toBe(1)
    yield* origin.sendBlocks([chain.blockMap.get(Hash.key(check.hashes[0]!))!])
    const again = yield* nextHashes(origin)
    expect(Hash.equals(again.from, hashes[8]!)).toBe(true)
    return sentAt
  })

describe("hash source", () => {
  it.effect("on a hash timeout, an untried peer whose head is queued takes over from the last hash; the sync completes", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config })
      const hashTTL = Duration.toMillis(h.config.hashTTL)
      const chain = yield* TestChain.make(20)
      const hashes = HashList.toArray(chain.hashes)
      // Registered first, but its head (block 2) is not queued when the timeout strikes: never the hash source.
      const decoy = yield* h.add({ id: "decoy", hashes: HashList.drop(chain.hashes, 18), blocks: chain.blockMap })
      const backupHashes = recording(chain.hashes)
      const backup = yield* h.add({ id: "backup", hashes: backupHashes.list, blocks: chain.blockMap })
      const origin = yield* h.addScripted("origin", chain.head.hash)
      const sync = yield* h.start("origin", chain.head.hash)
      const sentAt = yield* answerFirstBatch(origin, chain)

      yield* TestClock.adjust(sentAt + hashTTL - 1 - (yield* Clock.currentTimeMillis))
      expect(backupHashes.froms).toEqual([])
      yield* TestClock.adjust(1)
      // At hashTTL after the unanswered request, the request is repeated to the backup from the last hash received.
      expect(backupHashes.froms.length).toBe(1)
      expect(Hash.equals(backupHashes.froms[0]!, hashes[8]!)).toBe(true)

      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Success")
      expect(yield* h.holdsAll(chain.blocks)).toBe(true)
      expect(run.dropped).toEqual([])
      expect(decoy.counters.hashRequests).toBe(0)
      expect(backup.counters.hashRequests).toBe(1)
      expect(origin.log.filter((r) => r._tag === "Hashes").length).toBe(2)
    }))

  it.effect("a peer already tried is not tried again, and the old source's late reply is ignored: Timeout after the second hashTTL", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config })
      const hashTTL = Duration.toMillis(h.config.hashTTL)
      const chain = yield* TestChain.make(20)
      const hashes = HashList.toArray(chain.hashes)
      const origin = yield* h.addScripted("origin", chain.head.hash)
      const backup = yield* h.addScripted("backup", chain.head.hash)
      const begin = yield* Clock.currentTimeMillis
      const sync = yield* h.start("origin", chain.head.hash, { orDrop: true })
      const sentAt = yield* answerFirstBatch(origin, chain)

      yield* TestClock.adjust(sentAt + hashTTL - 1 - (yield* Clock.currentTimeMillis))
      expect(backup.log).toEqual([])
      const switched = yield* nextHashes(backup)
      expect(Hash.equals(switched.from, hashes[8]!)).toBe(true)
      const switchedAt = yield* Clock.currentTimeMillis
      expect(switchedAt).toBeGreaterThanOrEqual(sentAt + hashTTL)
      expect(switchedAt).toBeLessThanOrEqual(sentAt + hashTTL + 1)
      // The origin answers at last, but it is no longer the hash source: this would complete the hash chain.
      yield* origin.sendHashes(hashes.slice(9))

      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Timeout")
      expect(errorOf(run)).toMatchObject({ _tag: "Timeout", peer: "backup" })
      // The wrapper drops the hash source that timed out, not the peer the sync began with.
      expect(run.dropped).toEqual(["backup"])
      const end = endOf(begin, run)
      expect(end).toBeGreaterThanOrEqual(sentAt + 2 * hashTTL)
      expect(end).toBeLessThanOrEqual(sentAt + 2 * hashTTL + step)
      // Neither peer was asked twice for the same start: no switch back to the origin.
      expect(origin.log.filter((r) => r._tag === "Hashes").length).toBe(2)
      expect(backup.log.filter((r) => r._tag === "Hashes").length).toBe(1)
    }))

  it.effect("with no untried peer whose head is queued, the sync ends with Timeout at hashTTL after the unanswered request", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config })
      const hashTTL = Duration.toMillis(h.config.hashTTL)
      const chain = yield* TestChain.make(20)
      const decoy = yield* h.add({ id: "decoy", hashes: HashList.drop(chain.hashes, 18), blocks: chain.blockMap })
      const origin = yield* h.addScripted("origin", chain.head.hash)
      const begin = yield* Clock.currentTimeMillis
      const sync = yield* h.start("origin", chain.head.hash)
      const sentAt = yield* answerFirstBatch(origin, chain)
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("Timeout")
      expect(errorOf(run)).toMatchObject({ _tag: "Timeout", peer: "origin" })
      const end = endOf(begin, run)
      expect(end).toBeGreaterThanOrEqual(sentAt + hashTTL)
      expect(end).toBeLessThanOrEqual(sentAt + hashTTL + step)
      expect(decoy.counters.hashRequests).toBe(0)
    }))

  it.effect("before any hash arrived, a timeout ends the sync with Timeout at hashTTL even if another peer could take over", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config })
      const hashTTL = Duration.toMillis(h.config.hashTTL)
      const chain = yield* TestChain.make(20)
      yield* h.addScripted("origin", chain.head.hash)
      // Its head is the sync's head, queued from the start: a candidate, were there a hash to start from.
      const backup = yield* h.add({ id: "backup", hashes: chain.hashes, blocks: chain.blockMap })
      const run = yield* h.runSync("origin", chain.head.hash, { orDrop: true })
      expect(resultTag(run)).toBe("Timeout")
      expect(errorOf(run)).toMatchObject({ _tag: "Timeout", peer: "origin" })
      expect(run.elapsed).toBeGreaterThanOrEqual(hashTTL)
      expect(run.elapsed).toBeLessThanOrEqual(hashTTL + step)
      expect(backup.counters.hashRequests).toBe(0)
      expect(run.dropped).toEqual(["origin"])
    }))
})

describe("cross-check expiry", () => {
  it.effect("a peer that answers hashes but never a cross-check fails the sync with CrossCheckFailed at blockSoftTTL after the check", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config })
      const softTTL = Duration.toMillis(h.config.blockSoftTTL)
      const genesis = (yield* TestChain.make(1)).blocks[0]!
      const fake = HashList.madeUp(1000, genesis.hash, 21)
      /** The 8 made-up hashes below `from`. */
      const below = (from: Hash.Hash) => Array.from({ length: 8 }, (_, k) => fake.at(fake.indexOf(from) + 1 + k))
      const p = yield* h.addScripted("p", fake.at(0))
      const begin = yield* Clock.currentTimeMillis
      const sync = yield* h.start("p", fake.at(0))
      const first = yield* nextHashes(p)
      yield* p.sendHashes(below(first.from))
      const checkedAt = yield* Clock.currentTimeMillis
      // Every further hash request is answered 700 ms later: the hash source stays busy and in time,
      // each batch opens a fresh cross-check, none of which is answered.
      let answered = 1
      while (yield* h.downloader.synchronising) {
        yield* TestClock.adjust("700 millis")
        if (!(yield* h.downloader.synchronising)) break
        const requests = p.log.filter((r) => r._tag === "Hashes")
        for (; answered < requests.length; answered++) yield* p.sendHashes(below(requests[answered]!.from))
      }
      const run = yield* sync.outcome
      expect(resultTag(run)).toBe("CrossCheckFailed")
      const end = endOf(begin, run)
      expect(end).toBeGreaterThanOrEqual(checkedAt + softTTL)
      expect(end).toBeLessThanOrEqual(checkedAt + softTTL + step)
      expect(answered).toBeGreaterThanOrEqual(4)
      // It is the first check that expired.
      const checks = p.log.filter((r) => r._tag === "Blocks")
      expect(checks.length).toBeGreaterThanOrEqual(4)
      const error = errorOf(run)
      expect(error?._tag === "CrossCheckFailed" && error.reason).toContain(Hash.toHex(checks[0]!.hashes[0]!))
    }))
})
