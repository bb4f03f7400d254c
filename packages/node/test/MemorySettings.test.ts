/**
 * The executable's memory settings: what a relaunch adds (and that a relaunched process is not
 * relaunched again), that a setting the user gave is left as given, and, on Linux, that the very
 * process the caller started (the same pid) runs a command with them on its command line and in
 * its environment (`serve`'s: no old-generation growth of ours), still ends with exit 0 on SIGINT,
 * and keeps a user's own flag.
 */
import { describe, expect, it } from "@effect/vitest"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as MemorySettings from "../src/bin/MemorySettings.ts"
import * as CliRunner from "./CliRunner.ts"

/** A start of `ethsync sync` by a user who set nothing. */
const plain: MemorySettings.Start = { execArgv: [], script: ["ethsync.ts", "sync", "--peer", "x"], env: { HOME: "/home/u" } }

/** The flags as the relaunch writes them. */
const ours = ["--heap-growing-percent=20", "--max-semi-space-size=8"]

describe("MemorySettings.relaunch", () => {
  it("puts the V8 flags before Node's own arguments and the script, and adds MALLOC_ARENA_MAX to the environment", () => {
    const next = MemorySettings.relaunch({ ...plain, execArgv: ["--enable-source-maps"] })
    expect(next?.args).toEqual([...ours, "--enable-source-maps", "ethsync.ts", "sync", "--peer", "x"])
    expect(next?.env).toEqual({ HOME: "/home/u", MALLOC_ARENA_MAX: "2" })
  })

  it("does not relaunch a process that runs with the settings already", () => {
    const next = MemorySettings.relaunch(plain)!
    expect(MemorySettings.relaunch({ execArgv: next.args.slice(0, ours.length), script: plain.script, env: next.env })).toBeUndefined()
  })

  it("gives serve the semi-spaces and the arenas but leaves the old generation's growth to V8", () => {
    const serve: MemorySettings.Start = { ...plain, script: ["ethsync.ts", "serve", "--datadir", "d"] }
    const next = MemorySettings.relaunch(serve)!
    expect(next.args).toEqual(["--max-semi-space-size=8", ...serve.script])
    expect(next.env).toEqual({ HOME: "/home/u", MALLOC_ARENA_MAX: "2" })
    expect(MemorySettings.relaunch({ execArgv: next.args.slice(0, 1), script: serve.script, env: next.env })).toBeUndefined()
  })

  it("finds serve after the root's flags, their values given apart or with =, and nowhere else", () => {
    for (const args of [["serve"], ["--log-format", "json", "serve"], ["--log-format=json", "serve"], ["--log-level", "warn", "serve", "--port", "0"]]) {
      expect(MemorySettings.subcommandOf(args)).toBe("serve")
      const next = MemorySettings.relaunch({ ...plain, script: ["ethsync.ts", ...args] })!
      expect(next.args.filter((argument) => argument.startsWith("--heap-growing-percent"))).toEqual([])
    }
    expect(MemorySettings.subcommandOf(["--log-level", "warn", "sync", "--peer", "serve"])).toBe("sync")
    expect(MemorySettings.subcommandOf(["node", "serve"])).toBe("node")
    expect(MemorySettings.subcommandOf(["--help"])).toBeUndefined()
  })

  it("leaves a flag the user gave, on the command line (in either spelling) or in NODE_OPTIONS, and the user's MALLOC_ARENA_MAX", () => {
    const onCommandLine = MemorySettings.relaunch({ ...plain, execArgv: ["--max_semi_space_size=16"] })
    expect(onCommandLine?.args).toEqual(["--heap-growing-percent=20", "--max_semi_space_size=16", ...plain.script])
    const inNodeOptions = MemorySettings.relaunch({ ...plain, env: { NODE_OPTIONS: "--max-semi-space-size=16", MALLOC_ARENA_MAX: "8" } })
    expect(inNodeOptions?.args).toEqual(["--heap-growing-percent=20", ...plain.script])
    expect(inNodeOptions?.env["MALLOC_ARENA_MAX"]).toBe("8")
  })
})

/** The longest the executable may take to print its enode URL or to end. */
const bound = 30_000

/** `ethsync serve` over a new mainnet datadir in `dir`, as a child of Node started with `nodeArgs`; resolves with its first stdout line. */
const serve = (dir: string, nodeArgs: ReadonlyArray<string>) => {
  const child = ChildProcess.spawn(
    process.execPath,
    [...nodeArgs, CliRunner.entry, "serve", "--verify-seals", "none", "--network", "mainnet", "--datadir", Path.join(dir, "datadir"), "--port", "0"],
    { cwd: CliRunner.repoRoot }
  )
  const firstLine = new Promise<string>((resolve, reject) => {
    let text = ""
    const timer = setTimeout(() => reject(new Error(`no line on stdout within ${bound} ms; so far: ${text}`)), bound)
    child.stdout.on("data", (chunk) => {
      text += chunk
      if (text.includes("\n")) {
        clearTimeout(timer)
        resolve(text.slice(0, text.indexOf("\n")))
      }
    })
  })
  const exitCode = new Promise<number | null>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ended within ${bound} ms of the start`)), 2 * bound)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
  return { child, firstLine, exitCode }
}

/** The NUL-separated entries of a `/proc/<pid>/` file. */
const procEntries = (pid: number, file: "cmdline" | "environ") => Fs.readFileSync(`/proc/${pid}/${file}`, "utf8").split("\0")

describe.runIf(process.platform === "linux")("the ethsync executable (reads /proc: Linux only)", () => {
  it("runs the command in the process the caller started, with serve's flags and MALLOC_ARENA_MAX, and a user's own flag kept", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethsync-test-"))
    try {
      for (const nodeArgs of [[], ["--max-semi-space-size=16"]]) {
        const run = serve(Path.join(dir, String(nodeArgs.length)), nodeArgs)
        try {
          expect(await run.firstLine).toMatch(/^enode:\/\//)
          const pid = run.child.pid!
          const cmdline = procEntries(pid, "cmdline")
          expect(cmdline.filter((argument) => argument.startsWith("--heap-growing-percent"))).toEqual([])
          expect(cmdline.filter((argument) => argument.startsWith("--max-semi-space-size="))).toEqual(
            nodeArgs.length === 0 ? ["--max-semi-space-size=8"] : ["--max-semi-space-size=16"]
          )
          expect(cmdline).toContain("serve")
          expect(procEntries(pid, "environ")).toContain("MALLOC_ARENA_MAX=2")
          run.child.kill("SIGINT")
          expect(await run.exitCode).toBe(0)
        } finally {
          run.child.kill("SIGKILL")
        }
      }
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }, 3 * 2 * bound)
})
