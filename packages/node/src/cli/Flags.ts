/**
 * Flags that several ethsync commands share.
 *
 * @since 0.1.0
 */
import { Effect, type Option } from "effect"
import { CliError, Flag } from "effect/cli"
import type { NetAddress } from "effect/net"
import * as MetricsServer from "../MetricsServer.ts"
import * as SealChoice from "../SealChoice.ts"

/** `--datadir DIR`: the datadir folder; `mustExist` for commands that only read one. */
export const datadir = (options: { readonly mustExist: boolean }): Flag.Flag<string> =>
  Flag.Directory("datadir", { mustExist: options.mustExist }).pipe(
    Flag.withDescription(
      options.mustExist
        ? "Datadir folder holding the chain (an LMDB environment)"
        : "Datadir folder holding the chain (an LMDB environment); made when missing"
    )
  )

/**
 * `--metrics IP:PORT` (optional): where to serve the run's metrics for Prometheus while the
 * command runs; a value that is not an address is refused before the command starts.
 */
export const metrics: Flag.Flag<Option.Option<NetAddress.InetAddress>> = Flag.String("metrics").pipe(
  Flag.withMetavar("IP:PORT"),
  Flag.withDescription(
    "Serve the metrics at http://IP:PORT/metrics in Prometheus' text format while the command runs, " +
      "e.g. 127.0.0.1:9090 or [::1]:9090 (port 0 picks a free port; the URL is logged)"
  ),
  Flag.mapEffect((value) =>
    Effect.mapError(
      Effect.fromResult(MetricsServer.parseAddress(value)),
      (error) => new CliError.ValidationError({ message: error.message })
    )
  ),
  Flag.optional
)

/** `--verify-seals ethash|none`: how block seals are checked (ethash unless told otherwise). */
export const verifySeals: Flag.Flag<SealChoice.Name> = Flag.Literals("verify-seals", SealChoice.names).pipe(
  Flag.withDescription(
    "How proof-of-work seals are checked: ethash (default; epoch caches kept in the datadir), " +
      "or none for chains whose seals are made up"
  ),
  Flag.withDefault("ethash")
)
