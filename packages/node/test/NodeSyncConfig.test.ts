/**
 * The node commands' sync settings: the hash-chain sync's batches, and the header-first engine's
 * request sizes as large as ethsync's own server answers.
 */
import { describe, expect, it } from "@effect/vitest"
import { DownloaderConfig, HeaderConfig } from "@ethsync/core"
import { Effect } from "effect"
import * as HeaderFirstServing from "../src/eth/HeaderFirstServing.ts"
import * as NodeSyncConfig from "../src/NodeSyncConfig.ts"

describe("NodeSyncConfig.provide", () => {
  it.effect("commits 1,024 blocks at a time and asks header-first for as many headers and bodies as ethsync serves", () =>
    Effect.gen(function*() {
      const [config, settings] = yield* NodeSyncConfig.provide(Effect.all([DownloaderConfig.DownloaderConfig, HeaderConfig.HeaderConfig]))
      expect(config.importBatch).toBe(1024)
      expect(settings.maxHeaderFetch).toBe(HeaderFirstServing.maxHeaders)
      expect(settings.maxBodyFetch).toBe(HeaderFirstServing.maxBodies)
      // The rest stays what is in force.
      expect(settings.window).toBe(HeaderConfig.defaults.window)
      expect(settings.maxSkeletonSize).toBe(HeaderConfig.defaults.maxSkeletonSize)
    }))
})
