/**
 * The CLI run on the command line's arguments with Node's services, as the `ethsync` executable
 * runs it once its memory settings are in force. Errors are already printed as one line; the exit
 * code is 0, 1 for refused data, 2 for a bad invocation. SIGINT and SIGTERM interrupt the command,
 * whose scope closes (the datadir among it), and the exit code is 0: stopping `serve` or `node` is
 * how they end.
 *
 * @since 0.2.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Cause, Effect, Exit, Runtime } from "effect"
import * as Ethsync from "../cli/Ethsync.ts"

/** The default teardown, except that an interrupted run (a signal) exits 0. */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

/** Runs the CLI to its end, then exits with its code. */
export const main = (): void =>
  Ethsync.main.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain({ disableErrorReporting: true, teardown }))
