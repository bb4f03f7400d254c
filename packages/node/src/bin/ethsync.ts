/**
 * The `ethsync` executable: runs the CLI on the command line's arguments with Node's services.
 * Errors are already printed as one line; the exit code is 0, 1 for refused data, 2 for a bad
 * invocation, 130 when interrupted.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import * as Ethsync from "../cli/Ethsync.ts"

Ethsync.main.pipe(Effect.provide(NodeServices.layer), NodeRuntime.runMain({ disableErrorReporting: true }))
