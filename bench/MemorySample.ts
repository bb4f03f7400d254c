/**
 * The memory of a syncing process as M1 samples it: its resident set from `/proc/<pid>/status`
 * (VmRSS now, VmHWM its peak, RssAnon the part that is no mapped file: LMDB's map of the datadir
 * is resident file pages, which grow with the chain read and written), its V8 heap and its blocks imported from a scrape of its
 * `--metrics` endpoint, and the peaks so far recorded as the sync passes each milestone
 * (100 k, 500 k and 1 M blocks of a 1 M sync). Pure: the case reads, this module only parses and
 * keeps the peaks.
 *
 * @since 0.2.0
 */

/** The resident set of a process, from its `/proc/<pid>/status`. */
export interface Resident {
  /** VmRSS: bytes resident now. */
  readonly rss: number
  /** VmHWM: the most bytes ever resident (the kernel's peak). */
  readonly peak: number
  /** RssAnon: bytes resident now that back no file (heaps, buffers, stacks). */
  readonly anon: number
}

/** The value in bytes of a `Name:   123 kB` line of a `/proc/<pid>/status` text, if it has one. */
const kibField = (status: string, name: string): number | undefined => {
  const match = new RegExp(`^${name}:\\s+(\\d+) kB$`, "m").exec(status)
  return match === null ? undefined : Number(match[1]) * 1024
}

/** VmRSS, VmHWM and RssAnon of a `/proc/<pid>/status` text; undefined unless all are there (the process has ended, say). */
export const parseStatus = (status: string): Resident | undefined => {
  const rss = kibField(status, "VmRSS")
  const peak = kibField(status, "VmHWM")
  const anon = kibField(status, "RssAnon")
  return rss === undefined || peak === undefined || anon === undefined ? undefined : { rss, peak, anon }
}

/** The value of the unlabelled sample `name` in Prometheus' text format, if the text has it. */
export const parseMetric = (text: string, name: string): number | undefined => {
  const match = new RegExp(`^${name} (\\S+)$`, "m").exec(text)
  if (match === null) return undefined
  const value = Number(match[1])
  return Number.isFinite(value) ? value : undefined
}

/** One look at the syncing process. */
export interface Sample {
  /** Blocks it has imported. */
  readonly blocks: number
  /** Its resident set. */
  readonly resident: Resident
  /** Bytes of V8 heap in use. */
  readonly heapUsed: number
}

/** The peaks when a milestone was passed. */
export interface AtMilestone {
  /** The most bytes resident so far (VmHWM). */
  readonly peakRss: number
  /** The most bytes of heap in use seen so far. */
  readonly peakHeap: number
  /** The most anonymous resident bytes seen so far. */
  readonly peakAnon: number
}

/** The milestones of a sync of `blocks`: a tenth, a half, and all of it (100 k, 500 k, 1 M for 1 M). */
export const milestonesOf = (blocks: number): ReadonlyArray<number> => [Math.round(blocks / 10), Math.round(blocks / 2), blocks]

/** Peaks kept across samples, and what they were as each milestone was passed. */
export class Recorder {
  /** The milestones, ascending. */
  readonly milestones: ReadonlyArray<number>
  /** The most bytes resident so far. */
  peakRss = 0
  /** The most bytes of heap in use seen so far. */
  peakHeap = 0
  /** The most anonymous resident bytes seen so far. */
  peakAnon = 0
  /** The peaks at each milestone passed, by milestone. */
  readonly passed = new Map<number, AtMilestone>()

  constructor(milestones: ReadonlyArray<number>) {
    this.milestones = milestones
  }

  /** Takes a sample in: the peaks, then every milestone it reaches that was not reached before. */
  record(sample: Sample): void {
    this.peakRss = Math.max(this.peakRss, sample.resident.peak, sample.resident.rss)
    this.peakHeap = Math.max(this.peakHeap, sample.heapUsed)
    this.peakAnon = Math.max(this.peakAnon, sample.resident.anon)
    for (const milestone of this.milestones) {
      if (sample.blocks >= milestone && !this.passed.has(milestone)) {
        this.passed.set(milestone, { peakRss: this.peakRss, peakHeap: this.peakHeap, peakAnon: this.peakAnon })
      }
    }
  }

  /** Whether the last milestone has been passed. */
  get done(): boolean {
    return this.passed.size === this.milestones.length
  }
}

/** Bytes in MiB, to a tenth. */
export const mib = (bytes: number): number => Math.round(bytes / (1024 * 1024) * 10) / 10

/** Each passed milestone's value of `field`, in MiB, keyed by the milestone (as the M1 line prints them). */
export const byMilestone = (recorder: Recorder, field: keyof AtMilestone): Record<string, number> =>
  Object.fromEntries(Array.from(recorder.passed, ([milestone, at]) => [String(milestone), mib(at[field])]))

/** Why the summary lines of `ethsync sync` say the peer whose id (hex) is `id` was dropped; undefined if they do not name it. */
export const dropReason = (summary: ReadonlyArray<string>, id: string): string | undefined => {
  const prefix = `dropped ${id.slice(0, 16)}: `
  return summary.find((line) => line.startsWith(prefix))?.slice(prefix.length)
}
