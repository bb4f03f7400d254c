/**
 * Holding a datadir's LMDB write lock from another process, as a running import does between its
 * batches' transactions.
 */
import * as ChildProcess from "node:child_process"
import { fileURLToPath } from "node:url"
import { Effect, type Scope } from "effect"

/** The folder of @ethsync/node, where the lock holder finds lmdb. */
const packageRoot = fileURLToPath(new URL("..", import.meta.url))

/** Opens the datadir given as the first argument and stays in a write transaction, saying so once in it. */
const holder = `
import { open } from "lmdb"
const env = open({ path: process.argv[1], noSubdir: false, maxDbs: 4 })
env.transactionSync(() => {
  process.stdout.write("locked\\n")
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120000)
})
`

/** Holds the write lock of the datadir at `path` from another process until the scope closes. */
export const hold = (path: string): Effect.Effect<void, never, Scope.Scope> =>
  Effect.asVoid(Effect.acquireRelease(
    Effect.callback<ChildProcess.ChildProcessWithoutNullStreams>((resume) => {
      const child = ChildProcess.spawn(process.execPath, ["--input-type=module", "-e", holder, path], { cwd: packageRoot })
      let stderr = ""
      child.stdout.on("data", (chunk) => {
        if (String(chunk).includes("locked")) resume(Effect.succeed(child))
      })
      child.stderr.on("data", (chunk) => stderr += chunk)
      child.on("close", (code) => resume(Effect.die(new Error(`the lock holder ended (${code}) before it held the lock: ${stderr}`))))
    }),
    (child) =>
      Effect.callback<void>((resume) => {
        child.on("close", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
  ))
