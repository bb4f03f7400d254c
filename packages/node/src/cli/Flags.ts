/**
 * Flags that several ethsync commands share.
 *
 * @since 0.1.0
 */
import { Flag } from "effect/cli"
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

/** `--verify-seals ethash|none`: how block seals are checked (ethash unless told otherwise). */
export const verifySeals: Flag.Flag<SealChoice.Name> = Flag.Literals("verify-seals", SealChoice.names).pipe(
  Flag.withDescription(
    "How proof-of-work seals are checked: ethash (default; epoch caches kept in the datadir), " +
      "or none for chains whose seals are made up"
  ),
  Flag.withDefault("ethash")
)
