/**
 * The node commands' sync settings: the hash-chain sync's batches and the four block requests it
 * keeps open with a peer (against a scripted eth/60 peer on TestClock: four of 128 out before it
 * answers any, half of a 1,024-block commit, so that a peer keeps serving while a batch is stored,
 * and no fifth), and the header-first engine's request sizes as large as ethsync's own server answers.
 */
import { describe, expect, it } from "@effect/vitest"
import { DownloaderConfig, HeaderConfig } from "@ethsync/core"
import { HashList, TestChain } from "@ethsync/testkit"
import { Harness, type ScriptedPeer } from "@ethsync/testkit/harness"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as HeaderFirstServing from "../src/eth/HeaderFirstServing.ts"
import * as NodeSyncConfig from "../src/NodeSyncConfig.ts"

/** Whether a request is for downloads (not the one-block cross-check of a hash batch). */
const isDownload = (request: ScriptedPeer.Request) => request._tag === "Blocks" && request.hashes.length > 1

describe("the node commands' sync configuration", () => {
  it.effect("keeps four block requests of 128 open with a peer that has answered none, and asks no fifth", () =>
    Effect.gen(function*() {
      const h = yield* Harness.make({ config: NodeSyncConfig.of(DownloaderConfig.seed) })
      const chain = yield* TestChain.make(1024)
      const p = yield* h.addScripted("p", chain.head.hash)
      yield* h.start(p.id, chain.head.hash)
      expect((yield* p.next)._tag).toBe("Hashes")
      yield* p.sendHashes(HashList.toArray(chain.hashes).slice(1))
      const downloads: Array<ScriptedPeer.Request> = []
      while (downloads.length < 4) {
        const request = yield* p.next
        if (isDownload(request)) downloads.push(request)
      }
      expect(downloads.map((request) => request._tag === "Blocks" && request.hashes.length)).toEqual([128, 128, 128, 128])
      const asked = p.log.length
      yield* TestClock.adjust("1 second")
      expect(p.log.length).toBe(asked)
    }))

  it.effect("commits 1,024 blocks at a time and asks header-first for as many headers and bodies as ethsync serves", () =>
    Effect.gen(function*() {
      const [config, settings] = yield* NodeSyncConfig.provide(Effect.all([DownloaderConfig.DownloaderConfig, HeaderConfig.HeaderConfig]))
      expect(config.importBatch).toBe(1024)
      expect(settings.maxHeaderFetch).toBe(HeaderFirstServing.maxHeaders)
      expect(settings.maxBodyFetch).toBe(HeaderFirstServing.maxBodies)
      expect(settings.fillsPerPeer).toBe(4)
      // The rest stays what is in force.
      expect(settings.window).toBe(HeaderConfig.defaults.window)
      expect(settings.maxSkeletonSize).toBe(HeaderConfig.defaults.maxSkeletonSize)
    }))
})
