/**
 * `ethsync serve` as a child process of the bench: a server over a datadir made beforehand, on a
 * free port of 127.0.0.1, with a node key of its own (so that several servers of one datadir are
 * several peers), not checking seals; its enode URL read from the first line of its stdout. It is
 * stopped when the caller's scope closes.
 *
 * @since 0.2.0
 */
import { Hex } from "@ethsync/core"
import { Rlpx } from "@ethsync/node"
import { Effect, type Scope } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import * as CliProcess from "./CliProcess.ts"

/** A running server. */
export interface ServeProcess {
  /** Where to dial it. */
  readonly enode: string
  /** Its process. */
  readonly process: CliProcess.CliProcess
}

/**
 * Starts `ethsync serve` over `datadir`, writing its node key into `keyDir` (a folder of the
 * caller's, one file per server), and waits for its enode URL.
 */
export const start = (datadir: string, keyDir: string): Effect.Effect<ServeProcess, CliProcess.CliProcessFailed, Scope.Scope> =>
  Effect.gen(function*() {
    const key = Rlpx.NodeKey.generate()
    const keyFile = join(keyDir, `nodekey-${Hex.fromBytes(key.id).slice(2, 18)}`)
    writeFileSync(keyFile, Hex.fromBytes(key.secret).slice(2), { mode: 0o600 })
    const child = yield* CliProcess.start([
      "serve", "--log-level", "warn", "--verify-seals", "none", "--datadir", datadir, "--nodekey", keyFile, "--port", "0"
    ])
    return { enode: yield* CliProcess.enode(child), process: child }
  })
