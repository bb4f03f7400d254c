/**
 * The messages between the seal verifier and its worker threads. Caches travel as
 * SharedArrayBuffers: posting one hands over a reference, never a copy of its bytes.
 *
 * @since 0.2.0
 */

/** Build `epoch`'s cache into `cache` (a SharedArrayBuffer of exactly its size). */
export interface Build {
  readonly _tag: "Build"
  /** Matches the reply to the request. */
  readonly id: number
  /** The epoch whose cache is built. */
  readonly epoch: number
  /** Where the cache is written; the parent keeps and shares it. */
  readonly cache: SharedArrayBuffer
}

/** Run hashimoto-light for packed headers (Ethash.Seal.inputWords each) of one epoch. */
export interface Verify {
  readonly _tag: "Verify"
  /** Matches the reply to the request. */
  readonly id: number
  /** The epoch of every header in the batch. */
  readonly epoch: number
  /** The epoch's cache, shared; a worker wraps it once per epoch and reuses it. */
  readonly cache: SharedArrayBuffer
  /** The packed inputs (copied: about a kilobyte a batch, and kept for a request sent again). */
  readonly input: Int32Array
}

/** What the verifier asks of a worker. */
export type Request = Build | Verify

/** A worker's answer: the request's id, and for a Verify the hashimoto outputs (transferred). */
export interface Reply {
  /** The id of the request answered. */
  readonly id: number
  /** Ethash.Seal.outputWords per header of a Verify; empty for a Build. */
  readonly output: Int32Array
}
