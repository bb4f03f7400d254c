/**
 * `ethsync status --datadir DIR [--json]`: the chain a datadir holds and its head.
 *
 * @since 0.1.0
 */
import { Hash } from "@ethsync/core"
import { Console, Effect } from "effect"
import { Command, Flag } from "effect/cli"
import * as LmdbChainStore from "../LmdbChainStore.ts"
import * as Flags from "./Flags.ts"

/** The `status` command. */
export const command = Command.make("status", {
  datadir: Flags.datadir({ mustExist: true }),
  json: Flag.Boolean("json").pipe(
    Flag.withDescription("Print one JSON object {\"genesis\",\"number\",\"hash\",\"td\"} (hashes 0x-hex, td a decimal string)"),
    Flag.withDefault(false)
  )
}, ({ datadir, json }) =>
  Effect.scoped(Effect.gen(function*() {
    const store = yield* LmdbChainStore.make({ path: datadir, readOnly: true })
    const head = yield* store.head
    const status = {
      genesis: Hash.toHex(store.genesis.hash),
      number: head.block.number,
      hash: Hash.toHex(head.block.hash),
      td: head.td.toString()
    }
    yield* Console.log(
      json
        ? JSON.stringify(status)
        : `genesis ${status.genesis}\nhead    ${status.number} ${status.hash}\ntd      ${status.td}`
    )
  }))).pipe(
  Command.withDescription("Show the datadir's genesis hash, head number, head hash and total difficulty"),
  Command.withExamples([{ command: "ethsync status --datadir ./chain --json", description: "The head as one JSON object" }])
)
