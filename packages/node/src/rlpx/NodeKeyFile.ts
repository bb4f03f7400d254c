/**
 * The node key on disk: 64 hex digits (as go-ethereum's `nodekey`), mode 0600. Kept in the
 * datadir and generated on first use, so a node keeps its identity across restarts; or read
 * from a file the user names.
 *
 * @since 0.2.0
 */
import { Hex } from "@ethsync/core"
import { Data, Effect, FileSystem, Result } from "effect"
import * as FileFailure from "../FileFailure.ts"
import * as NodeKey from "./NodeKey.ts"

/** A node-key file that cannot be read, written, or does not hold a valid key. */
export class NodeKeyFileError extends Data.TaggedError("NodeKeyFileError")<{
  /** The file. */
  readonly path: string
  /** What is wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `node key file ${this.path}: ${this.reason}`
  }
}

/** The file name of the node key in a datadir. */
export const fileName = "nodekey"

/** Parses the text of a node-key file (64 hex digits, surrounding whitespace allowed). */
export const parse = (path: string, text: string): NodeKey.NodeKey | NodeKeyFileError => {
  const hex = text.trim()
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    return new NodeKeyFileError({ path, reason: `expected 64 hex digits, found ${hex.length} characters` })
  }
  return NodeKey.fromSecret(Hex.toBytes(hex)!) ??
    new NodeKeyFileError({ path, reason: "the number is not a valid secp256k1 private key" })
}

/** Reads the key from an existing file. */
export const read = (path: string): Effect.Effect<NodeKey.NodeKey, NodeKeyFileError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.mapError((error) => new NodeKeyFileError({ path, reason: FileFailure.describe(error) }))
    )
    const key = parse(path, text)
    return key instanceof NodeKeyFileError ? yield* key : key
  })

/**
 * Writes a new key to `path` whole or not at all, with mode 0600: into a file of this process's
 * own first, then linked to `path`, so that a process killed while writing leaves no partial
 * key that would stop every later start. A key another process made first is kept, and read.
 * On a file system without hard links (FAT) the file is renamed instead, which would replace a
 * key another process made at the same moment.
 */
const create = (path: string): Effect.Effect<NodeKey.NodeKey, NodeKeyFileError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const key = NodeKey.generate()
    const partial = `${path}.partial-${process.pid}`
    const linked = yield* fs.writeFileString(partial, Hex.fromBytes(key.secret).slice(2), { mode: 0o600 }).pipe(
      Effect.andThen(fs.link(partial, path).pipe(
        Effect.catchIf((error) => error.reason._tag !== "AlreadyExists", () => fs.rename(partial, path))
      )),
      Effect.result,
      Effect.ensuring(Effect.ignore(fs.remove(partial, { force: true })))
    )
    if (Result.isSuccess(linked)) return key
    if (linked.failure.reason._tag === "AlreadyExists") return yield* read(path)
    return yield* new NodeKeyFileError({ path, reason: `cannot write it: ${FileFailure.describe(linked.failure)}` })
  })

/** Reads the key from `path`, or, when there is no such file, generates one and writes it there with mode 0600. */
export const loadOrCreate = (path: string): Effect.Effect<NodeKey.NodeKey, NodeKeyFileError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const exists = yield* fs.exists(path).pipe(
      Effect.mapError((error) => new NodeKeyFileError({ path, reason: FileFailure.describe(error) }))
    )
    return yield* exists ? read(path) : create(path)
  })
