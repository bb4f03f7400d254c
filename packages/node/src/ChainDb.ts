/**
 * The LMDB environment of a datadir: its tables, how chain records are encoded in them,
 * synchronous reads, and write transactions committed on the main thread or off it. Chain logic lives in LmdbChainStore; this module only stores.
 *
 * Tables (layout 3): `blocks` (block number, 8 bytes big-endian, then block hash -> the block's RLP),
 * `tds` (the same key -> total difficulty as decimal text), `canonical` (number -> block hash) and
 * `meta` (`head`, `genesis` -> block hash; `layout` -> the layout, decimal text); beside them, the
 * file `hashes.idx` (HashIndex), by which a hash finds its block's number, each candidate number
 * confirmed in `blocks`, written only inside write transactions (`indexBlocks`), so that LMDB's
 * write lock covers it as it covers the tables, and several processes may write one datadir.
 * Keyed by number, the records a sync writes go to the right edge of their tables, and the index,
 * written at random, is read and written without LMDB's map (see
 * docs/PERFORMANCE.md, "Blocks keyed by number" and "The hash index out of the map"). Layout 2
 * had the index as an LMDB table, `numbers` (block hash -> its number); layout 1, which datadirs
 * written before had (no `layout` in `meta`), keyed `blocks` and `tds` by hash alone and had no
 * index. LayoutMigration brings both to layout 3 when the datadir is opened to write; opened to
 * read, they are read as they are (layout 2 through `numbers`, layout 1 by hash).
 *
 * The tables are read through the `ChainDb` (not kept), so that `reopen` can close the environment
 * and open it again: that unmaps the data file, which LMDB otherwise leaves resident page by page
 * as it reads and writes (MapDrop).
 *
 * @since 0.1.0
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Block, ChainStore, Hash, Header, Rlp, type UncleRules } from "@ethsync/core"
import { Effect, Result, type Scope } from "effect"
import { type Database, open as openLmdb, type RootDatabase } from "lmdb"
import * as BlockNumberBytes from "./BlockNumberBytes.ts"
import { DatadirUnreadable, EmptyDatadir, UnknownLayout } from "./DatadirError.ts"
import * as HashIndex from "./HashIndex.ts"

/** The names under which the `meta` table keeps hashes. */
type MetaKey = "head" | "genesis"

/** The name under which the `meta` table keeps the layout. */
const layoutKey = "layout"

/** The layouts this build reads (see the module comment). */
export type Layout = 1 | 2 | 3

/** The layout this build writes, and migrates older datadirs to. */
export const currentLayout: Layout = 3

/** The tables of one opening of the environment: replaced whole when its map is dropped (`reopen`). */
interface Tables {
  /** The environment: one transaction spans every table. */
  readonly env: RootDatabase
  /** Block RLP by record key (`recordKey`); in layout 1, by block hash. */
  readonly blocks: Database<Uint8Array, Uint8Array>
  /** Total difficulty, decimal text, by record key; in layout 1, by block hash. */
  readonly tds: Database<string, Uint8Array>
  /**
   * Layouts 1 and 2: a block's number, 8 bytes big-endian (its record key's first part), by block
   * hash; undefined in layout 3, and in a layout-1 datadir opened to read that no migration has
   * begun, which have no such table.
   */
  readonly numbers: Database<Uint8Array, Uint8Array> | undefined
  /** Canonical block hash by number. */
  readonly canonical: Database<Uint8Array, number>
  /** Head and genesis hashes, and the layout, by name. */
  readonly meta: Database<Uint8Array, MetaKey | typeof layoutKey>
}

/** What a datadir's tables are now: the last opening's, or why it could not be opened again. */
interface Opening {
  /** The environment open now, which the scope closes; undefined while it is being reopened, or after that failed. */
  env: RootDatabase | undefined
  /** The tables, or the StoreError of the reopening that failed, which every later use throws. */
  current: Tables | ChainStore.StoreError
}

/** An open datadir: its tables are read through it, so they stay valid across `reopen`. */
export interface ChainDb extends Tables {
  /** The datadir's folder, as given. */
  readonly path: string
  /** Whether it was opened to read only: a transaction then throws. */
  readonly readOnly: boolean
  /**
   * The layout of its records: 1 only for a datadir written before layout 2 and opened to read
   * (or not yet migrated: LayoutMigration), where records may still be keyed by hash alone.
   */
  readonly layout: Layout
  /** The opening its tables are read from, shared by every view of the datadir (`withLayout`). */
  readonly opening: Opening
  /**
   * Layout 3: the hash index (HashIndex), not closed by a reopening; undefined in other layouts,
   * and while a datadir that has none yet is not migrated (LayoutMigration builds it).
   */
  readonly index: HashIndex.HashIndex | undefined
}

/** What `operation` threw, as a StoreError (kept as is when it already is one). */
export const storeError = (operation: string, error: unknown): ChainStore.StoreError =>
  error instanceof ChainStore.StoreError
    ? error
    : new ChainStore.StoreError({ operation, reason: error instanceof Error ? error.message : String(error) })

/** Runs a synchronous datadir operation, turning anything it throws into a StoreError. */
export const attempt = <A>(operation: string, f: () => A): Effect.Effect<A, ChainStore.StoreError> =>
  Effect.try({ try: f, catch: (error) => storeError(operation, error) })

/** The file LMDB keeps a datadir's data in. */
const dataFile = "data.mdb"

/**
 * The address space LMDB maps the data file into, reserved at open: 1 TiB of addresses only (the
 * file grows only as data is written, and only touched pages are resident). lmdb-js otherwise starts at
 * 128 KiB and maps the file anew each time it outgrows its map, keeping the old maps: every map
 * counts its touched pages in the process's resident set, so a 1 M-block sync showed the same file
 * pages three times over (M1: VmHWM 3 GiB for a 1.1 GiB file).
 */
const mapSize = 2 ** 40

/** Where LMDB (as lmdb-js builds it) writes its magic number in the first meta page, and the number. */
const magic = { offset: 24, bytes: [0xde, 0xc0, 0xef, 0xbe] } as const

/** Words for the system error codes that mean the user may not read the datadir. */
const words: Partial<Record<string, string>> = {
  EACCES: "permission denied",
  EPERM: "permission denied"
}

/** A failed look at the datadir's files, as a DatadirUnreadable giving the reason without the path. */
const unreadable = (path: string) => (error: unknown): DatadirUnreadable => {
  const code = error instanceof Error && "code" in error && typeof error.code === "string" ? error.code : undefined
  const reason = (code === undefined ? undefined : words[code]) ?? (error instanceof Error ? error.message : String(error))
  return new DatadirUnreadable({ path, reason })
}

/** The size of the datadir's data file, undefined when there is none. */
const dataFileSize = (path: string): Effect.Effect<number | undefined, DatadirUnreadable> =>
  Effect.try({
    try: () => Fs.statSync(Path.join(path, dataFile), { throwIfNoEntry: false })?.size,
    catch: unreadable(path)
  })

/**
 * Checks that a data file with content starts like an LMDB environment: lmdb-js crashes the
 * process (SIGSEGV) when it opens a file that does not.
 */
const checkLmdb = (path: string): Effect.Effect<void, DatadirUnreadable | ChainStore.StoreError> =>
  Effect.flatMap(
    Effect.try({
      try: () => {
        const head = new Uint8Array(magic.offset + magic.bytes.length)
        const fd = Fs.openSync(Path.join(path, dataFile), "r")
        try {
          Fs.readSync(fd, head, 0, head.length, 0)
        } finally {
          Fs.closeSync(fd)
        }
        return head
      },
      catch: unreadable(path)
    }),
    (head) =>
      magic.bytes.every((byte, i) => head[magic.offset + i] === byte)
        ? Effect.void
        : Effect.fail(new ChainStore.StoreError({ operation: `open datadir ${path}`, reason: `${dataFile} is not an LMDB environment` }))
  )

/**
 * How a datadir is opened. `read`: only reads, so it never waits on a writer and works on a
 * datadir the user may only read. `write`: reads and writes a datadir that exists. `create`: as
 * `write`, making a missing folder or environment.
 */
export type Access = "read" | "write" | "create"

/**
 * The layout of a datadir from its `meta` table, as the transaction reading it sees it (inside a
 * write transaction: what another process may have migrated it to meanwhile): the one stored,
 * else 1 when it holds a chain (written before layouts were recorded) and the current one when it
 * is empty; an UnknownLayout when it records one this build does not know.
 */
export const storedLayout = (path: string, meta: ChainDb["meta"]): Layout | UnknownLayout => {
  const stored = meta.get(layoutKey)
  if (stored === undefined) return meta.get("genesis") === undefined ? currentLayout : 1
  const text = new TextDecoder().decode(stored)
  return text === "2" ? 2 : text === "3" ? 3 : new UnknownLayout({ path, layout: text })
}

/** Whether the environment holds a `numbers` table (as the transaction reading it sees it): its root keys name its tables. */
const holdsNumbers = (env: RootDatabase): boolean => Array.from(env.getKeys()).includes("numbers")

/**
 * Drops the `numbers` table of a datadir opened in layout 1 or 2, if the environment holds it
 * (inside a transaction): also when another process migrated the datadir meanwhile, and this
 * one's opening made the table again, empty.
 */
export const dropNumbers = (db: ChainDb): void => {
  if (holdsNumbers(db.env)) db.numbers?.dropSync()
}

/**
 * Opens the `numbers` table of a layout-1 or -2 datadir (making it when the datadir may be
 * written), or undefined in layout 3 and when a layout-1 datadir opened to read has none: the
 * environment's root keys name its tables.
 */
const openNumbers = (env: RootDatabase, readOnly: boolean, layout: Layout): ChainDb["numbers"] =>
  layout === 3 || (readOnly && layout === 1 && !holdsNumbers(env))
    ? undefined
    : env.openDB<Uint8Array, Uint8Array>({ name: "numbers", encoding: "binary", keyEncoding: "binary" })

/** Opens the LMDB environment of the datadir at `path` (throws what LMDB throws). */
const openEnv = (path: string, readOnly: boolean): RootDatabase => openLmdb({ path, noSubdir: false, maxDbs: 5, readOnly, mapSize })

/** The `meta` table of an environment. */
const openMeta = (env: RootDatabase): Tables["meta"] => env.openDB<Uint8Array, MetaKey | typeof layoutKey>({ name: "meta", encoding: "binary" })

/** The tables of an environment, in a datadir of `layout`. */
const openTables = (env: RootDatabase, readOnly: boolean, layout: Layout): Tables => ({
  env,
  blocks: env.openDB<Uint8Array, Uint8Array>({ name: "blocks", encoding: "binary", keyEncoding: "binary" }),
  tds: env.openDB<string, Uint8Array>({ name: "tds", encoding: "string", keyEncoding: "binary" }),
  numbers: openNumbers(env, readOnly, layout),
  canonical: env.openDB<Uint8Array, number>({ name: "canonical", encoding: "binary" }),
  meta: openMeta(env)
})

/** The tables of an opening, or the StoreError of its failed reopening thrown. */
const tablesOf = (opening: Opening): Tables => {
  if (opening.current instanceof ChainStore.StoreError) throw opening.current
  return opening.current
}

/** A view of an opening as a datadir of `layout`. */
const view = (path: string, readOnly: boolean, layout: Layout, opening: Opening, index: HashIndex.HashIndex | undefined): ChainDb => ({
  path,
  readOnly,
  layout,
  opening,
  index,
  get env() {
    return tablesOf(opening).env
  },
  get blocks() {
    return tablesOf(opening).blocks
  },
  get tds() {
    return tablesOf(opening).tds
  },
  get numbers() {
    // An opening of layout 1 or 2 migrated to layout 3 keeps the handle of the table it dropped.
    return layout === 3 ? undefined : tablesOf(opening).numbers
  },
  get canonical() {
    return tablesOf(opening).canonical
  },
  get meta() {
    return tablesOf(opening).meta
  }
})

/** The same open datadir seen in another layout, with its index (once LayoutMigration has brought it there). */
export const withLayout = (db: ChainDb, layout: Layout, index: HashIndex.HashIndex | undefined): ChainDb =>
  view(db.path, db.readOnly, layout, db.opening, index)

/** Closes an environment, waiting for its writes in flight. */
const closeEnv = (path: string, env: RootDatabase): Effect.Effect<void, ChainStore.StoreError> =>
  Effect.tryPromise({ try: () => env.close(), catch: (error) => storeError(`close datadir ${path}`, error) })

/**
 * Closes the datadir's environment and opens it again, which unmaps its data file: the file
 * pages LMDB read or wrote through the map leave the process's resident set (see
 * docs/PERFORMANCE.md, "The data file's map bounded"). No read or write of the datadir may run
 * meanwhile (the store's MapDrop sees to it). A failure to open it again is a StoreError, which
 * every later use of the datadir fails with too.
 */
export const reopen = (db: ChainDb): Effect.Effect<void, ChainStore.StoreError> =>
  Effect.gen(function*() {
    const operation = `reopen datadir ${db.path}`
    // After a reopening that failed there is nothing to close: its error stands.
    if (db.opening.current instanceof ChainStore.StoreError) return yield* db.opening.current
    const closed = db.opening.current.env
    db.opening.current = storeError(operation, "it is being reopened")
    db.opening.env = undefined
    const closing = yield* Effect.result(closeEnv(db.path, closed))
    if (Result.isFailure(closing)) {
      // Left for the scope to close again; every later use fails with why it could not be closed.
      db.opening.current = closing.failure
      db.opening.env = closed
      return yield* closing.failure
    }
    const reopened = yield* Effect.result(attempt(operation, () => openTables(openEnv(db.path, db.readOnly), db.readOnly, db.layout)))
    if (Result.isFailure(reopened)) {
      db.opening.current = reopened.failure
      return yield* reopened.failure
    }
    db.opening.current = reopened.success
    db.opening.env = reopened.success.env
  })

/**
 * Opens the datadir at `path`, closing it with the scope. Without an environment (no data file,
 * or an empty one), it is an EmptyDatadir and nothing is created, unless `access` is `create`;
 * files the system will not let be read make it DatadirUnreadable, a layout this build does not
 * know UnknownLayout, a hash index that does not check out a StoreError. A datadir of an older
 * layout is opened as it is: LayoutMigration migrates it, and builds a missing index.
 */
export const open = (
  path: string,
  access: Access
): Effect.Effect<ChainDb, EmptyDatadir | DatadirUnreadable | UnknownLayout | ChainStore.StoreError, Scope.Scope> =>
  Effect.gen(function*() {
    const size = (yield* dataFileSize(path)) ?? 0
    if (size === 0 && access !== "create") return yield* new EmptyDatadir({ path })
    if (size > 0) yield* checkLmdb(path)
    const readOnly = access === "read"
    const { opening, env } = yield* Effect.acquireRelease(
      attempt(`open datadir ${path}`, () => {
        const env = openEnv(path, readOnly)
        const opening: Opening = { env, current: storeError(`open datadir ${path}`, "its layout is not read yet") }
        return { opening, env }
      }),
      ({ opening }) => opening.env === undefined ? Effect.void : Effect.ignore(closeEnv(path, opening.env), { log: true })
    )
    const layout = yield* attempt(`open datadir ${path}`, () => storedLayout(path, openMeta(env)))
    if (layout instanceof UnknownLayout) return yield* layout
    opening.current = yield* attempt(`open datadir ${path}`, () => openTables(env, readOnly, layout))
    const index = layout === 3 ? yield* HashIndex.open(path, readOnly) : undefined
    const opened = view(path, readOnly, layout, opening, index)
    // Only a writer rebuilds a lost index (LayoutMigration): a reader would find no block by its hash.
    const lost = layout === 3 && index === undefined && readOnly &&
      (yield* attempt(`open datadir ${path}`, () => metaHash(opened, "genesis") !== undefined))
    if (!lost) return opened
    return yield* new ChainStore.StoreError({
      operation: `open datadir ${path}`,
      reason: `its hash index ${HashIndex.fileName} is missing (opening the datadir to write, as import does, rebuilds it)`
    })
  })

/** The StoreError of a write to a datadir opened to read. */
const readOnlyError = (db: ChainDb): ChainStore.StoreError =>
  new ChainStore.StoreError({ operation: `write to datadir ${db.path}`, reason: "it is open for reading only" })

/**
 * Runs `f` in one write transaction: all of its writes land, or none (also when it throws).
 * Throws a StoreError on a datadir opened to read. The commit and its flush to disk block the
 * event loop until they are done.
 */
export const transaction = <A>(db: ChainDb, f: () => A): A => {
  if (db.readOnly) throw readOnlyError(db)
  return db.env.transactionSync(f)
}

/**
 * Runs `f` in one write transaction whose commit and flush to disk happen on lmdb-js's write
 * thread, so other fibers run meanwhile: all of `f`'s writes land, or none (also when it throws;
 * a child transaction, since the write thread's transaction may hold other writes). Succeeds with
 * what `f` returned once the transaction is flushed: durable, like `transaction`. `f` itself runs
 * on the main thread, when the write thread is ready for it.
 */
export const transactionFlushed = <A>(db: ChainDb, operation: string, f: () => A): Effect.Effect<A, ChainStore.StoreError> =>
  db.readOnly
    ? Effect.fail(readOnlyError(db))
    : Effect.tryPromise({
      try: async () => {
        const result = await db.env.childTransaction(f)
        // The commit resolves once visible; `flushed` once it and every write before it are on disk.
        await db.env.flushed
        return result
      },
      catch: (error) => storeError(operation, error)
    })

/** Throws the StoreError of a stored record that does not decode. */
const corrupt = (what: string, hash: Hash.Hash, reason: string): never => {
  throw new ChainStore.StoreError({ operation: `read ${what} ${Hash.toHex(hash)}`, reason: `stored record is corrupt: ${reason}` })
}

/** A record key from its number part (8 bytes big-endian) and the block's hash. */
const joinKey = (number: Uint8Array, hash: Hash.Hash): Uint8Array => {
  const key = new Uint8Array(BlockNumberBytes.length + hash.length)
  key.set(number)
  key.set(hash, BlockNumberBytes.length)
  return key
}

/**
 * The key of a block's records in `blocks` and `tds`: its number, 8 bytes big-endian, then its
 * hash, so that a chain's records lie in the order of its heights.
 */
export const recordKey = (number: number, hash: Hash.Hash): Uint8Array => {
  const key = new Uint8Array(BlockNumberBytes.length + hash.length)
  BlockNumberBytes.write(key, 0, number)
  key.set(hash, BlockNumberBytes.length)
  return key
}

/** The record key of a stored block among the index's candidates for its hash, each confirmed in `blocks`. */
const confirmed = (db: ChainDb, index: HashIndex.HashIndex, hash: Hash.Hash): Uint8Array | undefined => {
  for (const number of HashIndex.lookup(index, hash)) {
    const key = recordKey(number, hash)
    if (db.blocks.doesExist(key)) return key
  }
  return undefined
}

/**
 * The key of a stored block's records, found through the hash index (layout 3) or the `numbers`
 * table (layout 2), undefined when it is not stored; in a layout-1 datadir, a block the table
 * does not have may be stored under its hash alone. A miss in the hash index looks again once in
 * the index file another process's doubling put in its place meanwhile.
 */
const keyOf = (db: ChainDb, hash: Hash.Hash): Uint8Array | undefined => {
  if (db.layout === 3) {
    if (db.index === undefined) return undefined
    const key = confirmed(db, db.index, hash)
    return key === undefined && HashIndex.refresh(db.index) ? confirmed(db, db.index, hash) : key
  }
  const number = db.numbers?.get(hash)
  if (number === undefined) return db.layout === 1 ? hash : undefined
  return joinKey(number, hash)
}

/**
 * The key of a block's records when it is at height `number` (if given: its hash commits to its
 * number, so a block stored elsewhere is not this block), read without the index except in a
 * layout-1 datadir; else found by hash alone (`keyOf`).
 */
const keyAt = (db: ChainDb, hash: Hash.Hash, number: number | undefined): Uint8Array | undefined =>
  number === undefined || db.layout === 1 ? keyOf(db, hash) : recordKey(number, hash)

/** Whether a block is stored. */
export const has = (db: ChainDb, hash: Hash.Hash): boolean =>
  db.layout === 3
    ? keyOf(db, hash) !== undefined
    : db.numbers?.get(hash) !== undefined || (db.layout === 1 && db.tds.get(hash) !== undefined)

/** The stored RLP of a block, if stored (at height `number`, when given): the bytes as they were written, not decoded. */
const blockRlp = (db: ChainDb, hash: Hash.Hash, number?: number): Uint8Array | undefined => {
  const key = keyAt(db, hash, number)
  return key && db.blocks.get(key)
}

/** The stored RLP of the canonical block at a height (found at that height, without the hash index). */
export const canonicalBlockRlp = (db: ChainDb, number: number): Uint8Array | undefined => {
  const hash = canonicalHash(db, number)
  return hash === undefined ? undefined : blockRlp(db, hash, number)
}

/** A stored block, decoded. */
export const block = (db: ChainDb, hash: Hash.Hash): Block.Block | undefined => {
  const rlp = blockRlp(db, hash)
  if (rlp === undefined) return undefined
  const decoded = Block.decode(rlp)
  return Result.isSuccess(decoded) ? decoded.success : corrupt("block", hash, decoded.failure.message)
}

/** The items of a stored block's RLP list (header, transactions, uncles), found without decoding them. */
const blockItems = (rlp: Uint8Array, hash: Hash.Hash): Array<Rlp.Item> => {
  const item = Rlp.readSingle(rlp)
  const parts = item instanceof Rlp.RlpError || !item.isList ? undefined : Rlp.readList(rlp, item)
  return parts === undefined || parts instanceof Rlp.RlpError || parts.length !== 3
    ? corrupt("block", hash, "not a list of header, transactions and uncles")
    : parts
}

/** Decodes the header item of a stored block. */
const decodeHeader = (rlp: Uint8Array, item: Rlp.Item, hash: Hash.Hash): Header.Header => {
  const decoded = Header.decodeItem(rlp, item, "header")
  return decoded instanceof Header.Header ? decoded : corrupt("header of block", hash, decoded.message)
}

/** The header of a block's stored RLP, decoded without its body. */
export const headerOf = (rlp: Uint8Array, hash: Hash.Hash): Header.Header => decodeHeader(rlp, blockItems(rlp, hash)[0]!, hash)

/** The header of a stored block (at height `number`, when given), decoded without its body. */
export const header = (db: ChainDb, hash: Hash.Hash, number?: number): Header.Header | undefined => {
  const rlp = blockRlp(db, hash, number)
  return rlp === undefined ? undefined : headerOf(rlp, hash)
}

/**
 * The header item of a stored block's RLP and the end of the block's list, found without reading
 * the items after the header: the body's, as they are.
 */
const headerItem = (rlp: Uint8Array, hash: Hash.Hash): { readonly header: Rlp.Item; readonly end: number } => {
  const block = Rlp.readItem(rlp, 0)
  if (block instanceof Rlp.RlpError || !block.isList) return corrupt("block", hash, "not a list")
  const header = Rlp.readItem(rlp, block.payloadStart, block.end)
  return header instanceof Rlp.RlpError || !header.isList
    ? corrupt("block", hash, "its first item is not a header")
    : { header, end: block.end }
}

/** The stored RLP of a block in LMDB's read buffer, not copied: valid only until the next read. */
const readBuffered = (db: ChainDb, hash: Hash.Hash): Uint8Array | undefined => {
  const key = keyOf(db, hash)
  return key && db.blocks.getBinaryFast(key)
}

/** Bytes of a header, about: what the buffer of {@link headerRlps} starts with for each. */
const headerBytes = 540

/**
 * The header RLPs of the stored blocks among `ids`, in order (unknown ones skipped), each a view
 * into one new buffer: cut out of LMDB's read buffer, the rest of each block neither copied nor
 * decoded. In layout 2 each is read by its record key, without the `numbers` index (a hash stored
 * under another number is not found); in layout 1 by its hash.
 */
export const headerRlps = (db: ChainDb, ids: ReadonlyArray<ChainStore.BlockId>): Array<Uint8Array> => {
  let out = new Uint8Array(ids.length * headerBytes)
  const ends: Array<number> = []
  let at = 0
  for (const { number, hash } of ids) {
    const rlp = db.layout === 1 ? readBuffered(db, hash) : db.blocks.getBinaryFast(recordKey(number, hash))
    if (rlp === undefined) continue
    const header = Rlp.raw(rlp, headerItem(rlp, hash).header)
    if (at + header.length > out.length) {
      const grown = new Uint8Array(Math.max(2 * out.length, at + header.length))
      grown.set(out.subarray(0, at))
      out = grown
    }
    out.set(header, at)
    at += header.length
    ends.push(at)
  }
  return ends.map((end, i) => out.subarray(i === 0 ? 0 : ends[i - 1]!, end))
}

/** Bytes the buffer of a {@link blockReader} starts with: a GetBlocks answer of 128 of the early mainnet's blocks. */
const firstReaderBytes = 128 * 1024

/**
 * A read of stored block RLPs by hash for one answer (forks included; undefined for a block not
 * stored), which a request naming consecutive blocks, as a sync's do, costs one LMDB read a
 * block: each hash is looked for first at the height after the block read before it (its record
 * key names the hash, so a record found is that block), and only when it is not there through the
 * hash index. Each RLP is copied out of LMDB's read buffer into one buffer the reads share (a new
 * one when it is full: what was given stays as it is), not into a buffer of its own.
 */
export const blockReader = (db: ChainDb): ((hash: Hash.Hash) => Uint8Array | undefined) => {
  /** The height the next hash is looked for at first: after the last block read (never set in layout 1, keyed by hash). */
  let next: number | undefined
  /** Where the RLPs read are copied to (made by the first block found: an answer of unknown hashes allocates nothing). */
  let buffer = new Uint8Array(0)
  /** Bytes of `buffer` given out. */
  let used = 0
  /**
   * A copy of `rlp` (LMDB's read buffer, valid until the next read, whose `length` lmdb-js sets to
   * the record's while the buffer itself may be longer) in the shared buffer.
   */
  const keep = (rlp: Uint8Array): Uint8Array => {
    const length = rlp.length
    if (used + length > buffer.length) {
      buffer = new Uint8Array(Math.max(firstReaderBytes, 2 * buffer.length, length))
      used = 0
    }
    buffer.set(rlp.subarray(0, length), used)
    used += length
    return buffer.subarray(used - length, used)
  }
  return (hash) => {
    if (next !== undefined) {
      const guessed = db.blocks.getBinaryFast(recordKey(next, hash))
      if (guessed !== undefined) {
        next += 1
        return keep(guessed)
      }
    }
    const key = keyOf(db, hash)
    if (key === undefined) return undefined
    const rlp = db.blocks.getBinaryFast(key)
    if (rlp === undefined) return undefined
    if (db.layout !== 1) next = BlockNumberBytes.read(key, 0) + 1
    return keep(rlp)
  }
}

/** The body RLP, `[transactions, uncles]`, of a stored block: its stored items in a new list, not decoded. */
export const bodyRlp = (db: ChainDb, hash: Hash.Hash): Uint8Array | undefined => {
  const rlp = readBuffered(db, hash)
  if (rlp === undefined) return undefined
  const { header, end } = headerItem(rlp, hash)
  return Rlp.encodeList([rlp.subarray(header.end, end)])
}

/**
 * A stored block (at height `number`, when given) as the uncle rules see an ancestor: its header,
 * and its uncles' hash keys hashed from their stored bytes (neither its transactions nor its
 * uncles are decoded).
 */
export const ancestor = (db: ChainDb, hash: Hash.Hash, number?: number): UncleRules.Ancestor | undefined => {
  const rlp = blockRlp(db, hash, number)
  if (rlp === undefined) return undefined
  const [headerItem, , uncleList] = blockItems(rlp, hash)
  const uncleItems = uncleList!.isList ? Rlp.readList(rlp, uncleList!) : undefined
  if (uncleItems === undefined || uncleItems instanceof Rlp.RlpError) return corrupt("uncles of block", hash, "not a list")
  return {
    header: decodeHeader(rlp, headerItem!, hash),
    uncles: uncleItems.map((uncle) => Hash.key(Hash.keccak(Rlp.raw(rlp, uncle))))
  }
}

/** The total difficulty of a stored block (at height `number`, when given). */
export const td = (db: ChainDb, hash: Hash.Hash, number?: number): bigint | undefined => {
  const key = keyAt(db, hash, number)
  const text = key && db.tds.get(key)
  return text === undefined ? undefined : BigInt(text)
}

/** The canonical block hash at a height. */
export const canonicalHash = (db: ChainDb, number: number): Hash.Hash | undefined => {
  const hash = db.canonical.get(number)
  return hash === undefined ? undefined : Hash.makeUnsafe(hash)
}

/**
 * The canonical hashes of the heights from `first` up to before `end` that exist, ascending, in
 * one range read of the index (its entries run without a gap from 0 to the head).
 */
export const canonicalHashes = (db: ChainDb, first: number, end: number): Array<Hash.Hash> => {
  const hashes: Array<Hash.Hash> = []
  const start = Math.max(first, 0)
  if (end <= start) return hashes
  for (const { value } of db.canonical.getRange({ start, end })) hashes.push(Hash.makeUnsafe(value))
  return hashes
}

/** A hash kept in `meta`. */
export const metaHash = (db: ChainDb, key: MetaKey): Hash.Hash | undefined => {
  const hash = db.meta.get(key)
  return hash === undefined ? undefined : Hash.makeUnsafe(hash)
}

/**
 * Stores a block's RLP and its total difficulty (decimal text) under its number and hash unless
 * the block is stored already (inside a transaction); returns whether it was new. In layout 3 the
 * caller has put the block in the hash index before; in the layouts before it (LayoutMigration's
 * move from layout 1 to 2), its number goes into the `numbers` table. LMDB finds out whether it
 * is new as it writes (MDB_NOOVERWRITE), so no read is spent on it: lmdb-js's `putSync` returns
 * whether it stored, as its README says, though its type declarations say void.
 */
export const putNewRecords = (db: ChainDb, number: number, hash: Hash.Hash, rlp: Uint8Array, tdText: string): boolean => {
  const key = recordKey(number, hash)
  if (db.layout === 3) {
    const fresh: unknown = db.blocks.putSync(key, rlp, { noOverwrite: true })
    if (fresh !== true) return false
  } else {
    if (db.numbers === undefined) throw readOnlyError(db)
    const fresh: unknown = db.numbers.putSync(hash, key.subarray(0, BlockNumberBytes.length), { noOverwrite: true })
    if (fresh !== true) return false
    db.blocks.putSync(key, rlp)
  }
  db.tds.putSync(key, tdText)
  return true
}

/** Stores a block and its total difficulty unless the block is stored already (inside a transaction); returns whether it was new. */
export const putNewBlock = (db: ChainDb, stored: Block.Block, totalDifficulty: bigint): boolean =>
  putNewRecords(db, stored.number, stored.hash, stored.rlp, totalDifficulty.toString())

/**
 * Puts blocks in the datadir's hash index and syncs it to disk (layout 3), inside the transaction
 * that stores them and before it stores them: under the write lock, so that no other process
 * writes the index meanwhile, and a committed block always has its entry. Throws a StoreError
 * when the datadir has no index open to write (it was opened to read, or not migrated).
 */
export const indexBlocks = (db: ChainDb, ids: ReadonlyArray<ChainStore.BlockId>): void => {
  if (db.readOnly) throw readOnlyError(db)
  if (db.index === undefined) {
    throw new ChainStore.StoreError({ operation: `index blocks of datadir ${db.path}`, reason: "it has no hash index (not migrated)" })
  }
  HashIndex.add(db.index, ids)
}

/** Records the datadir's layout, the current one unless said (inside a transaction). */
export const putLayout = (db: ChainDb, layout: Layout = currentLayout): void => {
  db.meta.putSync(layoutKey, new TextEncoder().encode(String(layout)))
}

/** Sets the canonical hash at a height (inside a transaction). */
export const putCanonical = (db: ChainDb, number: number, hash: Hash.Hash): void => {
  db.canonical.putSync(number, hash)
}

/** Removes the canonical hash at a height (inside a transaction). */
export const removeCanonical = (db: ChainDb, number: number): void => {
  db.canonical.removeSync(number)
}

/** Sets a hash kept in `meta` (inside a transaction). */
export const putMetaHash = (db: ChainDb, key: MetaKey, hash: Hash.Hash): void => {
  db.meta.putSync(key, hash)
}
