/**
 * Flags that several ethsync commands share.
 *
 * @since 0.1.0
 */
import { Flag } from "effect/cli"

/** `--datadir DIR`: the datadir folder; `mustExist` for commands that only read one. */
export const datadir = (options: { readonly mustExist: boolean }): Flag.Flag<string> =>
  Flag.Directory("datadir", { mustExist: options.mustExist }).pipe(
    Flag.withDescription(
      options.mustExist
        ? "Datadir folder holding the chain (an LMDB environment)"
        : "Datadir folder holding the chain (an LMDB environment); made when missing"
    )
  )
