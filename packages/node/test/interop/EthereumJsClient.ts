/**
 * The EthereumJS client (`@ethereumjs/client` 0.10.5, a root dev dependency) as a child process on
 * loopback, for interop tests and the R2 benchmark. It never reaches out: a made-up bootnode,
 * discovery off, every address 127.0.0.1, its datadir and working directory in a temporary folder
 * (its `--logFile false` would write a log file into the working directory). It is ready once it
 * says "Client started successfully"; its enode comes from its log, its state from its JSON-RPC.
 * It is stopped by its pid when the scope closes: SIGINT, then SIGTERM, then SIGKILL, each with
 * a bounded wait.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Data, Effect, Schedule, type Scope } from "effect"
import * as Mainnet from "../../../core/test/support/mainnet.ts"

/** The repository root. */
const repoRoot = fileURLToPath(new URL("../../../..", import.meta.url))

/** The Node 22 the client runs on. */
const node = Path.join(repoRoot, "node_modules/.bin/node")
/** The client's command-line entry point. */
const cli = Path.join(repoRoot, "node_modules/@ethereumjs/client/dist/esm/bin/cli.js")

/** A bootnode nobody listens on: without one the client dials the public mainnet bootnodes. */
const nowhere = `enode://${"ab".repeat(64)}@127.0.0.1:30399`

/** The client did not start, did not answer, or ended. */
export class ClientFailure extends Data.TaggedError("ClientFailure")<{
  /** What went wrong. */
  readonly reason: string
  /** The end of its output, to see why. */
  readonly output: string
}> {
  override get message() {
    return `EthereumJS client: ${this.reason}\n${this.output}`
  }
}

/** A running client. */
export interface Client {
  /** Its enode URL (127.0.0.1 and its RLPx port). */
  readonly enode: string
  /** Calls a JSON-RPC method; fails with ClientFailure on an error answer or when it does not answer. */
  readonly rpc: (method: string, params: ReadonlyArray<unknown>) => Effect.Effect<unknown, ClientFailure>
  /** Its head block number, over JSON-RPC. */
  readonly blockNumber: Effect.Effect<number, ClientFailure>
}

/** How to start it. */
export interface Options {
  /** A file of RLP blocks starting at block 1, which it loads (and executes) before it starts. */
  readonly loadBlocksFromRlp?: string | undefined
  /** How long it may take to say it started. */
  readonly startLimit?: number | undefined
}

/** `count` different ports free on 127.0.0.1 now (all held open until each is known, so none is given twice). */
const freePorts = (count: number): Effect.Effect<ReadonlyArray<number>> =>
  Effect.promise(async () => {
    const servers = Array.from({ length: count }, () => Net.createServer())
    const ports = await Promise.all(servers.map((server) =>
      new Promise<number>((resolve) =>
        server.listen(0, "127.0.0.1", () => {
          const address = server.address()
          resolve(typeof address === "object" && address !== null ? address.port : 0)
        })
      )
    ))
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
    return ports
  })

/** Waits until the process has exited, or `millis` passed; whether it exited. */
const exited = (child: ChildProcess.ChildProcess, millis: number): Promise<boolean> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(true)
    const timer = setTimeout(() => resolve(false), millis)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve(true)
    })
  })

/** Stops the process by its pid: SIGINT, then SIGTERM, then SIGKILL, each given a bounded wait. */
const stop = (child: ChildProcess.ChildProcess): Effect.Effect<void> =>
  Effect.promise(async () => {
    for (const [signal, millis] of [["SIGINT", 10_000], ["SIGTERM", 5_000], ["SIGKILL", 5_000]] as const) {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill(signal)
      if (await exited(child, millis)) return
    }
  })

/** Starts the client in a temporary folder; it runs until the scope closes. */
export const start = (options: Options = {}): Effect.Effect<Client, ClientFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const dir = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethsync-ejs-"))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    )
    const [port, rpcPort] = yield* freePorts(2)
    const args = [
      cli,
      "--bootnodes", nowhere,
      "--discDns", "false",
      "--discV4", "false",
      "--dnsAddr", "127.0.0.1",
      "--extIP", "127.0.0.1",
      "--dataDir", Path.join(dir, "data"),
      "--port", String(port),
      "--rpc", "--rpcAddr", "127.0.0.1", "--rpcPort", String(rpcPort),
      ...(options.loadBlocksFromRlp === undefined ? [] : ["--loadBlocksFromRlp", options.loadBlocksFromRlp])
    ]
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => ChildProcess.spawn(node, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] })),
      stop
    )
    /** The end of its output so far. */
    let output = ""
    /** Its enode URL, once it has logged it. */
    let url: string | undefined
    /** Whether it has said it started. */
    let started = false
    /** Wakes the wait for the start. */
    let wake = () => {}
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      url ??= /url=(enode:\/\/[0-9a-f]{128}@127\.0\.0\.1:\d+)/.exec(output)?.[1]
      started ||= output.includes("Client started successfully")
      output = output.slice(-20_000)
      wake()
    }
    // Read all its output as long as it runs, so that it never blocks on a full pipe.
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    const failure = (reason: string) => new ClientFailure({ reason, output: output.slice(-4000) })
    const limit = options.startLimit ?? 120_000
    const enode = yield* Effect.callback<string, ClientFailure>((resume) => {
      /** Stops waiting: the timer and the exit listener go, whatever ended the wait. */
      const settle = (outcome: Effect.Effect<string, ClientFailure>) => {
        clearTimeout(timer)
        child.off("exit", onExit)
        wake = () => {}
        resume(outcome)
      }
      const onExit = (code: number | null) => settle(Effect.fail(failure(`exited with ${code} before it started`)))
      const timer = setTimeout(() => settle(Effect.fail(failure(`did not start within ${limit} ms`))), limit)
      child.once("exit", onExit)
      wake = () => {
        if (url !== undefined && started) settle(Effect.succeed(url))
      }
      wake()
      return Effect.sync(() => {
        clearTimeout(timer)
        child.off("exit", onExit)
        wake = () => {}
      })
    })
    const rpc = (method: string, params: ReadonlyArray<unknown>) =>
      Effect.tryPromise({
        try: async (signal) => {
          const response = await fetch(`http://127.0.0.1:${rpcPort}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
            signal: AbortSignal.any([signal, AbortSignal.timeout(10_000)])
          })
          return await response.json() as { readonly result?: unknown; readonly error?: { readonly message: string } }
        },
        catch: (error) => failure(`${method} got no answer: ${String(error)}`)
      }).pipe(
        // A keep-alive socket left from an earlier client on the same port fails once: try again on a new one.
        Effect.retry({ times: 2, schedule: Schedule.spaced("200 millis") }),
        Effect.flatMap((answer) =>
        answer.error === undefined ? Effect.succeed(answer.result) : Effect.fail(failure(`${method}: ${answer.error.message}`))
      ))
    return {
      enode,
      rpc,
      blockNumber: Effect.map(rpc("eth_blockNumber", []), (result) => Number(result))
    }
  })

/** Writes mainnet blocks `first`..`last` (from the ETHSYNC_MAINNET_RLP file) to `path`, as the client's `--loadBlocksFromRlp` reads them. */
export const writeMainnetBlocks = (path: string, first: number, last: number): void =>
  Fs.writeFileSync(path, Buffer.concat(Mainnet.load().items.slice(first, last + 1)))
