/**
 * Why an eth protocol handler ends a connection: each way a peer can break eth/60-61 or eth/66-68,
 * with the Disconnect reason go-ethereum 1.0 sends for it (0x0c subprotocol error for a bad Status
 * or a request before it, 0x03 useless peer for a second Status or a bad message after it); an
 * eth/66-68 peer is told a subprotocol error as clients since 2016 number it (0x10).
 *
 * @since 0.2.0
 */
import { Data } from "effect"
import type { ForkIdRejected } from "../eth/ForkId.ts"
import type { DecodeError } from "../eth/MessageError.ts"
import type { StatusMismatch } from "../eth/StatusCheck.ts"
import { DisconnectReason } from "../rlpx/DisconnectReason.ts"

/** The peer's Status did not arrive within the deadline. */
export class NoStatus extends Data.TaggedError("NoStatus")<{
  /** The deadline, in milliseconds. */
  readonly millis: number
}> {
  override get message() {
    return `no Status within ${this.millis} ms`
  }
}

/** The peer's first message is not a Status, or its Status cannot be decoded or disagrees with ours (its fork id included). */
export class BadStatus extends Data.TaggedError("BadStatus")<{
  /** What was wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `bad Status: ${this.reason}`
  }
}

/** The peer sent a second Status. */
export class SecondStatus extends Data.TaggedError("SecondStatus")<{}> {
  override get message() {
    return "a second Status"
  }
}

/** The peer sent a message after its Status that could not be decoded. */
export class BadMessage extends Data.TaggedError("BadMessage")<{
  /** Why it could not be decoded. */
  readonly error: DecodeError
}> {
  override get message() {
    return this.error.message
  }
}

/** The peer and we share no eth version we speak. */
export class NoSharedVersion extends Data.TaggedError("NoSharedVersion")<{}> {
  override get message() {
    return "no eth version in common (we speak eth/60, 61 and 66-68)"
  }
}

/** The same node is connected to us already (it dialled us while we dialled it). */
export class AlreadyConnected extends Data.TaggedError("AlreadyConnected")<{}> {
  override get message() {
    return "the same node is connected already"
  }
}

/** Every reason the handler ends a connection. */
export type PeerFault = NoStatus | BadStatus | SecondStatus | BadMessage | NoSharedVersion | AlreadyConnected

/** The tag of every fault, so that a fault added to the union must be added here. */
const faultTags: Record<PeerFault["_tag"], true> = {
  NoStatus: true,
  BadStatus: true,
  SecondStatus: true,
  BadMessage: true,
  NoSharedVersion: true,
  AlreadyConnected: true
}

/** Whether an error is a PeerFault. */
export const isPeerFault = (error: { readonly _tag: string }): error is PeerFault => Object.hasOwn(faultTags, error._tag)

/** A BadStatus for a Status that disagrees with ours, has a fork id we refuse, or could not be read. */
export const badStatus = (error: StatusMismatch | ForkIdRejected | DecodeError): BadStatus => new BadStatus({ reason: error.message })

/** How Disconnect reasons are numbered: go-ethereum 1.0's for eth/60-61 peers, today's (0x10 subprotocol error) for eth/66-68 ones. */
export type Numbering = "2015" | "today"

/** The Disconnect reason sent for a fault, in `numbering` (2015's unless told). */
export const disconnectReason = (fault: PeerFault, numbering: Numbering = "2015"): DisconnectReason => {
  switch (fault._tag) {
    case "NoStatus":
    case "BadStatus":
      return numbering === "today" ? DisconnectReason.subprotocolErrorToday : DisconnectReason.subprotocolError
    case "SecondStatus":
    case "NoSharedVersion":
      return DisconnectReason.uselessPeer
    case "AlreadyConnected":
      return DisconnectReason.alreadyConnected
    case "BadMessage":
      return fault.error._tag === "UnknownMessageCode" ? DisconnectReason.protocolError : DisconnectReason.uselessPeer
  }
}
