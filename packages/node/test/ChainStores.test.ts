/**
 * The memory store and the LMDB store through the same behavioural checks.
 */
import { MemoryChainStore } from "@ethsync/core"
import { Effect } from "effect"
import * as Path from "node:path"
import * as LmdbChainStore from "../src/LmdbChainStore.ts"
import * as StoreBehaviour from "./StoreBehaviour.ts"
import * as TempDir from "./TempDir.ts"

StoreBehaviour.suite("MemoryChainStore", (genesis, verifier) => Effect.succeed(MemoryChainStore.make(genesis, verifier)))

StoreBehaviour.suite("LmdbChainStore", (genesis, verifier) =>
  Effect.flatMap(TempDir.make, (dir) => LmdbChainStore.make({ path: Path.join(dir, "datadir"), genesis, verifier })))
