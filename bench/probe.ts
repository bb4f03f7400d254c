import { Effect } from "effect"
import { DownloaderConfig } from "@ethsync/core"
import * as NetworkSync from "./NetworkSync.ts"
const file = "/work/shared/data/mainnet-0-8191.rlp"
const n = Number(process.argv[2] ?? 1)
const configs: Record<string, DownloaderConfig.Config> = {
  seed: DownloaderConfig.seed,
  p512c2048: { ...DownloaderConfig.seed, maxBlockProcess: 512, blockCacheLimit: 2048 },
  p1024c2048: { ...DownloaderConfig.seed, maxBlockProcess: 1024, blockCacheLimit: 2048 },
}
Effect.runPromise(Effect.scoped(Effect.gen(function*() {
  const servers = yield* NetworkSync.startServers(file, n)
  yield* NetworkSync.run(servers)
  for (let i = 0; i < 4; i++) for (const [name, config] of Object.entries(configs)) {
    (globalThis as any).probe = []
    const r = yield* Effect.provideService(NetworkSync.run(servers), DownloaderConfig.DownloaderConfig, config)
    const p = (globalThis as any).probe as Array<[number, string, number]>
    const summary: Record<string, { count: number; sum: number }> = {}
    for (const [, k, v] of p) { summary[k] ??= { count: 0, sum: 0 }; summary[k].count++; summary[k].sum = Math.round(summary[k].sum + v) }
    if (i === 3 && name === "p1024c2048") { const t0 = p[0]![0]; for (const [t, k, v] of p.sort((a, b) => a[0] - b[0])) console.log((t - t0).toFixed(1), k, v.toFixed(1)) }
    console.log(name, Math.round(r.ms), JSON.stringify(summary), (globalThis as any).process.getActiveResourcesInfo().length)
  }
})))
