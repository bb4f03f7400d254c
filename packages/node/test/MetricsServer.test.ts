/**
 * The metrics server on loopback: what a Prometheus scrape of `/metrics` reads, 404 elsewhere,
 * the port closed with the scope, the registry of the program that started it, and the
 * `--metrics` flag through the CLI (a bad value, a port taken, the demo served while it runs).
 */
import { describe, expect, it } from "@effect/vitest"
import { SyncMetrics } from "@ethsync/core"
import { Effect, Metric, Result, Scope } from "effect"
import { NetAddress } from "effect/net"
import * as Net from "node:net"
import * as ReadLine from "node:readline"
import * as MetricsServer from "../src/MetricsServer.ts"
import * as CliRunner from "./CliRunner.ts"

/** The longest any one request, connection or wait for the CLI may take. */
const bound = 10_000

/** A loopback address with a free port to be picked. */
const anyPort = Result.getOrThrow(MetricsServer.parseAddress("127.0.0.1:0"))

/** The port a started server listens on. */
const portOf = (server: MetricsServer.Bound): number => {
  if (!NetAddress.isInetAddress(server.address)) throw new Error(`not an IP address: ${server.url}`)
  return server.address.port
}

/** Status and body of a request to `url`. */
const request = (url: string, method = "GET") =>
  Effect.promise(async () => {
    const response = await fetch(url, { method, signal: AbortSignal.timeout(bound) })
    return { status: response.status, body: await response.text() }
  })

/** A TCP connection to the port on 127.0.0.1, open and idle until the scope closes; fails with the system's error code. */
const open = (port: number) =>
  Effect.acquireRelease(
    Effect.callback<Net.Socket, string>((resume) => {
      const socket = Net.connect({ host: "127.0.0.1", port })
      socket.once("connect", () => resume(Effect.succeed(socket)))
      socket.once("error", (error: NodeJS.ErrnoException) => resume(Effect.fail(error.code ?? error.message)))
    }).pipe(Effect.timeout(bound)),
    (socket) => Effect.sync(() => socket.destroy())
  )

/** Waits until the other side has closed `socket`. */
const closedByPeer = (socket: Net.Socket) =>
  Effect.callback<void>((resume) => {
    if (socket.readableEnded || socket.destroyed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
    socket.resume()
  }).pipe(Effect.timeout(bound))

/** Runs `effect` with a metrics registry of its own, as the demo does. */
const ownRegistry = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.provideService(effect, Metric.MetricRegistry, new Map())

describe("MetricsServer", () => {
  it.live("serves counters, gauges and the histogram's buckets in Prometheus' text format at /metrics", () =>
    ownRegistry(Effect.gen(function*() {
      yield* Metric.update(SyncMetrics.blocksImported, 128)
      yield* Metric.update(SyncMetrics.peersDropped, 2)
      yield* Metric.update(SyncMetrics.peers, 3)
      yield* Metric.update(SyncMetrics.cached, 64)
      for (const ms of [3, 7, 7, 420, 60_000]) yield* Metric.update(SyncMetrics.roundTrip, ms)
      const server = yield* MetricsServer.serve(anyPort)
      expect(server.url).toBe(`http://127.0.0.1:${portOf(server)}/metrics`)
      expect(portOf(server)).toBeGreaterThan(0)

      const scrape = yield* request(server.url)
      expect(scrape.status).toBe(200)
      const lines = scrape.body.split("\n")
      expect(lines).toEqual(expect.arrayContaining([
        "# HELP ethsync_blocks_imported blocks imported into the chain by syncs",
        "# TYPE ethsync_blocks_imported counter",
        "ethsync_blocks_imported 128",
        "ethsync_peers_dropped 2",
        "# TYPE ethsync_peers gauge",
        "ethsync_peers 3",
        "ethsync_cached_blocks 64",
        "# TYPE ethsync_block_round_trip_ms histogram",
        "ethsync_block_round_trip_ms_bucket{le=\"5\"} 1",
        "ethsync_block_round_trip_ms_bucket{le=\"10\"} 3",
        "ethsync_block_round_trip_ms_bucket{le=\"250\"} 3",
        "ethsync_block_round_trip_ms_bucket{le=\"500\"} 4",
        "ethsync_block_round_trip_ms_bucket{le=\"10000\"} 4",
        "ethsync_block_round_trip_ms_bucket{le=\"+Inf\"} 5",
        "ethsync_block_round_trip_ms_sum 60437",
        "ethsync_block_round_trip_ms_count 5"
      ]))

      // A scrape reads the metrics as they are now.
      yield* Metric.update(SyncMetrics.blocksImported, 72)
      expect((yield* request(server.url)).body).toMatch(/^ethsync_blocks_imported 200$/m)
    })))

  it.live("reads the process's memory at each scrape: V8's heap in use and allocated, buffers, the resident set, in bytes", () =>
    ownRegistry(Effect.gen(function*() {
      const server = yield* MetricsServer.serve(anyPort)
      const gauge = (body: string, name: string): number => {
        const match = new RegExp(`^${name} (\\d+)$`, "m").exec(body)
        if (!match) throw new Error(`no ${name} in the scrape`)
        return Number(match[1])
      }
      const first = (yield* request(server.url)).body
      const heap = gauge(first, "ethsync_process_heap_used_bytes")
      expect(heap).toBeGreaterThan(1024 * 1024)
      expect(gauge(first, "ethsync_process_heap_total_bytes")).toBeGreaterThanOrEqual(heap)
      expect(gauge(first, "ethsync_process_resident_bytes")).toBeGreaterThan(heap)
      const external = gauge(first, "ethsync_process_external_bytes")
      expect(external).toBeGreaterThan(0)
      // 256 MiB of buffer memory, kept alive between two scrapes, shows in the second: it is read at each scrape.
      expect(external).toBeLessThan(256 * 1024 * 1024)
      const held = Buffer.allocUnsafeSlow(256 * 1024 * 1024)
      const second = (yield* request(server.url)).body
      expect(gauge(second, "ethsync_process_external_bytes")).toBeGreaterThanOrEqual(held.length)
    })))

  it.live("answers 404 to any other path or method", () =>
    Effect.gen(function*() {
      const server = yield* MetricsServer.serve(anyPort)
      const root = server.url.replace(/\/metrics$/, "")
      for (const path of ["/", "/metric", "/metrics/x", "/favicon.ico"]) {
        expect((yield* request(root + path)).status, path).toBe(404)
      }
      expect((yield* request(server.url, "POST")).status).toBe(404)
      expect((yield* request(server.url)).status).toBe(200)
    }))

  it.live("closes its port when its scope closes, without waiting on a scraper's open connection", () =>
    Effect.gen(function*() {
      const outer = yield* Effect.scope
      const [port, held] = yield* Effect.scoped(Effect.gen(function*() {
        const server = yield* MetricsServer.serve(anyPort)
        expect((yield* request(server.url)).status).toBe(200)
        return [portOf(server), yield* Scope.provide(open(portOf(server)), outer)] as const
      })).pipe(Effect.timeout("5 seconds"))
      yield* closedByPeer(held)
      expect(yield* Effect.flip(open(port))).toBe("ECONNREFUSED")
    }))

  it.live("serves the registry of the program that starts it, not the process's", () =>
    Effect.gen(function*() {
      const serveWith = (imported: number) =>
        ownRegistry(Effect.andThen(Metric.update(SyncMetrics.blocksImported, imported), MetricsServer.serve(anyPort)))
      const first = yield* serveWith(5)
      const second = yield* serveWith(7)
      expect((yield* request(first.url)).body).toMatch(/^ethsync_blocks_imported 5$/m)
      expect((yield* request(second.url)).body).toMatch(/^ethsync_blocks_imported 7$/m)
    }))

  it.live("names the address when it cannot listen there", () =>
    Effect.gen(function*() {
      const taken = portOf(yield* MetricsServer.serve(anyPort))
      const error = yield* Effect.flip(MetricsServer.serve(Result.getOrThrow(MetricsServer.parseAddress(`127.0.0.1:${taken}`))))
      expect(error._tag).toBe("MetricsUnavailable")
      expect(error.message).toMatch(new RegExp(`^cannot serve metrics at 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`))
    }))

  it("reads IP:PORT, IPv6 in brackets, and refuses anything else with a reason", () => {
    const formatted = (value: string) => Result.map(MetricsServer.parseAddress(value), NetAddress.formatInet)
    expect(formatted("127.0.0.1:9090")).toEqual(Result.succeed("127.0.0.1:9090"))
    expect(formatted("[::1]:0")).toEqual(Result.succeed("[::1]:0"))
    for (const value of ["localhost:9090", "127.0.0.1", "9090", "127.0.0.1:65536", "127.0.0.1:-1", "::1:9090", ""]) {
      const parsed = MetricsServer.parseAddress(value)
      expect(Result.isFailure(parsed), value).toBe(true)
      if (Result.isFailure(parsed)) {
        expect(parsed.failure._tag).toBe("BadMetricsAddress")
        expect(parsed.failure.message).toMatch(/^--metrics takes IP:PORT with a numeric IP, such as 127\.0\.0\.1:9090 or \[::1\]:9090, not ".*": \S/)
      }
    }
  })
})

describe("ethsync --metrics", () => {
  /** Expects a usage error: exit code 2 and exactly one line on stderr, matching `pattern`. */
  const expectUsageError = (outcome: CliRunner.Outcome, pattern: RegExp) => {
    expect(outcome.stderr).toHaveLength(1)
    expect(outcome.stderr[0]).toMatch(pattern)
    expect(outcome.code).toBe(2)
  }

  it.live("refuses a value that is not IP:PORT, or a port taken, in one line and a non-zero exit", () =>
    Effect.gen(function*() {
      expectUsageError(
        yield* CliRunner.run(["demo", "--blocks", "10", "--metrics", "localhost:9090"]),
        /^ethsync demo: --metrics takes IP:PORT with a numeric IP, such as 127\.0\.0\.1:9090 or \[::1\]:9090, not "localhost:9090": .+ \(see 'ethsync demo --help'\)$/
      )
      expectUsageError(yield* CliRunner.run(["demo", "--blocks", "10", "--metrics", "127.0.0.1:99999"]), /not "127\.0\.0\.1:99999": port must be/)
      const taken = portOf(yield* MetricsServer.serve(anyPort))
      expectUsageError(
        yield* CliRunner.run(["demo", "--log-level", "warn", "--blocks", "10", "--metrics", `127.0.0.1:${taken}`]),
        new RegExp(`^ethsync: cannot serve metrics at 127\\.0\\.0\\.1:${taken}: .*EADDRINUSE`)
      )
    }))

  it("serves the demo's metrics while it runs, at the URL it logs", async () => {
    const child = CliRunner.start(["demo", "--blocks", "15000", "--peers", "2", "--attackers", "0", "--metrics", "127.0.0.1:0"])
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve))
    let running = true
    void exited.then(() => running = false)
    const killer = setTimeout(() => child.kill(), 4 * bound)
    try {
      let url: string | undefined
      for await (const line of ReadLine.createInterface({ input: child.stderr })) {
        url = /serving metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)$/.exec(line)?.[1]
        if (url !== undefined) break
      }
      // Keep draining the child's output, so that its writes never block it.
      child.stderr.resume()
      child.stdout.resume()
      expect(url).toBeDefined()
      // Scrape until the sync has imported blocks: the demo is still running, so its port is open.
      let imported = 0
      while (imported === 0 && running) {
        const body = await (await fetch(url!, { signal: AbortSignal.timeout(bound) })).text()
        imported = Number(/^ethsync_blocks_imported (\d+)$/m.exec(body)?.[1] ?? 0)
        if (imported === 0) await new Promise((resolve) => setTimeout(resolve, 10))
      }
      expect(imported).toBeGreaterThan(0)
      expect(imported).toBeLessThanOrEqual(15_000)
      expect(await exited).toBe(0)
    } finally {
      clearTimeout(killer)
      child.kill()
    }
  })
})
