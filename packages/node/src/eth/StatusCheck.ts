/**
 * The check of a peer's Status against ours: the same eth version, network and genesis, or the
 * connection ends with a tagged error naming the mismatch.
 *
 * @since 0.2.0
 */
import { Hash } from "@ethsync/core"
import { Data, Result } from "effect"
import type * as EthMessage from "./EthMessage.ts"

/** The Status fields two peers must agree on. */
export type Agreed = "protocolVersion" | "networkId" | "genesisHash"

/** A peer's Status disagrees with ours on a field both sides must share. */
export class StatusMismatch extends Data.TaggedError("StatusMismatch")<{
  /** The field that differs. */
  readonly field: Agreed
  /** Our value, as text (a hash in 0x-hex). */
  readonly ours: string
  /** The peer's value, as text. */
  readonly theirs: string
}> {
  override get message() {
    return `the peer's status has ${this.field} ${this.theirs}, ours is ${this.ours}`
  }
}

/** The part of a Status (of eth/60-61 or eth/62-68) that two peers must agree on. */
export type Agreeing = Pick<EthMessage.Status, Agreed>

/**
 * The peer's Status when it agrees with ours on version, network id and genesis; else the first
 * mismatch. `ours` is the Status we send on this connection, so its version is the negotiated one.
 */
export const check = <S extends Agreeing>(ours: S, theirs: S): Result.Result<S, StatusMismatch> => {
  if (theirs.protocolVersion !== ours.protocolVersion) {
    return Result.fail(
      new StatusMismatch({ field: "protocolVersion", ours: String(ours.protocolVersion), theirs: String(theirs.protocolVersion) })
    )
  }
  if (theirs.networkId !== ours.networkId) {
    return Result.fail(new StatusMismatch({ field: "networkId", ours: String(ours.networkId), theirs: String(theirs.networkId) }))
  }
  if (!Hash.equals(theirs.genesisHash, ours.genesisHash)) {
    return Result.fail(
      new StatusMismatch({ field: "genesisHash", ours: Hash.toHex(ours.genesisHash), theirs: Hash.toHex(theirs.genesisHash) })
    )
  }
  return Result.succeed(theirs)
}
