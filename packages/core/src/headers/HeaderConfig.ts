/**
 * The header-first engine's own constants (go-ethereum's values as defaults), as a service so that
 * tests shrink them. What both engines share (timeouts, round-trip target, slow-peer factor, import
 * chunk, unrequested-reply limit) stays in DownloaderConfig.
 *
 * @since 0.3.0
 */
import { Context } from "effect"

/** Every tunable of the header-first engine. */
export interface Config {
  /** Headers per fill request, and the distance between two skeleton headers (go-ethereum's MaxHeaderFetch). */
  readonly maxHeaderFetch: number
  /** Skeleton headers asked for at once (go-ethereum's MaxSkeletonSize). */
  readonly maxSkeletonSize: number
  /** Most bodies per body request (go-ethereum's MaxBlockFetch): a peer's capacity never exceeds it. */
  readonly maxBodyFetch: number
  /**
   * Fill requests out with one peer at once: two keep it serving the next while its last is
   * checked; more put a slow peer's later fills behind the earlier ones on its link, nearer their
   * deadline (go-ethereum had one).
   */
  readonly fillsPerPeer: number
  /**
   * The memory bound: a fill is asked for only when it starts within this many heights of the last
   * block handed to the importer, so headers fetched or asked for and not yet handed over stay
   * within this plus one segment (bodies only ever belong to such headers); with the batch the
   * importer holds and the skeleton's anchors, a sync holds at most about twice this many blocks.
   */
  readonly window: number
}

/** go-ethereum's values, two fills out per peer, and a window of 4096 blocks (a few MiB of Frontier blocks). */
export const defaults: Config = {
  maxHeaderFetch: 192,
  maxSkeletonSize: 128,
  maxBodyFetch: 128,
  fillsPerPeer: 2,
  window: 4096
}

/** The configuration in force; the defaults unless provided otherwise. */
export const HeaderConfig = Context.Reference<Config>("@ethsync/core/HeaderConfig", { defaultValue: () => defaults })
