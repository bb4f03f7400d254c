/**
 * Subprotocol capabilities (`eth/61`, …) and how two hellos agree on them: for each name the
 * highest version both sides offer, and message codes laid out from 0x10 in the order of the
 * shared capabilities sorted by name, each taking as many codes as its protocol defines.
 *
 * @since 0.2.0
 */

/** A capability a hello names: a protocol and a version. */
export interface Named {
  /** The protocol's name, e.g. "eth". */
  readonly name: string
  /** The protocol's version, e.g. 61. */
  readonly version: number
}

/** A capability we speak: also how many message codes it takes. */
export interface Capability extends Named {
  /** The number of message codes the protocol defines (eth/61: 9, eth/60: 8). */
  readonly length: number
}

/** A capability both sides speak, with where its codes start on this connection. */
export interface Shared extends Capability {
  /** The wire code of its message 0. */
  readonly offset: number
}

/** The first wire code of subprotocol messages (0x00..0x0f belong to p2p). */
export const firstOffset = 0x10

/** The capabilities both sides speak, at their highest shared version, with their code offsets. */
export const match = (ours: ReadonlyArray<Capability>, theirs: ReadonlyArray<Named>): ReadonlyArray<Shared> => {
  const best = new Map<string, Capability>()
  for (const capability of ours) {
    const offered = theirs.some((t) => t.name === capability.name && t.version === capability.version)
    const current = best.get(capability.name)
    if (offered && (current === undefined || capability.version > current.version)) best.set(capability.name, capability)
  }
  const shared: Array<Shared> = []
  let offset = firstOffset
  for (const name of [...best.keys()].sort()) {
    const capability = best.get(name)!
    shared.push({ ...capability, offset })
    offset += capability.length
  }
  return shared
}

/** The shared capability that owns wire code `code`, if any. */
export const owner = (shared: ReadonlyArray<Shared>, code: number): Shared | undefined =>
  shared.find((capability) => code >= capability.offset && code < capability.offset + capability.length)
