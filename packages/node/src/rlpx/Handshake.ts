/**
 * The RLPx handshake over a socket, as initiator (send auth, read ack) and as recipient (read an
 * auth in either form, answer in the same form), ending in the frame cipher of the session.
 * A message is first read at its plain size and tried as plain; failing that, as EIP-8 (whose
 * size prefix is followed by the 0x04 of an ECIES key), as go-ethereum reads them.
 *
 * @since 0.2.0
 */
import { Bytes } from "@ethsync/core"
import { Effect } from "effect"
import { HandshakeError, type IdleTimeout, type SocketFailure } from "./ConnectionError.ts"
import * as Ecies from "./Ecies.ts"
import * as FrameCipher from "./FrameCipher.ts"
import * as HandshakeMessage from "./HandshakeMessage.ts"
import * as NodeKey from "./NodeKey.ts"
import type { SocketChannel } from "./SocketChannel.ts"

/** A handshake message as read: its form, its bytes on the wire, and its decrypted body. */
interface Received {
  /** The wire form it came in. */
  readonly form: HandshakeMessage.Form
  /** Its bytes exactly as they were on the wire (for the MAC states). */
  readonly wire: Uint8Array
  /** The decrypted body. */
  readonly body: Uint8Array
}

/** Reads one auth or ack addressed to `key`, in whichever form it comes. */
const receive = (
  channel: SocketChannel,
  key: NodeKey.NodeKey,
  step: "auth" | "ack"
): Effect.Effect<Received, HandshakeError | SocketFailure | IdleTimeout> =>
  Effect.gen(function*() {
    const plainSize = step === "auth" ? HandshakeMessage.plainAuthSize : HandshakeMessage.plainAckSize
    const first = yield* channel.read(plainSize)
    const plain = Ecies.decrypt(key, first)
    if (typeof plain !== "string") return { form: "plain" as const, wire: first, body: plain }
    const size = (first[0]! << 8) | first[1]!
    const fail = (eip8: string) => new HandshakeError({ step, reason: `not a plain ${step} (${plain}), nor an EIP-8 one (${eip8})` })
    if (first[2] !== 4) return yield* fail("no ECIES key after a size prefix")
    if (size > HandshakeMessage.maxEip8Size) return yield* fail(`size ${size} above ${HandshakeMessage.maxEip8Size}`)
    if (2 + size < plainSize) return yield* fail(`size ${size} below the plain size`)
    const wire = Bytes.concat([first, yield* channel.read(2 + size - plainSize)])
    const body = Ecies.decrypt(key, wire.subarray(2), wire.subarray(0, 2))
    if (typeof body === "string") return yield* fail(body)
    return { form: "eip8" as const, wire, body }
  })

/** Sends an auth in the given form to `remoteId` and reads its ack: the session's frame cipher. */
export const initiate = (
  channel: SocketChannel,
  key: NodeKey.NodeKey,
  remoteId: Uint8Array,
  form: HandshakeMessage.Form
): Effect.Effect<FrameCipher.FrameCipher, HandshakeError | SocketFailure | IdleTimeout> =>
  Effect.gen(function*() {
    const ephemeral = NodeKey.generate()
    const nonce = HandshakeMessage.makeNonce()
    const auth = HandshakeMessage.makeAuth({ key, ephemeral, nonce, remoteId, form })
    yield* channel.write(() => auth)
    const received = yield* receive(channel, key, "ack")
    const ack = HandshakeMessage.readAck(received.body, received.form)
    if (typeof ack === "string") return yield* new HandshakeError({ step: "ack", reason: ack })
    return FrameCipher.make({
      initiator: true,
      ephemeral,
      remoteEphemeralId: ack.ephemeralId,
      initiatorNonce: nonce,
      recipientNonce: ack.nonce,
      auth,
      ack: received.wire
    })
  })

/** Reads an auth in either form and answers it in the same form: the initiator's id and the session's frame cipher. */
export const respond = (
  channel: SocketChannel,
  key: NodeKey.NodeKey
): Effect.Effect<
  { readonly remoteId: Uint8Array; readonly cipher: FrameCipher.FrameCipher },
  HandshakeError | SocketFailure | IdleTimeout
> =>
  Effect.gen(function*() {
    const received = yield* receive(channel, key, "auth")
    const auth = HandshakeMessage.readAuth(key, received.body, received.form)
    if (typeof auth === "string") return yield* new HandshakeError({ step: "auth", reason: auth })
    const ephemeral = NodeKey.generate()
    const nonce = HandshakeMessage.makeNonce()
    const ack = HandshakeMessage.makeAck({ ephemeral, nonce, remoteId: auth.initiatorId, form: received.form })
    yield* channel.write(() => ack)
    return {
      remoteId: auth.initiatorId,
      cipher: FrameCipher.make({
        initiator: false,
        ephemeral,
        remoteEphemeralId: auth.ephemeralId,
        initiatorNonce: auth.nonce,
        recipientNonce: nonce,
        auth: received.wire,
        ack
      })
    }
  })
