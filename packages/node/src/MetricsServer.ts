/**
 * The metrics server: the Effect metrics of the program that starts it, and its memory read at
 * each scrape (ProcessMetrics), served over HTTP at `GET /metrics` in Prometheus' text format
 * (any other path is 404), at the `IP:PORT` that the `--metrics` flag names, for as long as the
 * caller's scope is open.
 *
 * @since 0.2.0
 */
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Data, Effect, Result, type Scope } from "effect"
import { HttpRouter, HttpServerResponse } from "effect/http"
import { NetAddress } from "effect/net"
import { PrometheusMetrics } from "effect/observability"
import * as Http from "node:http"
import * as ProcessMetrics from "./ProcessMetrics.ts"

/** A `--metrics` value that is not an IP address and a port. */
export class BadMetricsAddress extends Data.TaggedError("BadMetricsAddress")<{
  /** The value given. */
  readonly value: string
  /** What is wrong with it, in a few words. */
  readonly reason: string
}> {
  override get message() {
    return `--metrics takes IP:PORT with a numeric IP, such as 127.0.0.1:9090 or [::1]:9090, not "${this.value}": ${this.reason}`
  }
}

/** The server could not listen at its address: the port is taken, or the address is not this machine's. */
export class MetricsUnavailable extends Data.TaggedError("MetricsUnavailable")<{
  /** The address asked for, as IP:PORT. */
  readonly address: string
  /** What the system said. */
  readonly reason: string
}> {
  override get message() {
    return `cannot serve metrics at ${this.address}: ${this.reason}`
  }
}

/** Where a started server listens. */
export interface Bound {
  /** The address it is bound to: the port is the one the system picked when port 0 was asked for. */
  readonly address: NetAddress.SocketAddress
  /** The URL to scrape. */
  readonly url: string
}

/**
 * Reads a `--metrics` value: a numeric IP address and a port, an IPv6 address in brackets
 * (no host names, so nothing is looked up); port 0 asks for any free port.
 */
export const parseAddress = (value: string): Result.Result<NetAddress.InetAddress, BadMetricsAddress> =>
  Result.mapError(NetAddress.inetAddressFromString(value), (error) => new BadMetricsAddress({ value, reason: error.message }))

/** The answer to a scrape: the process's memory read into its gauges, then every metric. */
const scrape = Effect.gen(function*() {
  yield* ProcessMetrics.sample
  return HttpServerResponse.text(yield* PrometheusMetrics.format(), { contentType: "text/plain; version=0.0.4; charset=utf-8" })
})

/**
 * Serves the metrics registry in force where it is called at `address` until the scope closes,
 * when the port is closed and open connections are ended; logs the URL at info level.
 */
export const serve = (address: NetAddress.InetAddress): Effect.Effect<Bound, MetricsUnavailable, Scope.Scope> =>
  Effect.gen(function*() {
    const node = Http.createServer()
    const server = yield* NodeHttpServer.make(() => node, {
      host: NetAddress.formatHost(address),
      port: address.port
    }).pipe(Effect.mapError((error) =>
      new MetricsUnavailable({
        address: NetAddress.formatInet(address),
        reason: error.cause instanceof Error ? error.cause.message : String(error.cause)
      })
    ))
    yield* server.serve(yield* HttpRouter.toHttpEffect(HttpRouter.add("GET", "/metrics", scrape)))
    // Runs first when the scope closes: a scraper's open connection must not hold the close up.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    const url = `http://${NetAddress.formatSocketAddress(server.address)}/metrics`
    yield* Effect.logInfo(`serving metrics at ${url}`)
    return { address: server.address, url }
  })
