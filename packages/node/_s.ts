import { readFileSync } from "node:fs"
import { Block, RlpSplitter } from "@ethsync/core"
import { Effect, Result } from "effect"
import * as EthashVerifier from "./src/seal/EthashVerifier.ts"
const bytes = new Uint8Array(readFileSync("/work/shared/data/mainnet-0-8191.rlp"))
const blocks = [...RlpSplitter.items(bytes)].map((i) => { const d = Block.decode(i); if (Result.isFailure(d)) throw 1; return d.success })
const headers = blocks.slice(1).flatMap((b) => [b.header, ...b.uncles])
let t = performance.now()
const lap = (what: string) => { const n = performance.now(); console.log(what, Math.round(n - t)); t = n }
Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  const v = yield* EthashVerifier.make({ datadir: process.argv[2], workers: Number(process.argv[3]) })
  lap("spawn")
  yield* v.verify(headers.slice(0, 1))
  lap("first (cache)")
  const r = yield* v.verify(headers)
  lap("all " + headers.length)
  console.log("bad", r.filter((x) => x !== undefined).length)
}))).then(() => lap("closed"))
