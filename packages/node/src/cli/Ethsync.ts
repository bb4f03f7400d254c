/**
 * The `ethsync` command line: the root command, its subcommands (one module each; add a command
 * by adding its module to the list) and the program that runs them.
 *
 * @since 0.1.0
 */
import { Effect, Stdio } from "effect"
import { Command, Flag } from "effect/cli"
import * as DemoCommand from "./DemoCommand.ts"
import * as ExportCommand from "./ExportCommand.ts"
import * as Failure from "./Failure.ts"
import * as ImportCommand from "./ImportCommand.ts"
import * as Logging from "./Logging.ts"
import * as NodeCommand from "./NodeCommand.ts"
import * as ServeCommand from "./ServeCommand.ts"
import * as StatusCommand from "./StatusCommand.ts"
import * as SyncCommand from "./SyncCommand.ts"
import * as UsagePresenter from "./UsagePresenter.ts"

/** The version `--version` prints. */
export const version = "0.1.0"

/** The root command with every subcommand. */
export const command = Command.make("ethsync").pipe(
  Command.withSharedFlags({
    logFormat: Flag.Literals("log-format", Logging.formats).pipe(
      Flag.withDescription("Log format on stderr: pretty for people, json for machines (default pretty)"),
      Flag.withDefault("pretty")
    )
  }),
  Command.withDescription(
    "Keep an Ethereum-style chain on disk: watch a sync against malicious peers (demo), import and export geth-format files, " +
      "show its status, serve it to and sync it from eth/60-61 nodes (serve, sync, node)"
  ),
  Command.withSubcommands([
    DemoCommand.command,
    ImportCommand.command,
    ExportCommand.command,
    StatusCommand.command,
    ServeCommand.command,
    SyncCommand.command,
    NodeCommand.command
  ]),
  Command.provide((input) => Logging.layer(input.logFormat))
)

/** Runs ethsync on `args` (without the node and script paths); a failure is printed as one line and becomes an ExitCode. */
export const run = (args: ReadonlyArray<string>) =>
  Command.runWith(command, { version })(args).pipe(
    Effect.provide(UsagePresenter.layer),
    Effect.catchCause(Failure.report)
  )

/** Runs ethsync on the arguments of the Stdio service. */
export const main = Effect.flatMap(Stdio.Stdio, (stdio) => Effect.flatMap(stdio.args, run))
