/**
 * How the downloader disconnects a peer it caught misbehaving: the transport's job, so a service.
 *
 * @since 0.1.0
 */
import { Context, type Effect } from "effect"

/** Disconnects peers. */
export class PeerDropper extends Context.Service<PeerDropper, {
  /** Disconnects `peer`, saying why. */
  readonly drop: (peer: string, reason: string) => Effect.Effect<void>
}>()("@ethsync/core/PeerDropper") {}
