/**
 * A running keccak-256: bytes absorbed as they come, the digest of what came so far read at any
 * time without ending the hash, and a state copied to fork it. RLPx keeps one per direction of a
 * connection for its frame MACs, so every frame's bytes pass through one; it absorbs whole blocks
 * in Ethash's WebAssembly keccak (several times as fast as @noble/hashes' streaming keccak).
 *
 * @since 0.2.0
 */
import * as Wasm from "./ethash/Wasm.ts"

/** A keccak-256 with running state. */
export interface RunningKeccak {
  /** Absorbs `bytes` after everything absorbed so far. */
  readonly update: (bytes: Uint8Array) => RunningKeccak
  /** The 32-byte keccak-256 of everything absorbed so far; the state runs on unchanged. */
  readonly digest: () => Uint8Array
  /** An independent running hash with the same state. */
  readonly copy: () => RunningKeccak
}

/** Bytes of a block. */
const rate = Wasm.keccak256Rate

/** The sponge: whole blocks go into the state, the rest waits in a block until it is full. */
class Sponge implements RunningKeccak {
  /** The sponge state after every whole block absorbed. */
  private readonly state: Uint8Array
  /** The bytes after the last whole block (the first `filled`). */
  private readonly pending: Uint8Array
  /** How many bytes of `pending` are absorbed input. */
  private filled: number

  constructor(state: Uint8Array, pending: Uint8Array, filled: number) {
    this.state = state
    this.pending = pending
    this.filled = filled
  }

  update(bytes: Uint8Array): RunningKeccak {
    let at = 0
    if (this.filled > 0) {
      at = Math.min(rate - this.filled, bytes.length)
      this.pending.set(bytes.subarray(0, at), this.filled)
      this.filled += at
      if (this.filled < rate) return this
      Wasm.absorb(this.state, this.pending)
      this.filled = 0
    }
    const whole = at + Math.floor((bytes.length - at) / rate) * rate
    if (whole > at) Wasm.absorb(this.state, bytes.subarray(at, whole))
    this.pending.set(bytes.subarray(whole), 0)
    this.filled = bytes.length - whole
    return this
  }

  digest(): Uint8Array {
    // keccak's original padding (0x01 ... 0x80) on a copy of the pending block and the state.
    const last = new Uint8Array(rate)
    last.set(this.pending.subarray(0, this.filled))
    last[this.filled]! ^= 0x01
    last[rate - 1]! ^= 0x80
    const state = this.state.slice()
    Wasm.absorb(state, last)
    return state.slice(0, 32)
  }

  copy(): RunningKeccak {
    return new Sponge(this.state.slice(), this.pending.slice(), this.filled)
  }
}

/** A running keccak-256 that has absorbed nothing yet. */
export const make = (): RunningKeccak => new Sponge(new Uint8Array(Wasm.stateBytes), new Uint8Array(rate), 0)
