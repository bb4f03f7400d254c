/**
 * The check of an eth/62-68 peer's Status against ours: the same version, network and genesis
 * (as eth/60-61 check them) and, from eth/64 on, a fork id that the EIP-2124 rules accept.
 *
 * @since 0.2.0
 */
import { Result } from "effect"
import * as ForkId from "./ForkId.ts"
import type * as HeaderFirstMessage from "./HeaderFirstMessage.ts"
import * as StatusCheck from "./StatusCheck.ts"

/** Why a peer's Status is refused. */
export type StatusRefused = StatusCheck.StatusMismatch | ForkId.ForkIdRejected

/**
 * The peer's Status when it agrees with `ours` (the Status we send on this connection) and, when
 * ours carries a fork id, its fork id is compatible with our chain, whose head is at `head`, by
 * the EIP-2124 rules over `forks`; else why not. A peer without a fork id where ours has one is refused.
 */
export const check = (
  ours: HeaderFirstMessage.Status,
  theirs: HeaderFirstMessage.Status,
  head: bigint,
  forks: ReadonlyArray<bigint> = ForkId.mainnetForks
): Result.Result<HeaderFirstMessage.Status, StatusRefused> => {
  const agreed = StatusCheck.check(ours, theirs)
  if (Result.isFailure(agreed) || ours.forkId === undefined) return agreed
  if (theirs.forkId === undefined) {
    return Result.fail(new ForkId.ForkIdRejected({ hash: "none", next: 0n, reason: "its status carries no fork id" }))
  }
  return Result.map(ForkId.check(ours.genesisHash, head, theirs.forkId, forks), () => theirs)
}
