/**
 * `ethsync demo [--blocks N] [--peers P] [--attackers A] [--wire-attackers W] [--transport rlpx|memory]
 * [--datadir DIR] [--metrics IP:PORT]`: syncs a generated chain from honest and malicious simulated
 * peers (RLPx servers on 127.0.0.1 unless told otherwise) into a fresh datadir, serving its
 * metrics while it runs if asked, and sums up what happened.
 *
 * @since 0.1.0
 */
import { Hash } from "@ethsync/core"
import { Console, Data, Duration, Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import * as Demo from "../Demo.ts"
import * as Stage from "../demo/Stage.ts"
import * as DemoPeers from "../DemoPeers.ts"
import * as SyncFigures from "../SyncFigures.ts"
import { count, plural } from "../Wording.ts"
import * as Flags from "./Flags.ts"

/** `--wire-attackers` above 0 with `--transport memory`: the in-memory peers have no wire to break. */
export class WireAttackersNeedRlpx extends Data.TaggedError("WireAttackersNeedRlpx")<{
  /** The wire attackers asked for. */
  readonly count: number
}> {
  override get message() {
    return `--wire-attackers ${this.count} needs --transport rlpx: the in-memory peers have no wire to break`
  }
}

/** Wire attackers unless told otherwise: each wire-level attack once. */
const defaultWireAttackers = DemoPeers.wireAttackNames.length

/** What the summary says of each transport. */
const transportWords: Record<Stage.Transport, string> = {
  rlpx: "rlpx: each peer an RLPx server on 127.0.0.1, dialled by a node over the datadir",
  memory: "memory: the in-process simulated network"
}

/** The summary a person reads, one entry per line. */
const summaryLines = (summary: Demo.Summary): ReadonlyArray<string> => {
  const seconds = Duration.toMillis(summary.took) / 1000
  const rate = summary.imported / Math.max(seconds, 0.001)
  const dropped = new Set(summary.drops.map((drop) => drop.peer))
  const attackersDropped = summary.attackers.filter((id) => dropped.has(id)).length
  const honestDropped = summary.honest.filter((id) => dropped.has(id))
  const width = Math.max(0, ...summary.drops.map((drop) => drop.peer.length))
  const survivors = summary.attackers.filter((id) => !dropped.has(id))
  return [
    `synced ${plural(summary.blocks, "block")} from ${plural(summary.honest.length, "honest peer")} ` +
    `with ${plural(summary.attackers.length, "attacker")} among them`,
    `  transport ${transportWords[summary.transport]}`,
    `  imported  ${plural(summary.imported, "block")} in ${seconds.toFixed(2)} s (${count(rate)} blocks/s)`,
    `  head      ${count(summary.head.block.number)} ${Hash.toHex(summary.head.block.hash)}, ` +
    "the generated chain's head, so every block was imported",
    `  syncs     ${summary.syncs.length}: ${summary.syncs.map((sync) => sync.peer).join(", ")}`,
    `  dropped   ${attackersDropped} of ${plural(summary.attackers.length, "attacker")}, ` +
    (honestDropped.length === 0 ? "no honest peer" : `honest too: ${honestDropped.join(", ")}`),
    ...summary.drops.map((drop) => `    ${drop.peer.padEnd(width)}  ${drop.reason}`),
    ...(survivors.length === 0 ? [] : [`  survived  ${survivors.join(", ")}`]),
    `  seals     not checked (verifier ${summary.seals}): the generated chain's seals are made up`,
    `  datadir   ${summary.datadir} (${summary.kept ? "kept" : "temporary, removed"})`,
    `  metrics   ${SyncFigures.line(summary.figures)}`
  ]
}

/** An integer flag with a default, at least `min`; `expected` says what a valid value is. */
const bounded = (name: string, description: string, min: number, fallback: number, expected: string) =>
  Flag.Int(name).pipe(
    Flag.withDescription(`${description} (default ${fallback})`),
    Flag.filter((n) => n >= min, (n) => `${expected}, not ${n}`),
    Flag.withDefault(fallback)
  )

/** The `demo` command. */
export const command = Command.make("demo", {
  blocks: bounded("blocks", "Blocks of the generated chain above its genesis", 1, 50_000, "at least 1 block"),
  peers: bounded("peers", "Honest simulated peers, each serving the whole chain", 1, 4, "at least 1 honest peer"),
  attackers: bounded(
    "attackers",
    `Malicious simulated peers, one attack each, in turn: ${DemoPeers.attackNames.join(", ")}`,
    0,
    3,
    "0 or more attackers"
  ),
  wireAttackers: Flag.Int("wire-attackers").pipe(
    Flag.withDescription(
      `Malicious peers breaking the eth protocol on the wire (rlpx only), one attack each, in turn: ` +
        `${DemoPeers.wireAttackNames.join(", ")} (default ${defaultWireAttackers} over rlpx, 0 in memory)`
    ),
    Flag.filter((n) => n >= 0, (n) => `0 or more wire attackers, not ${n}`),
    Flag.optional
  ),
  transport: Flag.Literals("transport", Stage.transports).pipe(
    Flag.withDescription(
      "How the peers reach the syncing node: rlpx (default; real sockets on 127.0.0.1) or memory (the in-process simulation)"
    ),
    Flag.withDefault("rlpx")
  ),
  datadir: Flag.Directory("datadir", { mustExist: false }).pipe(
    Flag.withDescription("Datadir to sync into and keep (a new or empty folder); without it, a temporary one is removed afterwards"),
    Flag.optional
  ),
  metrics: Flags.metrics
}, ({ blocks, peers, attackers, wireAttackers, transport, datadir, metrics }) =>
  Effect.gen(function*() {
    const wire = Option.getOrElse(wireAttackers, () => transport === "rlpx" ? defaultWireAttackers : 0)
    if (transport === "memory" && wire > 0) return yield* new WireAttackersNeedRlpx({ count: wire })
    const summary = yield* Demo.run({
      blocks,
      peers,
      attackers,
      wireAttackers: wire,
      transport,
      datadir: Option.getOrUndefined(datadir),
      metrics: Option.getOrUndefined(metrics)
    })
    for (const line of summaryLines(summary)) yield* Console.log(line)
  })).pipe(
  Command.withShortDescription("Sync a generated chain from honest and malicious simulated peers"),
  Command.withDescription(
    "The main job on embedded defaults: generate a chain, start honest and malicious simulated peers in process " +
      "(1-20 ms latencies, real clock), each an RLPx server on 127.0.0.1 (or, with --transport memory, in the " +
      "in-process simulation), sync the chain into a fresh LMDB datadir with a node that dials them all, and print " +
      "a summary: the transport, blocks imported, time, blocks/s, and the peers dropped and why. Every block must " +
      "end up imported; each attacker runs an attack the downloader or the eth handler catches and is dropped for it."
  ),
  Command.withExamples([
    { command: "ethsync demo", description: "50,000 blocks, 4 honest peers, 3 attackers and 3 wire attackers over RLPx, a temporary datadir" },
    { command: "ethsync demo --blocks 20000 --attackers 6 --datadir ./demo", description: "Every attack once, keeping the datadir" },
    { command: "ethsync demo --transport memory", description: "The same sync in the in-process simulation (no wire attackers)" },
    { command: "ethsync demo --metrics 127.0.0.1:9090", description: "Scrape http://127.0.0.1:9090/metrics while it runs" }
  ])
)
