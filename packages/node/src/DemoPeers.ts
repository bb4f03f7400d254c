/**
 * The simulated peers of `ethsync demo`: honest peers holding the whole generated chain, speaking
 * eth/61 (a sync with them runs forward by number), and eth/60 attackers (met first, synced with
 * by the seed's algorithm), each running one of the testkit's attacks that the downloader catches
 * and drops, named after it; over RLPx, wire-level attackers too, each breaking the eth protocol
 * in a way the node's eth handler or downloader catches. Latencies spread over 1-20 ms of real time.
 *
 * @since 0.1.0
 */
import { TotalDifficulty } from "@ethsync/core"
import { Attacks, SimPeer, type TestChain } from "@ethsync/testkit"
import { Duration } from "effect"
import type { Misconduct } from "./demo/SpecServer.ts"

/** A simulated peer of the demo. */
export interface DemoPeer {
  /** How it behaves (its id and the total difficulty it advertises included). */
  readonly spec: SimPeer.Spec
  /** Whether it serves the real chain faithfully. */
  readonly honest: boolean
  /** How it breaks the protocol on the wire (RLPx only), if it does. */
  readonly misconduct?: Misconduct | undefined
}

/** What an attack's spec is built with besides the chain. */
interface Setting {
  /** A number distinct for each attacker. */
  readonly tag: number
  /** The downloader's cache limit. */
  readonly cacheLimit: number
}

/** An attack as the demo stages it. */
interface Attack {
  /** Its name; its attackers are called `attacker-<name>`. */
  readonly name: string
  /**
   * How much more total difficulty than the real chain its attackers claim. Every attacker claims
   * more, so the sync loop meets them all before any honest peer, in the order of their claims,
   * chosen so that each is still caught when its turn comes: first those caught before they import
   * anything (every-second-hash before any block is imported, as a known block among its hashes
   * would skip the cross-check), then those caught only after real blocks below their bad part are
   * imported, the one that imports least first.
   */
  readonly claim: bigint
  /** Whether the downloader, with this cache limit, catches it on a chain of `blocks` blocks. */
  readonly caught: (blocks: number, cacheLimit: number) => boolean
  /** Its spec on `chain`. */
  readonly spec: (id: string, chain: TestChain.TestChain, setting: Setting) => SimPeer.Spec
}

/** Made-up hashes the made-up-chain attacker offers: far more than any test chain. */
const madeUpLength = 1024 * 1024

/** Caught on any chain. */
const always = () => true

/** The attacks, in the order attackers are given them. */
const attacks: ReadonlyArray<Attack> = [
  {
    name: "made-up-chain",
    claim: 6n,
    caught: always,
    spec: (id, chain, { tag }) => Attacks.madeUpChain(id, madeUpLength, chain.blocks[0]!.hash, tag)
  },
  { name: "missing-block", claim: 2n, caught: always, spec: (id, chain) => Attacks.missingBlock(id, chain) },
  { name: "unknown-parent", claim: 5n, caught: always, spec: (id, chain) => Attacks.unknownParent(id, chain) },
  {
    name: "swapped-chunks",
    claim: 1n,
    // It swaps the 2nd and 3rd chunks of a cache limit below the head: the chain needs a 4th below them.
    caught: (blocks, cacheLimit) => blocks >= 4 * cacheLimit,
    spec: (id, chain, { cacheLimit }) => Attacks.swappedChunks(id, chain, cacheLimit)
  },
  { name: "every-second-hash", claim: 4n, caught: always, spec: (id, chain) => Attacks.everySecondHash(id, chain) },
  {
    name: "genesis-parents",
    claim: 3n,
    // On a one-block chain the forged block is the real one.
    caught: (blocks) => blocks >= 2,
    spec: (id, chain) => Attacks.genesisParents(id, chain)
  }
]

/** The attacks' names, in the order attackers are given them. */
export const attackNames: ReadonlyArray<string> = attacks.map((attack) => attack.name)

/** A wire-level attack: an honest peer's spec, broken on the wire. */
interface WireAttack {
  /** Its misconduct, which names it too: its attackers are called `attacker-<misconduct>`. */
  readonly misconduct: Misconduct
  /** How much more (or less) total difficulty than the real chain its Status claims. */
  readonly claim: bigint
}

/**
 * The wire-level attacks, in the order attackers are given them. The staller claims more than
 * any attacker the downloader meets, so it is synced with first; as it stops before its hash
 * chain reaches a block we have, no block phase starts and nothing is imported before it is
 * dropped (for the block cross-check it never answers, or, on a chain of one hash batch, for its
 * first hash request), and the order the other attacks need stands. The liar about its genesis
 * is refused at its Status whatever it claims; the garbage sender claims less than the real
 * chain, so it is never synced with, and is dropped for its first message after the Status.
 */
const wireAttacks: ReadonlyArray<WireAttack> = [
  { misconduct: "garbage", claim: -1n },
  { misconduct: "wrong-genesis", claim: 8n },
  { misconduct: "stall", claim: 7n }
]

/** The wire-level attacks' names, in the order attackers are given them. */
export const wireAttackNames: ReadonlyArray<string> = wireAttacks.map((attack) => attack.misconduct)

/** The `i`-th of `count` latencies, spread evenly over 1-20 ms. */
const latency = (i: number, count: number): Duration.Duration =>
  Duration.millis(1 + Math.round((19 * i) / Math.max(1, count - 1)))

/** How many peers of each kind. */
export interface Counts {
  /** Honest peers. */
  readonly honest: number
  /** Attackers whose attack is in what they serve. */
  readonly attackers: number
  /** Attackers whose attack is on the wire (RLPx only). */
  readonly wireAttackers: number
}

/** The name of the `i`-th attacker of an attack named `name` among `count` attacks. */
const attackerId = (name: string, i: number, count: number): string => {
  const round = Math.floor(i / count)
  return `attacker-${name}${round === 0 ? "" : `-${round + 1}`}`
}

/**
 * `counts.honest` honest peers, then `counts.attackers` attackers cycling through the attacks that
 * the downloader catches on `chain`, then `counts.wireAttackers` cycling through the wire-level
 * attacks (a second round adds `-2` to the names, and so on).
 */
export const make = (chain: TestChain.TestChain, counts: Counts, cacheLimit: number): ReadonlyArray<DemoPeer> => {
  const td = TotalDifficulty.of(chain.blocks.map((block) => block.header))
  const usable = attacks.filter((attack) => attack.caught(chain.length, cacheLimit))
  const honest = Array.from({ length: counts.honest }, (_, i): DemoPeer => ({
    spec: { ...SimPeer.eth61(SimPeer.honest(`honest-${i + 1}`, chain)), latency: latency(i, counts.honest), td },
    honest: true
  }))
  const attackers = Array.from({ length: counts.attackers }, (_, i): DemoPeer => {
    const attack = usable[i % usable.length]!
    const id = attackerId(attack.name, i, usable.length)
    return {
      spec: { ...attack.spec(id, chain, { tag: i + 1, cacheLimit }), latency: latency(i, counts.attackers), td: td + attack.claim },
      honest: false
    }
  })
  const wire = Array.from({ length: counts.wireAttackers }, (_, i): DemoPeer => {
    const attack = wireAttacks[i % wireAttacks.length]!
    const id = attackerId(attack.misconduct, i, wireAttacks.length)
    return {
      spec: { ...SimPeer.honest(id, chain), latency: latency(i, counts.wireAttackers), td: td + attack.claim },
      honest: false,
      misconduct: attack.misconduct
    }
  })
  return [...honest, ...attackers, ...wire]
}
