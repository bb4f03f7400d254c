/**
 * The skeleton's requests stay within what every server answers: the EthereumJS client answers
 * nothing to a GetBlockHeaders whose `origin + amount * skip` passes its head, so the skeleton
 * never asks for that, and what it leaves out goes into the last segment, up to the head.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Genesis from "../../src/chain/Genesis.ts"
import { Skeleton } from "../../src/headers/internal/Skeleton.ts"
import { chain } from "../support/chain.ts"

describe("Skeleton", () => {
  const blocks = [Genesis.mainnet, ...chain(Genesis.mainnet, 1024)]
  const header = (number: number) => blocks[number]!.header

  it("asks from 192 for 4 headers, not 5, under a head at 1024 (192 + 5 * 191 would pass it)", () => {
    const skeleton = new Skeleton(header(0), header(1024), 192)
    const request = skeleton.request(128)!
    expect(request).toEqual({ origin: 192, amount: 4, skip: 191, reverse: false })
    expect(192 + request.amount * request.skip).toBeLessThanOrEqual(1024)
  })

  it("closes with a last segment from the last skeleton header to the head once no further one can be asked for", () => {
    const skeleton = new Skeleton(header(0), header(1024), 192)
    expect(skeleton.add(skeleton.request(128)!, [192, 384, 576, 768].map(header))).toBeUndefined()
    expect(skeleton.complete).toBe(true)
    expect(skeleton.request(128)).toBeUndefined()
    expect(skeleton.segments.map((segment) => [segment.from, segment.to])).toEqual([[1, 192], [193, 384], [385, 576], [577, 768], [769, 1024]])
  })

  it("far below the head it asks for the whole batch", () => {
    const skeleton = new Skeleton(header(0), header(1024), 4)
    expect(skeleton.request(128)).toEqual({ origin: 4, amount: 128, skip: 3, reverse: false })
  })
})
