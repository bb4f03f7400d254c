/**
 * Node identities: keys and wire signatures, enode URLs parsed strictly, the node-key file
 * (generated once, whole or not at all, mode 0600, kept), and static-nodes.json.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { describe, expect, it } from "@effect/vitest"
import { Hex } from "@ethsync/core"
import { secp256k1 } from "@noble/curves/secp256k1.js"
import { Effect, FileSystem, Layer, PlatformError } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Enode from "../../src/rlpx/Enode.ts"
import * as NodeKey from "../../src/rlpx/NodeKey.ts"
import * as NodeKeyFile from "../../src/rlpx/NodeKeyFile.ts"
import * as StaticNodes from "../../src/rlpx/StaticNodes.ts"
import * as TempDir from "../TempDir.ts"

/** A valid node id in hex (128 digits). */
const idHex = Buffer.from(NodeKey.generate().id).toString("hex")

describe("NodeKey", () => {
  it("signs as r‖s‖v, 65 bytes, zero-padded, and recovers the signer", () => {
    const key = NodeKey.generate()
    let padded = 0
    for (let i = 0; i < 2000 && padded === 0; i++) {
      const hash = new Uint8Array(32)
      new DataView(hash.buffer).setUint32(0, i)
      const signature = NodeKey.sign(key.secret, hash)
      expect(signature.length).toBe(65)
      expect(signature[64]! <= 1).toBe(true)
      expect(NodeKey.recover(signature, hash)).toEqual(key.id)
      if (signature[0] === 0 || signature[32] === 0) padded++
    }
    expect(padded).toBe(1)
  })

  it("ECDH: both sides derive the same secret, the x coordinate that @noble/curves computes", () => {
    const a = NodeKey.generate()
    const b = NodeKey.generate()
    const ours = NodeKey.sharedSecret(a, b.id)
    expect(NodeKey.sharedSecret(b, a.id)).toEqual(ours)
    expect(ours).toEqual(secp256k1.getSharedSecret(a.secret, NodeKey.withPrefix(b.id)).subarray(1))
  })

  it("ECDH: a secret key with 31 leading zero bytes, and a shared secret that starts with a zero byte, keep their 32 bytes", () => {
    const scalar = (n: number) => {
      const secret = new Uint8Array(32)
      secret[31] = n
      return NodeKey.fromSecret(secret)!
    }
    const generator = scalar(1)
    const other = scalar(153)
    const ours = NodeKey.sharedSecret(other, generator.id)
    expect(Hex.fromBytes(ours)).toBe("0x00e3ae1974566ca06cc516d47e0fb165a674a3dabcfca15e722f0e3450f45889")
    expect(NodeKey.sharedSecret(generator, other.id)).toEqual(ours)
    expect(ours).toEqual(secp256k1.getSharedSecret(other.secret, NodeKey.withPrefix(generator.id)).subarray(1))
  })

  it("refuses a bad secret, a bad signature, and ids off the curve", () => {
    expect(NodeKey.fromSecret(new Uint8Array(32))).toBeUndefined()
    expect(NodeKey.fromSecret(new Uint8Array(31).fill(1))).toBeUndefined()
    expect(NodeKey.recover(new Uint8Array(65).fill(0xff), new Uint8Array(32))).toBeUndefined()
    expect(NodeKey.isValidId(new Uint8Array(64).fill(1))).toBe(false)
    const key = NodeKey.generate()
    expect(NodeKey.sharedSecret(key, NodeKey.generate().id).length).toBe(32)
  })
})

describe("Enode", () => {
  it("parses and formats IPv4, IPv6 and host names, with an optional discport", () => {
    const v4 = Enode.parse(`enode://${idHex}@127.0.0.1:30303?discport=30301`)
    expect(v4).toMatchObject({ host: "127.0.0.1", port: 30303 })
    expect(Enode.format(v4 as Enode.Enode)).toBe(`enode://${idHex}@127.0.0.1:30303`)
    const v6 = Enode.parse(`enode://${idHex}@[::1]:1`) as Enode.Enode
    expect(v6.host).toBe("::1")
    expect(Enode.format(v6)).toBe(`enode://${idHex}@[::1]:1`)
    expect(Enode.parse(`enode://${idHex}@node-1.example.org:65535`)).toMatchObject({ host: "node-1.example.org" })
  })

  const bad: ReadonlyArray<readonly [string, string]> = [
    [`http://${idHex}@127.0.0.1:30303`, "it must start with enode://"],
    [`enode://${idHex}127.0.0.1:30303`, "no @ between the node id and the address"],
    [`enode://${idHex.slice(2)}@127.0.0.1:30303`, "the node id has 126 hex digits, not 128"],
    [`enode://${"zz" + idHex.slice(2)}@127.0.0.1:30303`, "the node id is not hex"],
    [`enode://${"00".repeat(64)}@127.0.0.1:30303`, "the node id is not a secp256k1 public key"],
    [`enode://${idHex}@127.0.0.1`, "no :port after the host"],
    [`enode://${idHex}@127.0.0.1:0`, "the port 0 is outside 1..65535"],
    [`enode://${idHex}@127.0.0.1:70000`, "the port 70000 is outside 1..65535"],
    [`enode://${idHex}@127.0.0.1:x`, `the port "x" is not a number`],
    [`enode://${idHex}@::1:30303`, "an IPv6 address must be written in brackets"],
    [`enode://${idHex}@[127.0.0.1]:30303`, "127.0.0.1 in brackets is not an IPv6 address"],
    [`enode://${idHex}@:30303`, "the host is empty"],
    [`enode://${idHex}@bad_host:30303`, `"bad_host" is neither an IP address nor a host name`],
    [`enode://${idHex}@127.0.0.1:30303?foo=1`, `unknown query "foo=1"`]
  ]
  for (const [url, reason] of bad) {
    it(`refuses ${reason}`, () => {
      const error = Enode.parse(url)
      expect(error).toBeInstanceOf(Enode.EnodeUrlError)
      expect((error as Enode.EnodeUrlError).reason).toBe(reason)
    })
  }
})

describe("NodeKeyFile", () => {
  it.effect("generates a key on first use with mode 0600, and reads the same key afterwards", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const path = Path.join(dir, NodeKeyFile.fileName)
      const first = yield* NodeKeyFile.loadOrCreate(path)
      expect(Fs.statSync(path).mode & 0o777).toBe(0o600)
      expect(Fs.readFileSync(path, "utf8")).toMatch(/^[0-9a-f]{64}$/)
      const again = yield* NodeKeyFile.loadOrCreate(path)
      expect(again.id).toEqual(first.id)
      expect((yield* NodeKeyFile.read(path)).secret).toEqual(first.secret)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a write that stops halfway leaves no key file, and the next start makes a whole one", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const path = Path.join(dir, NodeKeyFile.fileName)
      /** The file system of a process that stops writing after 10 characters (killed, or out of space). */
      const halfWritten = Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (fs) => ({
          ...fs,
          writeFileString: (file: string, data: string, options?: { readonly mode?: number | undefined }) =>
            Effect.andThen(
              fs.writeFileString(file, data.slice(0, 10), options),
              Effect.fail(PlatformError.systemError({ _tag: "WriteZero", module: "FileSystem", method: "writeFileString" }))
            )
        }))
      )
      const failed = yield* Effect.flip(NodeKeyFile.loadOrCreate(path).pipe(Effect.provide(halfWritten)))
      expect(failed.reason).toMatch(/^cannot write it: /)
      expect(Fs.readdirSync(dir)).toEqual([])
      const key = yield* NodeKeyFile.loadOrCreate(path)
      expect((yield* NodeKeyFile.read(path)).id).toEqual(key.id)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a key another process wrote between the look and the write is kept, not replaced", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const path = Path.join(dir, NodeKeyFile.fileName)
      const other = yield* NodeKeyFile.loadOrCreate(path)
      /** The file system of a process that looked before the other wrote its key. */
      const lookedEarly = Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (fs) => ({ ...fs, exists: () => Effect.succeed(false) }))
      )
      expect((yield* NodeKeyFile.loadOrCreate(path).pipe(Effect.provide(lookedEarly))).id).toEqual(other.id)
      expect((yield* NodeKeyFile.read(path)).id).toEqual(other.id)
      expect(Fs.readdirSync(dir)).toEqual([NodeKeyFile.fileName])
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("on a file system without hard links the key file is still made whole", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const path = Path.join(dir, NodeKeyFile.fileName)
      /** The file system of a FAT stick: no hard links. */
      const noLinks = Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (fs) => ({
          ...fs,
          link: () => Effect.fail(PlatformError.systemError({ _tag: "PermissionDenied", module: "FileSystem", method: "link" }))
        }))
      )
      const key = yield* NodeKeyFile.loadOrCreate(path).pipe(Effect.provide(noLinks))
      expect((yield* NodeKeyFile.read(path)).id).toEqual(key.id)
      expect(Fs.statSync(path).mode & 0o777).toBe(0o600)
      expect(Fs.readdirSync(dir)).toEqual([NodeKeyFile.fileName])
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("says what is wrong with a missing or bad key file", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const missing = yield* Effect.flip(NodeKeyFile.read(Path.join(dir, "none")))
      expect(missing.reason).toBe("no such file or directory")
      const short = Path.join(dir, "short")
      Fs.writeFileSync(short, "abcd\n")
      expect((yield* Effect.flip(NodeKeyFile.loadOrCreate(short))).reason).toBe("expected 64 hex digits, found 4 characters")
      const zero = Path.join(dir, "zero")
      Fs.writeFileSync(zero, "0".repeat(64))
      expect((yield* Effect.flip(NodeKeyFile.read(zero))).reason).toBe("the number is not a valid secp256k1 private key")
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("StaticNodes", () => {
  it.effect("reads a JSON array of enode URLs; a missing file is no static nodes", () =>
    Effect.gen(function*() {
      const dir = yield* TempDir.make
      const path = Path.join(dir, StaticNodes.fileName)
      expect(yield* StaticNodes.read(path)).toEqual([])
      Fs.writeFileSync(path, JSON.stringify([`enode://${idHex}@127.0.0.1:30303`, `enode://${idHex}@10.0.0.2:30304`]))
      expect((yield* StaticNodes.read(path)).map(Enode.format)).toEqual([
        `enode://${idHex}@127.0.0.1:30303`,
        `enode://${idHex}@10.0.0.2:30304`
      ])
    }).pipe(Effect.provide(NodeServices.layer)))

  it("names the first bad entry, or what else is wrong", () => {
    const reason = (text: string) => (StaticNodes.parse("f.json", text) as StaticNodes.StaticNodesError).reason
    expect(reason(`[1]`)).toBe("entry 0 is not a string")
    expect(reason(`["enode://${idHex}@127.0.0.1:1", "enode://x@y:1"]`)).toBe("entry 1: the node id is not hex")
    expect(reason(`{}`)).toBe("not a JSON array")
    expect(reason(`[`)).toMatch(/^not JSON/)
  })
})
