/**
 * The skeleton of a header-first sync: every `step`-th header of the sync peer's chain above the
 * common ancestor, and the gaps between them (segments), each filled by one header request to any
 * peer. A fill must run from its segment's parent to its anchor by parent hashes, so every
 * segment is proven against the skeleton on its own, whichever peer filled it and in whatever
 * order fills arrive. The last segment ends at the sync peer's head, whose hash is the target.
 * Plain synchronous state, written only by the sync's fiber.
 *
 * @since 0.3.0
 */
import * as Hash from "../../chain/Hash.ts"
import type * as Header from "../../chain/Header.ts"
import type { HeaderRequest } from "../../sync/HeaderPeer.ts"

/** A gap between two skeleton headers (or the ancestor and the first, or the last and the head). */
export interface Segment {
  /** Its first height. */
  readonly from: number
  /** Its last height: the anchor's. */
  readonly to: number
  /** Hash of the header below `from`, which the fill's first header must name as its parent. */
  readonly parent: Hash.Hash
  /** Hash of the header at `to`, which the fill's last header must have. */
  readonly anchor: Hash.Hash
  /** The open fill request, if any. */
  request: bigint | undefined
  /** The fill, once one matched. */
  headers: ReadonlyArray<Header.Header> | undefined
  /** The peer whose fill matched. */
  filler: string | undefined
  /** Peers that answered this fill with nothing, with headers that do not match, or not in time: not asked for it again. */
  readonly failed: Set<string>
  /** Peers whose fill did not match: dropped once the sync peer's own chain is proven here. */
  readonly suspects: Set<string>
}

/** The skeleton of one sync. */
export class Skeleton {
  /** Distance between two skeleton headers: the headers of one fill. */
  readonly step: number
  /** The sync peer's head header: the last anchor. */
  readonly head: Header.Header
  /** Height of the next skeleton header to ask for. */
  next: number
  /** Highest height a segment covers so far. */
  covered: number
  /** Hash of the header at `covered`: the next segment's parent. */
  coveredHash: Hash.Hash
  /** Segments not yet validated, in height order. */
  readonly segments: Array<Segment> = []
  /** Whether every segment up to the head exists. */
  complete = false

  constructor(ancestor: Header.Header, head: Header.Header, step: number) {
    this.step = step
    this.head = head
    this.next = ancestor.number + step
    this.covered = ancestor.number
    this.coveredHash = ancestor.hash
    this.closeIfDone()
  }

  /**
   * The next skeleton request, or undefined once complete: at most `max` headers, all below the
   * head, and no more than `origin + amount * skip` reaches (the EthereumJS client answers nothing
   * to a request whose `origin + amount * skip` passes its head).
   */
  request(max: number): HeaderRequest | undefined {
    if (this.complete) return undefined
    const amount = Math.min(max, Math.floor((this.head.number - 1 - this.next) / this.step) + 1, this.servable)
    return { origin: this.next, amount, skip: this.step - 1, reverse: false }
  }

  /** How many skeleton headers from `next` every server answers: `next + amount * (step - 1)` stays at or below the head. */
  private get servable(): number {
    return Math.floor((this.head.number - this.next) / Math.max(1, this.step - 1))
  }

  /** Takes the answer to `asked`; a reason when it is not the skeleton asked for. */
  add(asked: HeaderRequest, headers: ReadonlyArray<Header.Header>): string | undefined {
    if (headers.length === 0 || headers.length > asked.amount) {
      return `asked for ${asked.amount} skeleton headers from ${this.next}, got ${headers.length}`
    }
    const wrong = headers.findIndex((h, i) => h.number !== this.next + i * this.step)
    if (wrong >= 0) return `skeleton header ${wrong} has height ${headers[wrong]!.number}, expected ${this.next + wrong * this.step}`
    for (const header of headers) this.push(header.number, header.hash)
    this.next += headers.length * this.step
    this.closeIfDone()
    return undefined
  }

  /** Segments covered so far and not yet filled or asked for. */
  get unassigned(): number {
    let count = 0
    for (const segment of this.segments) if (segment.headers === undefined && segment.request === undefined) count++
    return count
  }

  /**
   * Splits `segment` after `run`, a shorter fill that links up from its parent (a server that caps
   * its answers below a fill): the run becomes a filled segment of its own, by `filler`, and the
   * rest a segment to fill from the run's last header to the anchor, keeping the peers that failed
   * or contradicted the whole (the rest is proven against the anchor as any segment is).
   */
  split(segment: Segment, run: ReadonlyArray<Header.Header>, filler: string): void {
    const last = run[run.length - 1]!
    const filled: Segment = { ...gap(segment.from, last.number, segment.parent, last.hash), headers: run, filler }
    const rest: Segment = { ...gap(last.number + 1, segment.to, last.hash, segment.anchor), failed: segment.failed, suspects: segment.suspects }
    this.segments.splice(this.segments.indexOf(segment), 1, filled, rest)
  }

  private push(to: number, anchor: Hash.Hash): void {
    this.segments.push(gap(this.covered + 1, to, this.coveredHash, anchor))
    this.covered = to
    this.coveredHash = anchor
  }

  /** Once no skeleton header below the head is left to ask for, adds the last segment, up to the head. */
  private closeIfDone(): void {
    if (this.next < this.head.number && this.servable > 0) return
    if (this.covered < this.head.number) this.push(this.head.number, this.head.hash)
    this.complete = true
  }
}

/** A segment from `from` to `to` between `parent` and `anchor`, not yet asked for. */
const gap = (from: number, to: number, parent: Hash.Hash, anchor: Hash.Hash): Segment => ({
  from,
  to,
  parent,
  anchor,
  request: undefined,
  headers: undefined,
  filler: undefined,
  failed: new Set(),
  suspects: new Set()
})

/** How a fill compares with its segment. */
export type Fill =
  /** It runs from the segment's parent to its anchor: the skeleton's chain. */
  | { readonly _tag: "Match" }
  /** A shorter run that links up from the parent (none at all included): the peer lacks the rest. */
  | { readonly _tag: "Partial" }
  /** Headers of other heights, not linked, or ending elsewhere than the anchor: another chain. */
  | { readonly _tag: "Wrong"; readonly reason: string }

/** Compares `headers` with `segment`: heights, parent links, and the anchor. */
export const checkFill = (segment: Segment, headers: ReadonlyArray<Header.Header>): Fill => {
  let parent = segment.parent
  for (let i = 0; i < headers.length; i++) {
    const header = headers[i]!
    if (header.number !== segment.from + i) return wrong(`header ${i} has height ${header.number}, expected ${segment.from + i}`)
    if (!Hash.equals(header.parentHash, parent)) return wrong(`header ${header.number} does not link to the one below it`)
    parent = header.hash
  }
  const count = segment.to - segment.from + 1
  if (headers.length < count) return partial
  if (headers.length > count) return wrong(`${headers.length} headers for the ${count} from ${segment.from}`)
  return Hash.equals(parent, segment.anchor) ? match : wrong(`header ${segment.to} is not the skeleton's`)
}

const match: Fill = { _tag: "Match" }
const partial: Fill = { _tag: "Partial" }
const wrong = (reason: string): Fill => ({ _tag: "Wrong", reason })
