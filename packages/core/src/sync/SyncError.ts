/**
 * The downloader's errors, one per way a sync can end or a call can be refused, and the table
 * that says which of them cost the peer its connection.
 *
 * @since 0.1.0
 */
import { Data } from "effect"
import type { StoreError } from "../chain/ChainStore.ts"

/** A sync is already running. */
export class Busy extends Data.TaggedError("Busy")<{}> {
  override get message() { return "busy: a sync is already running" }
}
/** The peer id is not registered (or was dropped). */
export class UnknownPeer extends Data.TaggedError("UnknownPeer")<{ readonly peer: string }> {
  override get message() { return `peer ${this.peer} is unknown or unhealthy` }
}
/** The peer id is already registered. */
export class DuplicatePeer extends Data.TaggedError("DuplicatePeer")<{ readonly peer: string }> {
  override get message() { return `peer ${this.peer} is already registered` }
}
/** The peer sent nothing useful (only stale hashes). */
export class BadPeer extends Data.TaggedError("BadPeer")<{ readonly peer: string }> {
  override get message() { return `action from bad peer ${this.peer} ignored` }
}
/** The peer dribbles hashes too few at a time. */
export class StallingPeer extends Data.TaggedError("StallingPeer")<{ readonly peer: string; readonly hashes: number }> {
  override get message() { return `peer ${this.peer} is stalling (${this.hashes} new hashes in a reply)` }
}
/** The head hash a peer advertises is on the ban list. */
export class BannedHead extends Data.TaggedError("BannedHead")<{ readonly peer: string; readonly head: string }> {
  override get message() { return `peer ${this.peer} advertises the banned head ${this.head}` }
}
/** Every peer left during the block phase. */
export class NoPeers extends Data.TaggedError("NoPeers")<{}> {
  override get message() { return "no peers to keep the download active" }
}
/** The hash source did not answer in time and no other peer could take over. */
export class Timeout extends Data.TaggedError("Timeout")<{ readonly peer: string }> {
  override get message() { return `peer ${this.peer} timed out on a hash request` }
}
/** The hash source answered with no hashes. */
export class EmptyHashSet extends Data.TaggedError("EmptyHashSet")<{ readonly peer: string }> {
  override get message() { return `peer ${this.peer} sent an empty hash set` }
}
/** Hashes remain but no peer can be asked for them: every peer failed to deliver them, so the hashes are suspect. */
export class PeersUnavailable extends Data.TaggedError("PeersUnavailable")<{
  /** The peer whose hashes nobody could serve. */
  readonly peer: string
  /** Blocks still to fetch. */
  readonly pending: number
}> {
  override get message() { return `no peer can be asked for any of the ${this.pending} blocks still to fetch (hashes from ${this.peer})` }
}
/** The hash chain is wrong: a banned hash, or blocks outside where their numbers belong. */
export class InvalidChain extends Data.TaggedError("InvalidChain")<{
  /** The peer whose hashes proved wrong. */
  readonly peer: string
  /** What was wrong with them. */
  readonly reason: string
}> {
  override get message() { return `retrieved hash chain is invalid: ${this.reason}` }
}
/** A random cross-check of the hash chain failed or was not answered in time. */
export class CrossCheckFailed extends Data.TaggedError("CrossCheckFailed")<{ readonly peer: string; readonly reason: string }> {
  override get message() { return `block cross-check failed: ${this.reason}` }
}
/** The sync was canceled during the hash phase. */
export class HashFetchCanceled extends Data.TaggedError("HashFetchCanceled")<{}> {
  override get message() { return "hash fetching canceled (requested)" }
}
/** The sync was canceled during the block phase. */
export class BlockFetchCanceled extends Data.TaggedError("BlockFetchCanceled")<{}> {
  override get message() { return "block downloading canceled (requested)" }
}
/** A delivery arrived while no sync runs. */
export class NoSyncActive extends Data.TaggedError("NoSyncActive")<{}> {
  override get message() { return "no sync active" }
}
/** Importing a downloaded block failed; the peer that delivered it was dropped. */
export class ImportFailed extends Data.TaggedError("ImportFailed")<{ readonly peer: string; readonly reason: string }> {
  override get message() { return `import failed on a block from ${this.peer}: ${this.reason}` }
}

/** The sync hit a defect (a bug, not a peer's fault): it ended rather than hang; nobody is dropped. */
export class SyncDefect extends Data.TaggedError("SyncDefect")<{ readonly reason: string }> {
  override get message() { return `the sync stopped on an internal error: ${this.reason}` }
}

/** The downloader was terminated and syncs no more. */
export class Terminated extends Data.TaggedError("Terminated")<{}> {
  override get message() { return "the downloader was terminated" }
}

/** Every way `synchronise` can fail. */
export type SyncError =
  | Busy
  | UnknownPeer
  | BadPeer
  | StallingPeer
  | BannedHead
  | NoPeers
  | Timeout
  | EmptyHashSet
  | PeersUnavailable
  | InvalidChain
  | CrossCheckFailed
  | HashFetchCanceled
  | BlockFetchCanceled
  | ImportFailed
  | SyncDefect
  | Terminated
  | StoreError
  | BadSkeleton
  | FillMismatch
  | UnmatchedBody
  | InvalidHeader

/** The errors that are a peer's fault: each names the peer whose data caused it. */
export type PeerFault =
  | BadPeer
  | StallingPeer
  | BannedHead
  | Timeout
  | EmptyHashSet
  | PeersUnavailable
  | InvalidChain
  | CrossCheckFailed
  | BadSkeleton
  | FillMismatch
  | UnmatchedBody
  | InvalidHeader

/** Whether a sync that ended with `error` should cost the peer it names its connection (the seed's table). */
export const dropsPeer = (error: SyncError): error is PeerFault => {
  switch (error._tag) {
    case "BadPeer":
    case "StallingPeer":
    case "BannedHead":
    case "Timeout":
    case "EmptyHashSet":
    case "PeersUnavailable":
    case "InvalidChain":
    case "CrossCheckFailed":
    case "BadSkeleton":
    case "FillMismatch":
    case "UnmatchedBody":
    case "InvalidHeader":
      return true
    case "Busy":
    case "UnknownPeer":
    case "NoPeers":
    case "HashFetchCanceled":
    case "BlockFetchCanceled":
    case "ImportFailed":
    case "SyncDefect":
    case "Terminated":
    case "StoreError":
      return false
  }
}

/** A peer kept sending replies nobody asked for (a flood): it is dropped, the sync goes on. */
export class UnrequestedReplies extends Data.TaggedError("UnrequestedReplies")<{
  /** The flooding peer. */
  readonly peer: string
  /** Unrequested replies it sent during the sync. */
  readonly replies: number
}> {
  override get message() { return `peer ${this.peer} sent ${this.replies} replies nobody asked for` }
}

/** The header-first sync peer's skeleton is not its chain: wrong numbers, or it cannot fill a gap of its own skeleton. */
export class BadSkeleton extends Data.TaggedError("BadSkeleton")<{
  /** The sync peer that sent the skeleton. */
  readonly peer: string
  /** What was wrong with it. */
  readonly reason: string
}> {
  override get message() { return `peer ${this.peer} sent a skeleton that is not its chain: ${this.reason}` }
}

/** A header-first filler sent headers for a gap that do not link up to the skeleton, once the sync peer proved the gap. */
export class FillMismatch extends Data.TaggedError("FillMismatch")<{
  /** The filler. */
  readonly peer: string
  /** The first height of the gap it was asked to fill. */
  readonly from: number
}> {
  override get message() { return `peer ${this.peer} filled the headers from ${this.from} with a chain that is not the skeleton's` }
}

/** A header-first peer answered a body request with a body whose transactions root and uncle hash match none of the headers asked for. */
export class UnmatchedBody extends Data.TaggedError("UnmatchedBody")<{
  /** The peer that sent the body. */
  readonly peer: string
  /** Which body of the reply, and what it hashed to. */
  readonly reason: string
}> {
  override get message() { return `peer ${this.peer} sent a body that matches no header asked for: ${this.reason}` }
}

/** A header of the header-first sync peer's chain (from it, or from a filler, linked to its skeleton) breaks a header rule against its parent, or its seal is bad. */
export class InvalidHeader extends Data.TaggedError("InvalidHeader")<{
  /** The sync peer whose chain it is. */
  readonly peer: string
  /** The header's height. */
  readonly number: number
  /** The rule it broke. */
  readonly reason: string
}> {
  override get message() { return `header ${this.number} of the chain of peer ${this.peer} breaks the rules: ${this.reason}` }
}
