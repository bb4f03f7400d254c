/**
 * The reasons carried by a p2p Disconnect message, in go-ethereum 2015's numbering
 * (`p2p/peer_error.go`: 0x00 requested … 0x0c subprotocol error). A peer may send any number;
 * later clients say 0x10 for a subprotocol error.
 *
 * @since 0.2.0
 */

/** The reason numbers we send. */
export const DisconnectReason = {
  /** The user or the application asked for it. */
  requested: 0x00,
  /** A network error. */
  networkError: 0x01,
  /** The peer broke the p2p protocol. */
  protocolError: 0x02,
  /** The peer has nothing we need (no shared capability, or a bad subprotocol peer). */
  uselessPeer: 0x03,
  /** We have as many peers as we want. */
  tooManyPeers: 0x04,
  /** We are already connected to this node. */
  alreadyConnected: 0x05,
  /** The peer's p2p version is not one we speak. */
  incompatibleVersion: 0x06,
  /** The peer's identity is invalid. */
  invalidIdentity: 0x07,
  /** We are shutting down. */
  quitting: 0x08,
  /** The peer's hello names another node than the handshake proved. */
  unexpectedIdentity: 0x09,
  /** We dialled ourselves. */
  self: 0x0a,
  /** Nothing arrived from the peer for too long. */
  readTimeout: 0x0b,
  /** A subprotocol (eth) found the peer at fault. */
  subprotocolError: 0x0c,
  /** The same, as clients since 2016 number it (what an eth/66-68 peer expects). */
  subprotocolErrorToday: 0x10
} as const

/** A reason number as it appears on the wire (a peer may send one we do not know). */
export type DisconnectReason = number

/** The words go-ethereum 2015 used for each reason. */
const words: ReadonlyArray<string> = [
  "disconnect requested",
  "network error",
  "breach of protocol",
  "useless peer",
  "too many peers",
  "already connected",
  "incompatible p2p protocol version",
  "invalid node identity",
  "client quitting",
  "unexpected identity",
  "connected to self",
  "read timeout",
  "subprotocol error"
]

/** The reason in words, with its number. */
export const describeReason = (reason: DisconnectReason): string => {
  const hex = `0x${reason.toString(16).padStart(2, "0")}`
  if (reason === 0x10) return `subprotocol error (${hex}, post-2015 numbering)`
  return `${words[reason] ?? "unknown reason"} (${hex})`
}
