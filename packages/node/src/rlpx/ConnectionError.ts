/**
 * Why a connection failed to open or came to an end. Every failure a remote can cause is one of
 * these tagged errors, naming what was wrong; none escapes as a throw.
 *
 * @since 0.2.0
 */
import { Data } from "effect"
import { describeReason, DisconnectReason } from "./DisconnectReason.ts"

/** The socket failed, could not connect, or was closed without a Disconnect message. */
export class SocketFailure extends Data.TaggedError("SocketFailure")<{
  /** What the system said, or what happened. */
  readonly reason: string
}> {
  override get message() {
    return `socket: ${this.reason}`
  }
}

/** The handshake (connect, auth, ack and both hellos) did not finish within the deadline. */
export class HandshakeTimeout extends Data.TaggedError("HandshakeTimeout")<{
  /** The deadline, in milliseconds. */
  readonly millis: number
}> {
  override get message() {
    return `the handshake did not finish within ${this.millis} ms`
  }
}

/** An auth or ack that cannot be decrypted or read (garbage, a bad MAC, a bad signature). */
export class HandshakeError extends Data.TaggedError("HandshakeError")<{
  /** Which handshake message was bad. */
  readonly step: "auth" | "ack"
  /** What is wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `bad ${this.step}: ${this.reason}`
  }
}

/** A frame whose header or body MAC does not match: it was altered, or the peer is not who the keys say. */
export class FrameMacMismatch extends Data.TaggedError("FrameMacMismatch")<{
  /** Which part of the frame had the bad MAC. */
  readonly part: "header" | "body"
}> {
  override get message() {
    return `the frame ${this.part} MAC does not match`
  }
}

/** A message above the size limit (compressed or decompressed), received or about to be sent. */
export class MessageTooLarge extends Data.TaggedError("MessageTooLarge")<{
  /** Whether the peer sent it or we tried to. */
  readonly direction: "in" | "out"
  /** Its size in bytes (at least; a compressed message may say more once decompressed). */
  readonly size: number
  /** The limit in bytes. */
  readonly limit: number
}> {
  override get message() {
    const verb = this.direction === "in" ? "arrived" : "was to be sent"
    return `a message of ${this.size} bytes ${verb}, above the limit of ${this.limit}`
  }
}

/** The peer broke the p2p protocol: a malformed or unexpected message, an unknown code. */
export class ProtocolError extends Data.TaggedError("ProtocolError")<{
  /** What the peer did. */
  readonly reason: string
}> {
  override get message() {
    return `protocol error: ${this.reason}`
  }
}

/** The peer's hello rules it out: a p2p version we do not speak, another identity, no shared capability. */
export class IncompatiblePeer extends Data.TaggedError("IncompatiblePeer")<{
  /** What is incompatible. */
  readonly reason: string
  /** The Disconnect reason we send for it. */
  readonly disconnect: DisconnectReason
}> {
  override get message() {
    return `incompatible peer: ${this.reason}`
  }
}

/** Nothing arrived from the peer, or it took none of our bytes, for too long. */
export class IdleTimeout extends Data.TaggedError("IdleTimeout")<{
  /** Whether the peer was silent ("read") or took none of our bytes ("write"). */
  readonly direction: "read" | "write"
  /** The limit, in milliseconds. */
  readonly millis: number
}> {
  override get message() {
    return this.direction === "read"
      ? `nothing arrived from the peer for ${this.millis} ms`
      : `the peer took none of our bytes for ${this.millis} ms`
  }
}

/** The connection ended with a Disconnect message, sent by us or by the peer. */
export class Disconnected extends Data.TaggedError("Disconnected")<{
  /** Who sent the Disconnect. */
  readonly by: "us" | "peer"
  /** The reason number it carried (2015 numbering). */
  readonly reason: DisconnectReason
}> {
  override get message() {
    return `disconnected by ${this.by === "us" ? "us" : "the peer"}: ${describeReason(this.reason)}`
  }
}

/** A send we refused without ending the connection: a capability or code that is not shared. */
export class SendRefused extends Data.TaggedError("SendRefused")<{
  /** What is wrong with the send. */
  readonly reason: string
}> {
  override get message() {
    return `send refused: ${this.reason}`
  }
}

/** Every way a connection can fail to open or end. */
export type ConnectionError =
  | SocketFailure
  | HandshakeTimeout
  | HandshakeError
  | FrameMacMismatch
  | MessageTooLarge
  | ProtocolError
  | IncompatiblePeer
  | IdleTimeout
  | Disconnected

/** The Disconnect reason we send the peer when a connection fails this way, if any. */
export const disconnectReasonFor = (error: ConnectionError): DisconnectReason | undefined => {
  switch (error._tag) {
    case "FrameMacMismatch":
    case "MessageTooLarge":
    case "ProtocolError":
      return DisconnectReason.protocolError
    case "IdleTimeout":
      return DisconnectReason.readTimeout
    case "IncompatiblePeer":
      return error.disconnect
    case "SocketFailure":
    case "HandshakeTimeout":
    case "HandshakeError":
    case "Disconnected":
      return undefined
  }
}
