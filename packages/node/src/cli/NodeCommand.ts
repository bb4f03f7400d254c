/**
 * `ethsync node --datadir DIR [--peer enode://…]`: serves the datadir's chain and syncs it, for
 * ever, as a go-ethereum 1.0 node does (a sync when a 5th peer connects, every 10 s, and on a
 * heavier NewBlock); prints its enode URL as the first line of stdout.
 *
 * @since 0.2.0
 */
import { Command } from "effect/cli"
import * as SealChoice from "../SealChoice.ts"
import * as NodeStart from "./NodeStart.ts"

/** The `node` command. */
export const command = Command.make("node", NodeStart.flags, NodeStart.runForever({ autoSync: true, syncOnFirstPeer: false })).pipe(
  Command.provide((input) => SealChoice.layer(input.verifySeals, input.datadir)),
  Command.withShortDescription("Serve and sync the datadir's chain, for ever"),
  Command.withDescription(
    "Run a node: serve the datadir's chain over RLPx and sync it from the peers, as go-ethereum 1.0 does, until " +
      "SIGINT or SIGTERM. The first line of stdout is the node's enode URL."
  ),
  Command.withExamples([
    { command: "ethsync node --datadir ./chain --peer enode://…@127.0.0.1:30303", description: "Keep a chain in sync with a peer" }
  ])
)
