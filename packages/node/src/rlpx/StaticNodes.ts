/**
 * `static-nodes.json`, as go-ethereum reads it from its datadir: a JSON array of enode URLs of
 * the peers to keep connected to.
 *
 * @since 0.2.0
 */
import { Data, Effect, FileSystem } from "effect"
import * as FileFailure from "../FileFailure.ts"
import * as Enode from "./Enode.ts"

/** A static-nodes file that cannot be read or is not a JSON array of enode URLs. */
export class StaticNodesError extends Data.TaggedError("StaticNodesError")<{
  /** The file. */
  readonly path: string
  /** What is wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `static nodes file ${this.path}: ${this.reason}`
  }
}

/** The file name go-ethereum looks for in the datadir. */
export const fileName = "static-nodes.json"

/** Parses the text of a static-nodes file; the error names the first bad entry. */
export const parse = (path: string, text: string): ReadonlyArray<Enode.Enode> | StaticNodesError => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    return new StaticNodesError({ path, reason: `not JSON (${error instanceof Error ? error.message : String(error)})` })
  }
  if (!Array.isArray(json)) return new StaticNodesError({ path, reason: "not a JSON array" })
  const nodes: Array<Enode.Enode> = []
  for (const [index, entry] of json.entries()) {
    if (typeof entry !== "string") return new StaticNodesError({ path, reason: `entry ${index} is not a string` })
    const node = Enode.parse(entry)
    if (node instanceof Enode.EnodeUrlError) return new StaticNodesError({ path, reason: `entry ${index}: ${node.reason}` })
    nodes.push(node)
  }
  return nodes
}

/** Reads a static-nodes file; a missing file is no static nodes, as for go-ethereum. */
export const read = (path: string): Effect.Effect<ReadonlyArray<Enode.Enode>, StaticNodesError, FileSystem.FileSystem> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(path).pipe(
      Effect.catchTag("PlatformError", (error) =>
        error.reason._tag === "NotFound"
          ? Effect.succeed("[]")
          : Effect.fail(new StaticNodesError({ path, reason: FileFailure.describe(error) })))
    )
    const nodes = parse(path, text)
    return nodes instanceof StaticNodesError ? yield* nodes : nodes
  })
