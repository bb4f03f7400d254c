import { Ethash } from "@ethsync/core"
import { sealedHeaders } from "./Seals.ts"
import * as W from "../packages/core/src/chain/ethash/Wasm.ts"
const headers = sealedHeaders("/work/shared/data/mainnet-0-8191.rlp").slice(0, 1600)
const input = new Int32Array(headers.length * 10)
headers.forEach((h, i) => Ethash.Seal.writeInput(h, input, i * 10))
const cache = Ethash.Cache.make(0)
const output = new Int32Array(headers.length * 16)
const t = performance.now()
W.hashimoto(cache.words, cache.rows, cache.datasetRows, input, output)
console.log(process.argv[2], "in-thread seals/s", Math.round(headers.length / (performance.now() - t) * 1000), "bad", headers.filter((h, i) => Ethash.Seal.judge(h, output, i * 16)).length)
