/**
 * How effect/cli shows its output: help and version as usual, but an invalid invocation (a bad
 * flag, a missing argument) as one line on stderr that points to `--help`.
 *
 * @since 0.1.0
 */
import { Console } from "effect"
import { CliOutput } from "effect/cli"
import * as Failure from "./Failure.ts"

/** The presenter: help in full on request, a one-line complaint on a bad invocation. */
export const presenter: CliOutput.Presenter = {
  present: (event) => {
    if (event._tag !== "InvalidInvocation") return CliOutput.defaultPresenter.present(event)
    const command = event.commandPath.join(" ")
    const problems = event.errors.map((error) => Failure.oneLine(error.message)).join("; ")
    return Console.error(`${command}: ${problems} (see '${command} --help')`)
  }
}

/** The presenter as a layer. */
export const layer = CliOutput.layerPresenter(presenter)
