/**
 * The index by which a block's hash finds its number (datadir layout 3), in a file of its own
 * read and written with pread and pwrite, never mapped: a lookup reads one 4 KiB page, so the
 * index adds nothing to the process's resident set (LMDB's `numbers` table, which it replaces,
 * was read through LMDB's map at a random leaf per block, each mapping 15 neighbours with it: see
 * docs/PERFORMANCE.md, "The hash index out of the map").
 *
 * The file (`hashes.idx` in the datadir): a header page (magic, version, `bits`), then 2^bits
 * buckets of one page each. A hash's bucket is the top `bits` bits of the hash; a bucket page holds
 * a count, then entries of the hash's first 8 bytes and the block number (16 bytes each, 255 a
 * page). A lookup returns the numbers of every entry whose 8 bytes match: candidates, which the
 * caller confirms against the stored records (so a prefix shared by two hashes, or the entry of a
 * block never committed, is harmless). When a bucket would overflow, the table doubles: the
 * buckets are streamed in order into a new file (bucket b splits into 2b and 2b+1 by the next bit
 * of each entry's hash), which is synced and renamed over the old one; a crash meanwhile leaves
 * the old file whole and a leftover (`leftovers`).
 *
 * Every write (`add`, `build`, a doubling, removing leftovers) happens while the caller holds the
 * datadir's LMDB write lock, inside the write transaction that stores the blocks (or migrates the
 * datadir): so several processes may write one datadir, one at a time, and none loses another's
 * entries (each page is read, changed and written under the lock) or writes into a file a
 * doubling has replaced (`add` first reopens the file its path names). Entries are synced before
 * the transaction commits, so a committed block always has its entry. A process that misses a
 * hash reopens the file when its path names another one (`refresh`), then looks again.
 *
 * @since 0.2.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { ChainStore, type Hash } from "@ethsync/core"
import { Effect, type Scope } from "effect"
import * as BlockNumberBytes from "./BlockNumberBytes.ts"

/** The index file's name in the datadir. */
export const fileName = "hashes.idx"

/** A doubling's new file until it is renamed over the index; a leftover of a killed one is removed under the write lock (`removeLeftovers`). */
const doublingSuffix = ".new"

/** A rebuild's file until it is complete and renamed into place (`build`); a leftover is removed under the write lock (`removeLeftovers`). */
const buildSuffix = ".build"

/** Bytes of a page: the header, and each bucket. */
const pageBytes = 4096

/** Bytes of an entry: the hash's first 8 bytes, then the number, 8 bytes big-endian. */
const entryBytes = 16

/** Bytes at the start of a bucket page before its entries: the count (4 bytes big-endian), the rest kept zero. */
const bucketHeaderBytes = 16

/** Entries a bucket holds. */
export const bucketCapacity = (pageBytes - bucketHeaderBytes) / entryBytes

/** The first 8 bytes of the header page, ASCII. */
const magic = "ETHSYNCX"

/** The format of the file this build reads and writes (header bytes 8-11, big-endian). */
const version = 1

/** The fewest bucket bits of a table (16 buckets: a new datadir's file is 68 KiB). */
const minBits = 4

/**
 * The most bucket bits: the bucket is read from the hash's first 4 bytes (2^32 pages would be
 * 16 TiB, far beyond any chain).
 */
const maxBits = 32

/** Buckets a doubling reads at a time (256 KiB), so it streams the table without holding it. */
const bucketsPerRead = 64

/** The open file of an index, replaced by a doubling or by `refresh` after another process's doubling. */
interface OpenFile {
  /** Its descriptor. */
  readonly fd: number
  /** Its bucket bits: 2^bits buckets. */
  readonly bits: number
  /** Its inode, by which a process tells that the path names another file now (another process doubled the table). */
  readonly inode: number
}

/** An open index. */
export interface HashIndex {
  /** The index file's path. */
  readonly path: string
  /** Whether it was opened to read only: `add` then fails. */
  readonly readOnly: boolean
  /** The file open now; undefined once the scope has closed it. */
  file: OpenFile | undefined
}

/** The StoreError of an operation on the index at `path`. */
const failure = (path: string, operation: string, reason: string): ChainStore.StoreError =>
  new ChainStore.StoreError({ operation: `${operation} the hash index ${path}`, reason })

/** What a file-system call threw, as a StoreError of `operation` (a StoreError kept as it is). */
const asStoreError = (path: string, operation: string) => (error: unknown): ChainStore.StoreError =>
  error instanceof ChainStore.StoreError ? error : failure(path, operation, error instanceof Error ? error.message : String(error))

/** Runs synchronous file calls, turning what they throw into a StoreError of `operation`. */
const attempt = <A>(path: string, operation: string, f: () => A): Effect.Effect<A, ChainStore.StoreError> =>
  Effect.try({ try: f, catch: asStoreError(path, operation) })

/** Runs synchronous file calls, throwing what they throw as a StoreError of `operation` (a StoreError kept as it is). */
const guard = <A>(path: string, operation: string, f: () => A): A => {
  try {
    return f()
  } catch (error) {
    throw asStoreError(path, operation)(error)
  }
}

/** The file of an open index, or the StoreError of one closed. */
const fileOf = (index: HashIndex): OpenFile => {
  if (index.file === undefined) throw failure(index.path, "read", "it is closed")
  return index.file
}

/** The bytes of a file of 2^bits buckets. */
const sizeOf = (bits: number): number => (1 + 2 ** bits) * pageBytes

/** The offset of bucket `bucket`'s page. */
const pageAt = (bucket: number): number => (1 + bucket) * pageBytes

/** The bucket of a hash prefix (its first 4 bytes as a number) in a table of 2^bits buckets. */
const bucketOf = (high: number, bits: number): number => bits === 32 ? high : high >>> (32 - bits)

/** The header page of a table of 2^bits buckets. */
const headerPage = (bits: number): Buffer => {
  const page = Buffer.alloc(pageBytes)
  page.write(magic, 0, "latin1")
  page.writeUInt32BE(version, 8)
  page.writeUInt32BE(bits, 12)
  return page
}

/** The bucket bits of the file open at `fd` when its header and size check out, else what is wrong with them. */
const headerCheck = (fd: number): number | string => {
  const page = Buffer.alloc(pageBytes)
  const read = Fs.readSync(fd, page, 0, pageBytes, 0)
  if (read < pageBytes) return `it has ${read} bytes, fewer than its header's ${pageBytes}`
  if (page.toString("latin1", 0, 8) !== magic) return `its header does not start with "${magic}"`
  const found = page.readUInt32BE(8)
  if (found !== version) return `its header gives format version ${found}, not ${version}`
  const bits = page.readUInt32BE(12)
  if (bits < minBits || bits > maxBits) return `its header gives ${bits} bucket bits, not ${minBits} to ${maxBits}`
  const size = Fs.fstatSync(fd).size
  if (size !== sizeOf(bits)) return `it has ${size} bytes, not the ${sizeOf(bits)} of ${2 ** bits} buckets`
  return bits
}

/** Opens the file at `path` and checks its header: the open file, or what is wrong with it (then closed). */
const openChecked = (path: string, readOnly: boolean): OpenFile | string => {
  const fd = Fs.openSync(path, readOnly ? "r" : "r+")
  try {
    const bits = headerCheck(fd)
    if (typeof bits === "number") return { fd, bits, inode: Fs.fstatSync(fd).ino }
    Fs.closeSync(fd)
    return bits
  } catch (error) {
    Fs.closeSync(fd)
    throw error
  }
}

/** The StoreError of an index file at `path` whose header or size does not check out, saying how to mend it. */
const damaged = (path: string, reason: string): ChainStore.StoreError =>
  failure(path, "open", `${reason} (opening the datadir to write, as import does, rebuilds it)`)

/** Opens the file at `path` and checks its header (throws a StoreError naming what is wrong). */
const openFile = (path: string, readOnly: boolean): OpenFile => {
  const opened = openChecked(path, readOnly)
  if (typeof opened === "string") throw damaged(path, opened)
  return opened
}

/** Syncs a folder, so that a rename in it is on disk. */
const syncFolder = (path: string): void => {
  const fd = Fs.openSync(Path.dirname(path), "r")
  try {
    Fs.fsyncSync(fd)
  } finally {
    Fs.closeSync(fd)
  }
}

/** Writes a new empty table of 2^bits buckets at `path` (its pages holes that read as zeros) and syncs it; returns it open to read and write. */
const writeEmpty = (path: string, bits: number): OpenFile => {
  const fd = Fs.openSync(path, "w+")
  try {
    Fs.writeSync(fd, headerPage(bits), 0, pageBytes, 0)
    Fs.ftruncateSync(fd, sizeOf(bits))
    Fs.fsyncSync(fd)
    return { fd, bits, inode: Fs.fstatSync(fd).ino }
  } catch (error) {
    Fs.closeSync(fd)
    throw error
  }
}

/** An index over the file open as `file`, closed with the scope. */
const track = (path: string, readOnly: boolean, file: OpenFile): Effect.Effect<HashIndex, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync((): HashIndex => ({ path, readOnly, file })),
    (index) =>
      Effect.sync(() => {
        if (index.file !== undefined) Fs.closeSync(index.file.fd)
        index.file = undefined
      })
  )

/**
 * Opens the index of the datadir at `dir`, closing it with the scope; undefined when it has none.
 * A file whose header or size does not check out is a StoreError naming what is wrong when opened
 * to read, and none when opened to write (LayoutMigration then rebuilds it). It removes
 * nothing: another process may be doubling or building meanwhile (`removeLeftovers`).
 */
export const open = (dir: string, readOnly: boolean): Effect.Effect<HashIndex | undefined, ChainStore.StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const path = Path.join(dir, fileName)
    const file = yield* attempt(path, "open", () => {
      const opened = Fs.existsSync(path) ? openChecked(path, readOnly) : undefined
      if (typeof opened !== "string") return opened
      // A writer rebuilds a damaged index as it does a missing one (LayoutMigration).
      if (readOnly) throw damaged(path, opened)
      return undefined
    })
    return file === undefined ? undefined : yield* track(path, readOnly, file)
  })

/**
 * Whether the datadir at `dir` has an index file whose header and size check out: one that does
 * not is rebuilt by an open to write (LayoutMigration), as a missing one is. Throws when the file
 * is there but cannot be read.
 */
export const usable = (dir: string): boolean => {
  const path = Path.join(dir, fileName)
  const opened = Fs.existsSync(path) ? openChecked(path, true) : undefined
  if (opened === undefined || typeof opened === "string") return false
  Fs.closeSync(opened.fd)
  return true
}

/** The files a killed doubling or build left in the datadir at `dir` (or one under way in another process). */
export const leftovers = (dir: string): Array<string> =>
  [doublingSuffix, buildSuffix, buildSuffix + doublingSuffix].map((suffix) => Path.join(dir, fileName + suffix)).filter((path) => Fs.existsSync(path))

/**
 * Removes what a killed doubling or build left in the datadir at `dir`. The caller holds the
 * datadir's write lock, so no doubling or build is under way (each runs under it); throws a
 * StoreError when a file cannot be removed.
 */
export const removeLeftovers = (dir: string): void => {
  for (const path of leftovers(dir)) guard(path, "remove the leftover", () => Fs.rmSync(path, { force: true }))
}

/** The bucket bits for about `entries` entries: buckets about half full, so that none overflows soon. */
const bitsFor = (entries: number): number => Math.min(maxBits, Math.max(minBits, Math.ceil(Math.log2(entries / (bucketCapacity / 2)))))

/**
 * Makes the index of the datadir at `dir` anew: an empty table sized for `entries` in a file of
 * its own, which `fill` adds to with the `add` it is given (as `add` below, but synced to disk
 * only once, when `fill` is done), then renamed over the index. The caller holds the datadir's
 * write lock. Killed before the rename, it leaves the datadir's index (or its absence) as it was.
 * Throws a StoreError when a file cannot be written (or what `fill` throws).
 */
export const build = (dir: string, entries: number, fill: (add: (ids: ReadonlyArray<ChainStore.BlockId>) => void) => void): void => {
  const path = Path.join(dir, fileName)
  const building = path + buildSuffix
  const index: HashIndex = { path: building, readOnly: false, file: guard(building, "build", () => writeEmpty(building, bitsFor(entries))) }
  try {
    fill((ids) => write(index, ids.map(entryOf)))
    guard(building, "build", () => Fs.fdatasyncSync(fileOf(index).fd))
  } finally {
    if (index.file !== undefined) Fs.closeSync(index.file.fd)
  }
  guard(path, "install", () => {
    Fs.renameSync(building, path)
    syncFolder(path)
  })
}

/** The page a lookup reads into: one for the process, since a lookup runs to its end without yielding. */
const lookupPage = Buffer.alloc(pageBytes)

/**
 * Reads `bytes` at `offset` of the index into `into` and checks that the file had them (it may have
 * been cut since it was opened); throws a StoreError naming the shortfall.
 */
const readFully = (path: string, fd: number, into: Buffer, bytes: number, offset: number): void => {
  const read = Fs.readSync(fd, into, 0, bytes, offset)
  if (read < bytes) throw failure(path, "read", `it ends ${read} bytes into the ${bytes} read at ${offset}, short of the size its header gives`)
}

/** The count of entries a bucket page gives, checked against what a page holds; throws a StoreError naming a damaged page. */
const countOf = (path: string, page: Buffer, bucket: number): number => {
  const count = page.readUInt32BE(0)
  if (count > bucketCapacity) throw failure(path, "read", `bucket ${bucket} counts ${count} entries, more than the ${bucketCapacity} a page holds`)
  return count
}

/** The page's bytes as 32-bit words in the machine's order, to compare entries without decoding them. */
const lookupWords = new Uint32Array(lookupPage.buffer, lookupPage.byteOffset, pageBytes / 4)

/** A hash's first 8 bytes as two 32-bit words in the machine's order, as `lookupWords` reads entries. */
const prefixWords = new Uint32Array(2)

/**
 * The numbers of the entries whose hash starts as `hash` does: candidates for the caller to
 * confirm. Reads one page; throws a StoreError when it cannot.
 */
export const lookup = (index: HashIndex, hash: Hash.Hash): Array<number> => {
  const { fd, bits } = fileOf(index)
  new Uint8Array(prefixWords.buffer).set(hash.subarray(0, 8))
  const bucket = bucketOf(new DataView(hash.buffer, hash.byteOffset, 4).getUint32(0), bits)
  const count = guard(index.path, "read", () => {
    readFully(index.path, fd, lookupPage, pageBytes, pageAt(bucket))
    return countOf(index.path, lookupPage, bucket)
  })
  const numbers: Array<number> = []
  const [first, second] = prefixWords
  const end = (bucketHeaderBytes + count * entryBytes) / 4
  for (let word = bucketHeaderBytes / 4; word < end; word += entryBytes / 4) {
    if (lookupWords[word] === first && lookupWords[word + 1] === second) {
      numbers.push(BlockNumberBytes.read(lookupPage, word * 4 + 8))
    }
  }
  return numbers
}

/**
 * Opens the index again when its path names another file than the one open (another process
 * doubled the table meanwhile); returns whether it did. Throws a StoreError when the new file
 * cannot be opened.
 */
export const refresh = (index: HashIndex): boolean =>
  guard(index.path, "reopen", () => {
    if (Fs.statSync(index.path).ino === fileOf(index).inode) return false
    const opened = openFile(index.path, index.readOnly)
    Fs.closeSync(fileOf(index).fd)
    index.file = opened
    return true
  })

/** An entry to add. */
interface Entry {
  /** The hash's first 4 bytes as a number, big-endian: what its bucket is read from. */
  readonly high: number
  /** Its 16 bytes as written (the hash's first 8, the number big-endian), as 4 words in the machine's order. */
  readonly words: Uint32Array
}

/** The entry of a block. */
const entryOf = ({ number, hash }: ChainStore.BlockId): Entry => {
  const words = new Uint32Array(entryBytes / 4)
  const bytes = new Uint8Array(words.buffer)
  for (let i = 0; i < 8; i++) bytes[i] = hash[i]!
  BlockNumberBytes.write(bytes, 8, number)
  return { high: ((hash[0]! << 24) | (hash[1]! << 16) | (hash[2]! << 8) | hash[3]!) >>> 0, words }
}

/** Whether the `count` entries of a page (as words in the machine's order) include `entry`. */
const holds = (page: Uint32Array, count: number, { words }: Entry): boolean => {
  const end = (bucketHeaderBytes + count * entryBytes) / 4
  for (let word = bucketHeaderBytes / 4; word < end; word += entryBytes / 4) {
    if (page[word] === words[0] && page[word + 1] === words[1] && page[word + 2] === words[2] && page[word + 3] === words[3]) return true
  }
  return false
}

/**
 * The bucket bits from which a table doubles only when it holds at least one entry a bucket on
 * average (4,096 buckets, a 16 MiB file; a table of real block hashes doubles at about half full):
 * hashes made to share their first bits (blocks whose seals are not checked cost nothing to make)
 * would otherwise double an almost empty table until it filled the disk.
 */
const crowdingBits = 12

/**
 * Doubles the table: streams its buckets into a new file of twice as many (bucket b's entries
 * into 2b and 2b+1 by their next bit), syncs it, renames it over the index and opens it. Throws a
 * StoreError, the index as it was, when the table is too empty for an overflow to mean it is full
 * (`crowdingBits`).
 */
const double = (index: HashIndex): void => {
  const old = fileOf(index)
  const bits = old.bits + 1
  if (bits > maxBits) throw failure(index.path, "double", `it has ${2 ** old.bits} buckets already`)
  const next = index.path + doublingSuffix
  const fresh = writeEmpty(next, bits)
  /** Entries of the table, counted as it is streamed. */
  let total = 0
  try {
    const input = Buffer.alloc(bucketsPerRead * pageBytes)
    const output = Buffer.alloc(2 * bucketsPerRead * pageBytes)
    for (let first = 0; first < 2 ** old.bits; first += bucketsPerRead) {
      const buckets = Math.min(bucketsPerRead, 2 ** old.bits - first)
      readFully(index.path, old.fd, input, buckets * pageBytes, pageAt(first))
      output.fill(0)
      for (let b = 0; b < buckets; b++) {
        const page = input.subarray(b * pageBytes, (b + 1) * pageBytes)
        const counts = [0, 0]
        const count = countOf(index.path, page, first + b)
        total += count
        for (let i = 0; i < count; i++) {
          const offset = bucketHeaderBytes + i * entryBytes
          const half = bucketOf(page.readUInt32BE(offset), bits) & 1
          const target = (2 * b + half) * pageBytes + bucketHeaderBytes + counts[half]! * entryBytes
          page.copy(output, target, offset, offset + entryBytes)
          counts[half]!++
        }
        output.writeUInt32BE(counts[0]!, 2 * b * pageBytes)
        output.writeUInt32BE(counts[1]!, (2 * b + 1) * pageBytes)
      }
      Fs.writeSync(fresh.fd, output, 0, 2 * buckets * pageBytes, pageAt(2 * first))
    }
    if (old.bits >= crowdingBits && total < 2 ** old.bits) {
      Fs.rmSync(next, { force: true })
      throw failure(
        index.path,
        "double",
        `a bucket overflows with ${total} entries in ${2 ** old.bits} buckets: hashes made to crowd one bucket, not a full table, so it does not double`
      )
    }
    Fs.fdatasyncSync(fresh.fd)
    Fs.renameSync(next, index.path)
  } catch (error) {
    Fs.closeSync(fresh.fd)
    throw error
  }
  Fs.closeSync(old.fd)
  index.file = fresh
  syncFolder(index.path)
}

/**
 * Writes the entries into their buckets, reading each page once and writing it when it
 * changed; an entry already there (the same prefix and number) is not added again. Returns
 * "full", having written the buckets before it, when a bucket would overflow: the table must
 * double first.
 */
const writeEntries = (index: HashIndex, entries: ReadonlyArray<Entry>): "done" | "full" => {
  const { fd, bits } = fileOf(index)
  // By their first 4 bytes, so by bucket.
  const sorted = [...entries].sort((a, b) => a.high - b.high)
  const page = Buffer.alloc(pageBytes)
  const words = new Uint32Array(page.buffer, page.byteOffset, pageBytes / 4)
  let start = 0
  while (start < sorted.length) {
    const bucket = bucketOf(sorted[start]!.high, bits)
    let end = start
    while (end < sorted.length && bucketOf(sorted[end]!.high, bits) === bucket) end++
    readFully(index.path, fd, page, pageBytes, pageAt(bucket))
    const stored = countOf(index.path, page, bucket)
    let count = stored
    for (let i = start; i < end; i++) {
      const entry = sorted[i]!
      if (holds(words, count, entry)) continue
      if (count >= bucketCapacity) return "full"
      words.set(entry.words, (bucketHeaderBytes + count++ * entryBytes) / 4)
    }
    if (count > stored) {
      page.writeUInt32BE(count, 0)
      Fs.writeSync(fd, page, 0, pageBytes, pageAt(bucket))
    }
    start = end
  }
  return "done"
}

/**
 * Writes the entries into the index, not synced, doubling the table as often as a bucket would
 * overflow. Throws a StoreError on an index opened to read, or when the file cannot be read or
 * written.
 */
const write = (index: HashIndex, entries: ReadonlyArray<Entry>): void => {
  if (index.readOnly) throw failure(index.path, "write", "it is open for reading only")
  guard(index.path, "write", () => {
    // A write cut short by an overflow is kept; the next pass skips the entries it wrote.
    while (writeEntries(index, entries) === "full") double(index)
  })
}

/**
 * Adds the blocks `ids` to the index and syncs it to disk before it returns, doubling the table as often as a bucket would
 * overflow. The caller holds the datadir's write lock, inside the transaction that stores the
 * blocks: the file the path names is reopened first if another process doubled it. Throws a
 * StoreError on an index opened to read, or when the file cannot be read or written.
 */
export const add = (index: HashIndex, ids: ReadonlyArray<ChainStore.BlockId>): void => {
  if (ids.length === 0) return
  refresh(index)
  write(index, ids.map(entryOf))
  // Synced even when every entry was there already: a process killed between its writes and its
  // sync leaves them in the page cache only, and the same blocks stored again must not be
  // committed before those entries are on disk.
  guard(index.path, "sync", () => Fs.fdatasyncSync(fileOf(index).fd))
}
