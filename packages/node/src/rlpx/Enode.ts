/**
 * `enode://<128 hex>@host:port` URLs: where a node listens and which key it must prove it holds.
 * Parsed strictly (a tagged error says what is wrong) and formatted back.
 *
 * @since 0.2.0
 */
import { Hex } from "@ethsync/core"
import { Data } from "effect"
import { isIP } from "node:net"
import * as NodeKey from "./NodeKey.ts"

/** A node to dial: its id and its TCP endpoint. */
export interface Enode {
  /** The 64-byte node id (public key) the node must prove it holds. */
  readonly id: Uint8Array
  /** An IPv4 or IPv6 address, or a host name. */
  readonly host: string
  /** The TCP port, 1..65535. */
  readonly port: number
}

/** Text that is not a valid enode URL. */
export class EnodeUrlError extends Data.TaggedError("EnodeUrlError")<{
  /** The text as given. */
  readonly url: string
  /** What is wrong with it. */
  readonly reason: string
}> {
  override get message() {
    return `invalid enode URL ${JSON.stringify(this.url)}: ${this.reason}`
  }
}

/** A DNS host name: dot-separated labels of letters, digits and inner hyphens. */
const hostName = /^(?=.{1,253}$)[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/

/** Parses an enode URL; the optional `?discport=N` query (UDP discovery) is accepted and ignored. */
export const parse = (url: string): Enode | EnodeUrlError => {
  const fail = (reason: string) => new EnodeUrlError({ url, reason })
  if (!url.startsWith("enode://")) return fail("it must start with enode://")
  const rest = url.slice("enode://".length)
  const at = rest.indexOf("@")
  if (at < 0) return fail("no @ between the node id and the address")
  const idHex = rest.slice(0, at)
  if (!/^[0-9a-fA-F]*$/.test(idHex)) return fail("the node id is not hex")
  if (idHex.length !== 2 * NodeKey.idLength) return fail(`the node id has ${idHex.length} hex digits, not 128`)
  const id = Hex.toBytes(idHex)!
  if (!NodeKey.isValidId(id)) return fail("the node id is not a secp256k1 public key")
  const [address, query, ...more] = rest.slice(at + 1).split("?")
  if (more.length > 0) return fail("more than one ? in the address")
  if (query !== undefined && !/^discport=\d{1,5}$/.test(query)) return fail(`unknown query ${JSON.stringify(query)}`)
  const colon = address!.lastIndexOf(":")
  if (colon < 0) return fail("no :port after the host")
  let host = address!.slice(0, colon)
  const portText = address!.slice(colon + 1)
  if (host.startsWith("[") && host.endsWith("]")) {
    host = host.slice(1, -1)
    if (isIP(host) !== 6) return fail(`${host} in brackets is not an IPv6 address`)
  } else if (isIP(host) === 6) {
    return fail("an IPv6 address must be written in brackets")
  } else if (isIP(host) === 0 && !hostName.test(host)) {
    return fail(host === "" ? "the host is empty" : `${JSON.stringify(host)} is neither an IP address nor a host name`)
  }
  if (!/^\d{1,5}$/.test(portText)) return fail(`the port ${JSON.stringify(portText)} is not a number`)
  const port = Number(portText)
  if (port < 1 || port > 65535) return fail(`the port ${port} is outside 1..65535`)
  return { id, host, port }
}

/** Formats an enode URL, bracketing an IPv6 host. */
export const format = (enode: Enode): string => {
  const host = isIP(enode.host) === 6 ? `[${enode.host}]` : enode.host
  return `enode://${Hex.fromBytes(enode.id).slice(2)}@${host}:${enode.port}`
}
