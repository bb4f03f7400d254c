/**
 * The errors of a datadir that cannot serve the chain asked of it.
 *
 * @since 0.1.0
 */
import { Data } from "effect"

/** The datadir holds a chain grown from another genesis block than the one asked for. */
export class GenesisMismatch extends Data.TaggedError("GenesisMismatch")<{
  /** The datadir's folder. */
  readonly path: string
  /** The genesis hash the datadir holds, 0x-hex. */
  readonly stored: string
  /** The genesis hash asked for, 0x-hex. */
  readonly wanted: string
}> {
  override get message() {
    return `datadir ${this.path} holds chain with genesis ${this.stored}, not ${this.wanted}`
  }
}

/** The datadir holds no chain yet, and no genesis was given to start one. */
export class EmptyDatadir extends Data.TaggedError("EmptyDatadir")<{
  /** The datadir's folder. */
  readonly path: string
}> {
  override get message() {
    return `datadir ${this.path} holds no chain (import a file into it first)`
  }
}

/** The system will not let the datadir's files be read. */
export class DatadirUnreadable extends Data.TaggedError("DatadirUnreadable")<{
  /** The datadir's folder. */
  readonly path: string
  /** What the system said, in a few words. */
  readonly reason: string
}> {
  override get message() {
    return `cannot read datadir ${this.path}: ${this.reason}`
  }
}

/** The datadir already holds blocks above its genesis, and a fresh one was asked for. */
export class DatadirNotFresh extends Data.TaggedError("DatadirNotFresh")<{
  /** The datadir's folder. */
  readonly path: string
  /** The number of the chain's head in it. */
  readonly head: number
}> {
  override get message() {
    return `datadir ${this.path} already holds a chain up to block ${this.head}; give a new or empty folder`
  }
}

/** The datadir records a layout of its tables that this build does not know (a newer ethsync wrote it). */
export class UnknownLayout extends Data.TaggedError("UnknownLayout")<{
  /** The datadir's folder. */
  readonly path: string
  /** The layout it records, as stored. */
  readonly layout: string
}> {
  override get message() {
    return `datadir ${this.path} has layout ${JSON.stringify(this.layout)}, which this ethsync does not know (it reads layouts 1, 2 and 3; was it written by a newer ethsync?)`
  }
}
