/**
 * What M1 reads of a syncing process: VmRSS and VmHWM from /proc, a gauge from a scrape, the
 * peaks at each milestone, and the attacker's drop in the sync's summary.
 */
import { describe, expect, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as MemorySample from "../MemorySample.ts"

/** A `/proc/<pid>/status` as Linux writes it, shortened. */
const status = [
  "Name:\tnode",
  "State:\tS (sleeping)",
  "VmPeak:\t 1234567 kB",
  "VmHWM:\t  204800 kB",
  "VmRSS:\t  153600 kB",
  "RssAnon:\t  102400 kB",
  "RssFile:\t   51200 kB",
  "Threads:\t11"
].join("\n")

const MiB = 1024 * 1024

describe("MemorySample", () => {
  it("reads VmRSS, VmHWM and RssAnon in bytes, and nothing from a status without them", () => {
    expect(MemorySample.parseStatus(status)).toEqual({ rss: 150 * MiB, peak: 200 * MiB, anon: 100 * MiB })
    expect(MemorySample.parseStatus("Name:\tnode\nState:\tZ (zombie)\n")).toBeUndefined()
  })

  it("reads this process's own status", () => {
    const own = MemorySample.parseStatus(readFileSync("/proc/self/status", "utf8"))
    expect(own?.rss).toBeGreaterThan(MiB)
    expect(own!.peak).toBeGreaterThanOrEqual(own!.rss)
    expect(own!.anon).toBeLessThanOrEqual(own!.rss)
  })

  it("reads an unlabelled sample of a scrape, not a labelled one or another metric's", () => {
    const scrape = [
      "# HELP ethsync_blocks_imported blocks imported into the chain by syncs",
      "# TYPE ethsync_blocks_imported counter",
      "ethsync_blocks_imported 500000",
      "ethsync_blocks_imported_extra 7",
      "ethsync_net_messages{direction=\"in\",message=\"Blocks\"} 12",
      "ethsync_process_heap_used_bytes 52428800"
    ].join("\n")
    expect(MemorySample.parseMetric(scrape, "ethsync_blocks_imported")).toBe(500_000)
    expect(MemorySample.parseMetric(scrape, "ethsync_process_heap_used_bytes")).toBe(50 * MiB)
    expect(MemorySample.parseMetric(scrape, "ethsync_net_messages")).toBeUndefined()
    expect(MemorySample.parseMetric(scrape, "ethsync_peers")).toBeUndefined()
  })

  it("keeps the peaks as each milestone is passed, once, even when one sample passes two", () => {
    expect(MemorySample.milestonesOf(1_000_000)).toEqual([100_000, 500_000, 1_000_000])
    const recorder = new MemorySample.Recorder(MemorySample.milestonesOf(1_000_000))
    const sample = (blocks: number, rss: number, peak: number, heap: number) =>
      recorder.record({ blocks, resident: { rss: rss * MiB, peak: peak * MiB, anon: (rss - 10) * MiB }, heapUsed: heap * MiB })
    sample(50_000, 90, 95, 40)
    sample(100_000, 100, 120, 30)
    expect(recorder.done).toBe(false)
    // A later, lower sample changes neither the peaks nor what the first milestone recorded.
    sample(400_000, 80, 120, 20)
    sample(600_000, 130, 140, 60)
    expect(recorder.done).toBe(false)
    sample(1_000_000, 110, 140, 50)
    expect(recorder.done).toBe(true)
    expect(MemorySample.byMilestone(recorder, "peakRss")).toEqual({ "100000": 120, "500000": 140, "1000000": 140 })
    expect(MemorySample.byMilestone(recorder, "peakHeap")).toEqual({ "100000": 40, "500000": 60, "1000000": 60 })
    expect(MemorySample.byMilestone(recorder, "peakAnon")).toEqual({ "100000": 90, "500000": 120, "1000000": 120 })
    expect(MemorySample.mib(recorder.peakRss)).toBe(140)
  })

  it("finds why a peer was dropped in a sync's summary, by its id's first 16 digits", () => {
    const id = "ab".repeat(64)
    const summary = [
      "synced 1000 blocks in 1.00 s (1,000 blocks/s); head 1000 0x00; 1 peer dropped",
      `dropped ${id.slice(0, 16)}: hash chain check failed`
    ]
    expect(MemorySample.dropReason(summary, id)).toBe("hash chain check failed")
    expect(MemorySample.dropReason(summary, "cd".repeat(64))).toBeUndefined()
    expect(MemorySample.dropReason(summary.slice(0, 1), id)).toBeUndefined()
  })
})
