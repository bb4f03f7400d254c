/**
 * A `node:net` socket as Effect reads and writes: exact-length reads from what has arrived
 * (the socket is paused while enough is buffered, so a fast sender cannot fill our memory),
 * writes that complete when the bytes are handed to the system, and an idle limit on both:
 * waiting longer than it for the peer's next bytes, or for the system to take any more of ours
 * (the peer reads nothing), fails.
 *
 * @since 0.2.0
 */
import { Duration, Effect } from "effect"
import type { Socket } from "node:net"
import { IdleTimeout, SocketFailure } from "./ConnectionError.ts"

/** Reads and writes on one socket. */
export interface SocketChannel {
  /** `host:port` of the other end. */
  readonly remoteAddress: string
  /** The next `length` bytes from the peer. */
  readonly read: (length: number) => Effect.Effect<Uint8Array, SocketFailure | IdleTimeout>
  /**
   * Writes the bytes `produce` returns, calling it synchronously just before handing them to the
   * socket: frames sealed in the order of these calls reach the wire in that order.
   */
  readonly write: (produce: () => Uint8Array) => Effect.Effect<void, SocketFailure | IdleTimeout>
  /** Ends our side (flushing what is written), then closes the socket once the peer closes or after a second. */
  readonly close: Effect.Effect<void>
}

/** Buffered bytes above which the socket is paused until a read takes them. */
const highWaterMark = 1024 * 1024

/** How long `close` waits for the peer to close its side before destroying the socket. */
const lingerMillis = 1000

/** Wraps a connected socket; `idle` bounds every wait for the peer's bytes or for it to take ours. */
export const make = (socket: Socket, idle: Duration.Input): SocketChannel => {
  const idleMillis = Duration.toMillis(Duration.fromInputUnsafe(idle))
  /** What has arrived and no read has taken yet, oldest first. */
  const chunks: Array<Uint8Array> = []
  /** The total length of `chunks`. */
  let buffered = 0
  /** The length the pending read waits for (0 when none waits), so that the socket is not paused short of it. */
  let wanted = 0
  /** Why the socket can give no more bytes, once it cannot. */
  let failure: SocketFailure | undefined
  /** Resumes the pending read when something arrives or the socket fails. */
  let wake: (() => void) | undefined
  /** Wakes the pending read, if any. */
  const notify = () => {
    const waiting = wake
    wake = undefined
    waiting?.()
  }
  socket.setNoDelay(true)
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk)
    buffered += chunk.length
    if (buffered >= wanted && buffered >= highWaterMark) socket.pause()
    notify()
  })
  socket.on("end", () => {
    failure ??= new SocketFailure({ reason: "the peer closed the connection" })
    notify()
  })
  socket.on("error", (error) => {
    failure ??= new SocketFailure({ reason: error.message })
    notify()
  })
  socket.on("close", () => {
    failure ??= new SocketFailure({ reason: "the connection was closed" })
    notify()
  })

  /** Counts `length` bytes as taken, resuming the socket once less than the high-water mark is buffered. */
  const consumed = (length: number): void => {
    buffered -= length
    if (buffered < highWaterMark) socket.resume()
  }

  /**
   * Takes exactly `length` buffered bytes (the caller checked there are enough): a view of the
   * first chunk when it holds them all (a chunk is the socket's own, never written again), else a copy.
   */
  const take = (length: number): Uint8Array => {
    const first = chunks[0]!
    if (first.length >= length) {
      if (first.length === length) chunks.shift()
      else chunks[0] = first.subarray(length)
      consumed(length)
      return first.subarray(0, length)
    }
    const out = new Uint8Array(length)
    let at = 0
    while (at < length) {
      const chunk = chunks[0]!
      const part = Math.min(chunk.length, length - at)
      out.set(chunk.subarray(0, part), at)
      at += part
      if (part === chunk.length) chunks.shift()
      else chunks[0] = chunk.subarray(part)
    }
    consumed(length)
    return out
  }

  /** Waits until more bytes arrive or the socket fails, at most the idle limit. */
  const arrival = Effect.callback<void>((resume) => {
    wake = () => resume(Effect.void)
    return Effect.sync(() => {
      wake = undefined
    })
  }).pipe(
    Effect.timeoutOrElse({
      duration: idleMillis,
      orElse: () => Effect.fail(new IdleTimeout({ direction: "read", millis: idleMillis }))
    })
  )

  const read = (length: number): Effect.Effect<Uint8Array, SocketFailure | IdleTimeout> =>
    Effect.gen(function*() {
      while (buffered < length) {
        if (failure !== undefined) return yield* failure
        wanted = length
        socket.resume()
        yield* arrival
      }
      wanted = 0
      return take(length)
    })

  /** Bytes handed to the system so far (written, minus what still waits in the socket's buffer). */
  const flushed = () => socket.bytesWritten - socket.writableLength

  /** Fails once the system has taken none of our pending bytes for the idle limit. */
  const stalled = Effect.gen(function*() {
    let before = flushed()
    while (true) {
      yield* Effect.sleep(idleMillis)
      if (flushed() === before) return yield* new IdleTimeout({ direction: "write", millis: idleMillis })
      before = flushed()
    }
  })

  /**
   * Most writes are taken by the system at once (nothing of them stays in the socket's buffer):
   * those complete there, without waiting for the socket's callback or watching for a stall. The
   * others wait for the callback, failing if the system stops taking our bytes.
   */
  const write = (produce: () => Uint8Array): Effect.Effect<void, SocketFailure | IdleTimeout> =>
    Effect.suspend(() => {
      if (failure !== undefined) return Effect.fail(failure)
      /** The write's outcome once its callback has run. */
      let outcome: Effect.Effect<void, SocketFailure> | undefined
      /** Resumes the wait for the callback, once one waits. */
      let resumeWait: ((outcome: Effect.Effect<void, SocketFailure>) => void) | undefined
      socket.write(produce(), (error) => {
        outcome = error ? Effect.fail(new SocketFailure({ reason: error.message })) : Effect.void
        resumeWait?.(outcome)
      })
      if (socket.writableLength === 0) return Effect.void
      const written = Effect.callback<void, SocketFailure>((resume) => {
        if (outcome !== undefined) return resume(outcome)
        resumeWait = resume
      })
      return Effect.raceFirst(written, stalled)
    })

  /** Completes when the socket has closed. */
  const closed = Effect.callback<void>((resume) => {
    if (socket.destroyed) return resume(Effect.void)
    const onClose = () => resume(Effect.void)
    socket.once("close", onClose)
    return Effect.sync(() => socket.off("close", onClose))
  })

  const close = Effect.sync(() => socket.end()).pipe(
    Effect.andThen(closed),
    Effect.timeoutOrElse({ duration: lingerMillis, orElse: () => Effect.void }),
    Effect.ensuring(Effect.sync(() => socket.destroy()))
  )

  return { remoteAddress: `${socket.remoteAddress}:${socket.remotePort}`, read, write, close }
}
