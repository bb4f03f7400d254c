/**
 * `ethsync serve --datadir DIR [--addr A] [--port P]`: serves the datadir's chain to the nodes
 * that connect (and to those of `--peer` and static-nodes.json), syncing from none; prints its
 * enode URL as the first line of stdout, then serves until SIGINT or SIGTERM.
 *
 * @since 0.2.0
 */
import { Command } from "effect/cli"
import * as SealChoice from "../SealChoice.ts"
import * as NodeStart from "./NodeStart.ts"

/** The `serve` command. */
export const command = Command.make("serve", NodeStart.flags, NodeStart.runForever({ autoSync: false, syncOnFirstPeer: false })).pipe(
  Command.provide((input) => SealChoice.layer(input.verifySeals, input.datadir)),
  Command.withShortDescription("Serve the datadir's chain to eth/60-61 and eth/66-68 peers"),
  Command.withDescription(
    "Serve the datadir's chain over RLPx (eth/68-66, eth/61 and eth/60) without syncing. The first line of stdout is the " +
      "node's enode URL; it serves until SIGINT or SIGTERM, then exits 0 with the datadir closed."
  ),
  Command.withExamples([
    { command: "ethsync serve --datadir ./chain --port 0", description: "Serve on a free port of 127.0.0.1" }
  ])
)
