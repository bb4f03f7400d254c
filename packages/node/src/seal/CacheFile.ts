/**
 * An epoch's Ethash cache kept in the datadir (`<datadir>/ethash/cache-<epoch>`), so that it is
 * built once and reused by every later run. The file carries its epoch, its size and a SHA-256
 * of the cache: a truncated, corrupt or foreign file is reported, never used.
 *
 * @since 0.2.0
 */
import { Ethash } from "@ethsync/core"
import { Data, Effect } from "effect"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"

/** A cache file that cannot be read or written, or must not be used: where, and why. */
export class CacheFileError extends Data.TaggedError("CacheFileError")<{
  /** The file. */
  readonly path: string
  /** What was wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `ethash cache file ${this.path}: ${this.reason}`
  }
}

/** The file's first 8 bytes. */
const magic = new TextEncoder().encode("ETHCACHE")
/** The layout's version, after the magic. */
const version = 1
/** Bytes before the cache: magic, version, epoch, size (u32 little-endian each), SHA-256. */
const headerBytes = 8 + 4 + 4 + 4 + 32

/** The file of `epoch`'s cache in `datadir`. */
export const pathOf = (datadir: string, epoch: number): string => Path.join(datadir, "ethash", `cache-${epoch}`)

/** SHA-256 of the cache bytes. */
const checksum = (cache: Uint8Array): Uint8Array => Crypto.createHash("sha256").update(cache).digest()

/** The header written before `epoch`'s cache. */
const headerOf = (epoch: number, cache: Uint8Array): Uint8Array => {
  const header = new Uint8Array(headerBytes)
  const view = new DataView(header.buffer)
  header.set(magic, 0)
  view.setUint32(8, version, true)
  view.setUint32(12, epoch, true)
  view.setUint32(16, cache.length, true)
  header.set(checksum(cache), 20)
  return header
}

/** What the system said, in a few words. */
const systemReason = (cause: unknown): string => cause instanceof Error ? cause.message : String(cause)

/** Reads the file fully into `into`; the reason it fails, or undefined. */
const check = async (handle: Fs.FileHandle, epoch: number, into: Uint8Array): Promise<string | undefined> => {
  const expected = headerBytes + into.length
  const { size } = await handle.stat()
  if (size !== expected) return `it is ${size} bytes, not ${expected} (truncated, or not epoch ${epoch}'s cache)`
  const header = new Uint8Array(headerBytes)
  await handle.read(header, 0, headerBytes, 0)
  if (!header.subarray(0, 8).every((b, i) => b === magic[i])) return "it does not start as a cache file does"
  const view = new DataView(header.buffer)
  if (view.getUint32(8, true) !== version) return `its layout version is ${view.getUint32(8, true)}, not ${version}`
  if (view.getUint32(12, true) !== epoch) return `it holds epoch ${view.getUint32(12, true)}'s cache, not ${epoch}'s`
  for (let at = 0; at < into.length;) {
    const { bytesRead } = await handle.read(into, at, into.length - at, headerBytes + at)
    if (bytesRead === 0) return "it ended early"
    at += bytesRead
  }
  const sum = checksum(into)
  if (!sum.every((b, i) => b === header[20 + i])) return "its checksum does not match its bytes (corrupt)"
  return undefined
}

/**
 * Reads `epoch`'s cache from `path` into new shared memory: undefined when there is no file, a
 * CacheFileError when it cannot be read or fails a check.
 */
export const read = (path: string, epoch: number): Effect.Effect<SharedArrayBuffer | undefined, CacheFileError> =>
  Effect.tryPromise({
    try: async () => {
      const handle = await Fs.open(path, "r").catch((cause: NodeJS.ErrnoException) => {
        if (cause.code === "ENOENT") return undefined
        throw cause
      })
      if (handle === undefined) return undefined
      try {
        const cache = new SharedArrayBuffer(Ethash.Epoch.cacheBytes(epoch))
        const wrong = await check(handle, epoch, new Uint8Array(cache))
        return wrong === undefined ? cache : new CacheFileError({ path, reason: wrong })
      } finally {
        await handle.close()
      }
    },
    catch: (cause) => new CacheFileError({ path, reason: systemReason(cause) })
  }).pipe(Effect.flatMap((got) => got instanceof CacheFileError ? Effect.fail(got) : Effect.succeed(got)))

/** Numbers this process's writes, so that two writes never share a temporary file. */
let writes = 0

/** A temporary file's name, `cache-<epoch>.partial-<pid>-<write>`, and the pid of the process writing it. */
const partialName = /^cache-\d+\.partial-(\d+)-\d+$/

/** Whether process `pid` runs (one this process may not signal runs too). */
const running = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return error instanceof Error && "code" in error && error.code === "EPERM"
  }
}

/**
 * Removes the temporary files in `dir` of writers that no longer run: a process killed while
 * writing a cache (SIGKILL, a crash) leaves one as large as the cache, which nothing else removes.
 */
const sweep = async (dir: string): Promise<void> => {
  for (const name of await Fs.readdir(dir)) {
    const pid = partialName.exec(name)?.[1]
    if (pid !== undefined && !running(Number(pid))) await Fs.rm(Path.join(dir, name), { force: true })
  }
}

/**
 * Writes `epoch`'s cache to `path`: to a temporary file of its own first, renamed over it once
 * complete, and removed if the write fails; the temporary files of killed writers go first.
 */
export const write = (path: string, epoch: number, cache: SharedArrayBuffer): Effect.Effect<void, CacheFileError> =>
  Effect.tryPromise({
    try: async () => {
      const bytes = new Uint8Array(cache)
      const partial = `${path}.partial-${process.pid}-${writes++}`
      await Fs.mkdir(Path.dirname(path), { recursive: true })
      await sweep(Path.dirname(path))
      try {
        await Fs.writeFile(partial, [headerOf(epoch, bytes), bytes])
        await Fs.rename(partial, path)
      } catch (cause) {
        await Fs.rm(partial, { force: true })
        throw cause
      }
    },
    catch: (cause) => new CacheFileError({ path, reason: systemReason(cause) })
  })
