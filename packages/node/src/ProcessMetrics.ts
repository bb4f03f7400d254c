/**
 * The process's memory as metrics, beside the sync's and the network's: V8's heap (used and
 * allocated), memory outside it (buffers), and the resident set, read from Node when `/metrics`
 * is scraped, so that a scraper (the M1 benchmark) sees what a sync holds while it runs.
 *
 * @since 0.2.0
 */
import { Effect, Metric } from "effect"

/** Bytes of V8's heap in use by live objects (and garbage not yet collected). */
export const heapUsed = Metric.gauge("ethsync_process_heap_used_bytes", { description: "V8 heap in use, bytes" })

/** Bytes of V8's heap allocated from the system. */
export const heapTotal = Metric.gauge("ethsync_process_heap_total_bytes", { description: "V8 heap allocated, bytes" })

/** Bytes held outside V8's heap for JavaScript objects (Buffers and typed arrays' memory). */
export const external = Metric.gauge("ethsync_process_external_bytes", { description: "memory of buffers outside the V8 heap, bytes" })

/** Bytes of the process's resident set. */
export const resident = Metric.gauge("ethsync_process_resident_bytes", { description: "resident set size, bytes" })

/** Reads the process's memory into the gauges. */
export const sample: Effect.Effect<void> = Effect.suspend(() => {
  const usage = process.memoryUsage()
  return Effect.all([
    Metric.update(heapUsed, usage.heapUsed),
    Metric.update(heapTotal, usage.heapTotal),
    Metric.update(external, usage.external),
    Metric.update(resident, usage.rss)
  ], { discard: true })
})
