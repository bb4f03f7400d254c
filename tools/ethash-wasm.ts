/**
 * Generates Ethash's WebAssembly (keccak-f[1600] on 64-bit lanes, keccak-256 of any bytes, a
 * sponge's absorb of whole blocks (for running keccak-256 states), the
 * cache generation, and hashimoto-light with SIMD FNV on 8 headers in lockstep) as WAT, assembles
 * it with `wat2wasm` (Debian package `wabt`), and writes both next to the module that embeds it:
 *
 *   node tools/ethash-wasm.ts   →  packages/core/src/chain/ethash/ethash.wat, EthashWasmBytes.ts
 *
 * `ETHASH_LOCKSTEP=16 node tools/ethash-wasm.ts` generates another lockstep width (for measuring;
 * 8 measured best). Everything this layout places lies below 16 KiB, where
 * packages/core/src/chain/ethash/Wasm.ts starts its own areas.
 *
 * @since 0.2.0
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const dir = Path.join(import.meta.dirname, "../packages/core/src/chain/ethash")

// Memory layout (bytes), all below Wasm.ts's areas.
const HEADERS = Number(process.env["ETHASH_LOCKSTEP"] ?? 8) // headers in lockstep
const ITEMS = 2 * HEADERS // dataset items in flight
const RC = 0 // 24 round constants
const STATE = 256 // the sponge's 25 lanes
const TEMP = 512 // one 64-byte row (the cache's RandMemoHash input)
const SEED = 1024 // HEADERS x 96: each header's seed (64) then compressed mix (32)
const MIX = SEED + 96 * HEADERS // HEADERS x 128: each header's mix
const ITEM = MIX + 128 * HEADERS // ITEMS x 64: the dataset items in flight
const BLOCK = ITEM + 64 * ITEMS // the last, padded block of a keccak-256 over bytes
if (BLOCK + 136 > 16384) throw new Error("the layout overruns the input area of Wasm.ts")

const rho = [0, 1, 62, 28, 27, 36, 44, 6, 55, 20, 3, 10, 43, 25, 39, 41, 45, 15, 21, 8, 18, 2, 61, 56, 14]

const roundConstants = (): Array<bigint> => {
  const out: Array<bigint> = []
  let r = 1
  for (let round = 0; round < 24; round++) {
    let c = 0n
    for (let j = 0; j < 7; j++) {
      r = ((r << 1) ^ ((r >> 7) * 0x71)) & 0xff
      if (r & 2) c |= 1n << BigInt((1 << j) - 1)
    }
    out.push(c)
  }
  return out
}

const dataHex = roundConstants().map((c) => {
  let s = ""
  for (let i = 0; i < 8; i++) s += "\\" + ((c >> BigInt(8 * i)) & 0xffn).toString(16).padStart(2, "0")
  return s
}).join("")

const lines: Array<string> = []
const w = (s: string) => lines.push(s)
const g = (n: string) => `(local.get $${n})`

w(`(module`)
w(`  (memory (export "memory") 1)`)
w(`  (data (i32.const ${RC}) "${dataHex}")`)

// keccak-f[1600] on the state at STATE.
w(`  (func $permute`)
w(`    ${Array.from({ length: 25 }, (_, i) => `(local $a${i} i64)`).join(" ")}`)
w(`    ${Array.from({ length: 25 }, (_, i) => `(local $b${i} i64)`).join(" ")}`)
w(`    ${Array.from({ length: 5 }, (_, i) => `(local $c${i} i64) (local $d${i} i64)`).join(" ")}`)
w(`    (local $r i32)`)
for (let i = 0; i < 25; i++) w(`    (local.set $a${i} (i64.load offset=${STATE + 8 * i} (i32.const 0)))`)
w(`    (loop $round`)
for (let x = 0; x < 5; x++) {
  w(`      (local.set $c${x} (i64.xor (i64.xor (i64.xor (i64.xor ${g(`a${x}`)} ${g(`a${x + 5}`)}) ${g(`a${x + 10}`)}) ${g(`a${x + 15}`)}) ${g(`a${x + 20}`)}))`)
}
for (let x = 0; x < 5; x++) {
  w(`      (local.set $d${x} (i64.xor ${g(`c${(x + 4) % 5}`)} (i64.rotl ${g(`c${(x + 1) % 5}`)} (i64.const 1))))`)
}
for (let y = 0; y < 5; y++) {
  for (let x = 0; x < 5; x++) {
    const i = x + 5 * y
    const j = y + 5 * ((2 * x + 3 * y) % 5)
    const t = `(i64.xor ${g(`a${i}`)} ${g(`d${x}`)})`
    w(`      (local.set $b${j} ${rho[i] === 0 ? t : `(i64.rotl ${t} (i64.const ${rho[i]}))`})`)
  }
}
for (let y = 0; y < 5; y++) {
  for (let x = 0; x < 5; x++) {
    const i = x + 5 * y
    w(`      (local.set $a${i} (i64.xor ${g(`b${i}`)} (i64.and (i64.xor ${g(`b${(x + 1) % 5 + 5 * y}`)} (i64.const -1)) ${g(`b${(x + 2) % 5 + 5 * y}`)})))`)
  }
}
w(`      (local.set $a0 (i64.xor ${g("a0")} (i64.load offset=${RC} (i32.shl ${g("r")} (i32.const 3)))))`)
w(`      (br_if $round (i32.lt_u (local.tee $r (i32.add ${g("r")} (i32.const 1))) (i32.const 24))))`)
for (let i = 0; i < 25; i++) w(`    (i64.store offset=${STATE + 8 * i} (i32.const 0) ${g(`a${i}`)})`)
w(`  )`)

// Keccak (original padding) of inLanes lanes at src, outLanes lanes to dst; rate in lanes.
w(`  (func $keccak (param $src i32) (param $inLanes i32) (param $rate i32) (param $dst i32) (param $outLanes i32) (local $i i32)`)
w(`    (memory.fill (i32.const ${STATE}) (i32.const 0) (i32.const 200))`)
w(`    (block $done (loop $in (br_if $done (i32.ge_u ${g("i")} ${g("inLanes")}))`)
w(`      (i64.store offset=${STATE} (i32.shl ${g("i")} (i32.const 3)) (i64.load (i32.add ${g("src")} (i32.shl ${g("i")} (i32.const 3)))))`)
w(`      (local.set $i (i32.add ${g("i")} (i32.const 1))) (br $in)))`)
w(`    (i32.store8 offset=${STATE} (i32.shl ${g("inLanes")} (i32.const 3)) (i32.const 1))`)
w(`    (i32.store8 offset=${STATE - 1} (i32.shl ${g("rate")} (i32.const 3)) (i32.or (i32.load8_u offset=${STATE - 1} (i32.shl ${g("rate")} (i32.const 3))) (i32.const 0x80)))`)
w(`    (call $permute)`)
w(`    (local.set $i (i32.const 0))`)
w(`    (block $done (loop $out (br_if $done (i32.ge_u ${g("i")} ${g("outLanes")}))`)
w(`      (i64.store (i32.add ${g("dst")} (i32.shl ${g("i")} (i32.const 3))) (i64.load offset=${STATE} (i32.shl ${g("i")} (i32.const 3))))`)
w(`      (local.set $i (i32.add ${g("i")} (i32.const 1))) (br $out)))`)
w(`  )`)

// Exported keccak for tests of the sponge.
w(`  (func (export "keccak") (param $src i32) (param $inLanes i32) (param $rate i32) (param $dst i32) (param $outLanes i32)`)
w(`    (call $keccak ${g("src")} ${g("inLanes")} ${g("rate")} ${g("dst")} ${g("outLanes")}))`)

// Absorbs $blocks whole 136-byte blocks at $src into the 200-byte sponge state at $state (in place):
// the running keccak-256 of Wasm.ts (RLPx frame MACs), whose padding and digests are its own.
w(`  (func (export "absorb") (param $state i32) (param $src i32) (param $blocks i32)`)
w(`    (memory.copy (i32.const ${STATE}) ${g("state")} (i32.const 200))`)
w(`    (block $done (loop $blocks (br_if $done (i32.eqz ${g("blocks")}))`)
for (let k = 0; k < 17; k++) {
  w(`      (i64.store offset=${STATE + 8 * k} (i32.const 0) (i64.xor (i64.load offset=${STATE + 8 * k} (i32.const 0)) (i64.load offset=${8 * k} ${g("src")})))`)
}
w(`      (call $permute)`)
w(`      (local.set $src (i32.add ${g("src")} (i32.const 136)))`)
w(`      (local.set $blocks (i32.sub ${g("blocks")} (i32.const 1))) (br $blocks)))`)
w(`    (memory.copy ${g("state")} (i32.const ${STATE}) (i32.const 200))`)
w(`  )`)

// Keccak-256 of $len bytes at $src (any length), 32 bytes to $dst: for seal hashes.
w(`  (func (export "keccak256") (param $src i32) (param $len i32) (param $dst i32)`)
w(`    (memory.fill (i32.const ${STATE}) (i32.const 0) (i32.const 200))`)
w(`    (block $done (loop $blocks (br_if $done (i32.lt_u ${g("len")} (i32.const 136)))`)
for (let k = 0; k < 17; k++) {
  w(`      (i64.store offset=${STATE + 8 * k} (i32.const 0) (i64.xor (i64.load offset=${STATE + 8 * k} (i32.const 0)) (i64.load offset=${8 * k} ${g("src")})))`)
}
w(`      (call $permute)`)
w(`      (local.set $src (i32.add ${g("src")} (i32.const 136)))`)
w(`      (local.set $len (i32.sub ${g("len")} (i32.const 136))) (br $blocks)))`)
w(`    (memory.fill (i32.const ${BLOCK}) (i32.const 0) (i32.const 136))`)
w(`    (memory.copy (i32.const ${BLOCK}) ${g("src")} ${g("len")})`)
w(`    (i32.store8 offset=${BLOCK} ${g("len")} (i32.const 1))`)
w(`    (i32.store8 offset=${BLOCK + 135} (i32.const 0) (i32.or (i32.load8_u offset=${BLOCK + 135} (i32.const 0)) (i32.const 0x80)))`)
for (let k = 0; k < 17; k++) {
  w(`    (i64.store offset=${STATE + 8 * k} (i32.const 0) (i64.xor (i64.load offset=${STATE + 8 * k} (i32.const 0)) (i64.load offset=${BLOCK + 8 * k} (i32.const 0))))`)
}
w(`    (call $permute)`)
for (let k = 0; k < 4; k++) w(`    (i64.store offset=${8 * k} ${g("dst")} (i64.load offset=${STATE + 8 * k} (i32.const 0)))`)
w(`  )`)

// The cache of the 32-byte seed at $seed, `rows` rows at $cache.
w(`  (func (export "makeCache") (param $seed i32) (param $cache i32) (param $rows i32) (local $i i32) (local $round i32) (local $dst i32) (local $src i32) (local $other i32)`)
w(`    (call $keccak ${g("seed")} (i32.const 4) (i32.const 9) ${g("cache")} (i32.const 8))`)
w(`    (local.set $i (i32.const 1))`)
w(`    (block $done (loop $seq (br_if $done (i32.ge_u ${g("i")} ${g("rows")}))`)
w(`      (local.set $dst (i32.add ${g("cache")} (i32.shl ${g("i")} (i32.const 6))))`)
w(`      (call $keccak (i32.sub ${g("dst")} (i32.const 64)) (i32.const 8) (i32.const 9) ${g("dst")} (i32.const 8))`)
w(`      (local.set $i (i32.add ${g("i")} (i32.const 1))) (br $seq)))`)
w(`    (block $rounds (loop $round (br_if $rounds (i32.ge_u ${g("round")} (i32.const 3)))`)
w(`      (local.set $i (i32.const 0))`)
w(`      (block $done (loop $row (br_if $done (i32.ge_u ${g("i")} ${g("rows")}))`)
w(`        (local.set $dst (i32.add ${g("cache")} (i32.shl ${g("i")} (i32.const 6))))`)
w(`        (local.set $src (i32.add ${g("cache")} (i32.shl (i32.rem_u (i32.sub (i32.add ${g("i")} ${g("rows")}) (i32.const 1)) ${g("rows")}) (i32.const 6))))`)
w(`        (local.set $other (i32.add ${g("cache")} (i32.shl (i32.rem_u (i32.load ${g("dst")}) ${g("rows")}) (i32.const 6))))`)
for (let k = 0; k < 4; k++) {
  w(`        (v128.store offset=${TEMP + 16 * k} (i32.const 0) (v128.xor (v128.load offset=${16 * k} ${g("src")}) (v128.load offset=${16 * k} ${g("other")})))`)
}
w(`        (call $keccak (i32.const ${TEMP}) (i32.const 8) (i32.const 9) ${g("dst")} (i32.const 8))`)
w(`        (local.set $i (i32.add ${g("i")} (i32.const 1))) (br $row)))`)
w(`      (local.set $round (i32.add ${g("round")} (i32.const 1))) (br $round)))`)
w(`  )`)

// Hashimoto-light of `groups` x 4 headers: input 40 bytes each at $in (seal hash, nonce LE),
// output 64 bytes each at $out (compressed mix, final hash).
const fnv = (a: string, b: string) => `(i32.xor (i32.mul ${a} (i32.const 0x01000193)) ${b})`
// $rowsMagic is floor((2^64 - 1) / rows) + 1: the parent loop reduces by rows with Lemire's
// fastmod (multiplies) instead of i32.rem_u, whose divider would bound the loop.
w(`  (func (export "hashimoto") (param $in i32) (param $out i32) (param $groups i32) (param $cache i32) (param $rows i32) (param $drows i32) (param $rowsMagic i64)`)
w(`    (local $g i32) (local $i i32) (local $j i32) (local $jw i32) (local $p i32) (local $row i32) (local $prime v128) (local $hdr i32)`)
w(`    (local $low i64) (local $rows64 i64)`)
w(`    ${Array.from({ length: ITEMS }, (_, q) => `(local $idx${q} i32)`).join(" ")}`)
w(`    (local.set $prime (i32x4.splat (i32.const 0x01000193)))`)
w(`    (local.set $rows64 (i64.extend_i32_u ${g("rows")}))`)
w(`    (block $groupsDone (loop $group (br_if $groupsDone (i32.ge_u ${g("g")} ${g("groups")}))`)
for (let h = 0; h < HEADERS; h++) {
  const seed = SEED + 96 * h
  w(`      (call $keccak (i32.add ${g("in")} (i32.mul (i32.add (i32.mul ${g("g")} (i32.const ${HEADERS})) (i32.const ${h})) (i32.const 40))) (i32.const 5) (i32.const 9) (i32.const ${seed}) (i32.const 8))`)
  for (let k = 0; k < 8; k++) {
    w(`      (v128.store offset=${MIX + 128 * h + 16 * k} (i32.const 0) (v128.load offset=${seed + 16 * (k % 4)} (i32.const 0)))`)
  }
}
w(`      (local.set $i (i32.const 0))`)
w(`      (block $accessesDone (loop $access (br_if $accessesDone (i32.ge_u ${g("i")} (i32.const 64)))`)
for (let h = 0; h < HEADERS; h++) {
  const seed = SEED + 96 * h
  const mixWord = `(i32.load offset=${MIX + 128 * h} (i32.shl (i32.and ${g("i")} (i32.const 31)) (i32.const 2)))`
  w(`        (local.set $p (i32.rem_u ${fnv(`(i32.xor ${g("i")} (i32.load offset=${seed} (i32.const 0)))`, mixWord)} ${g("drows")}))`)
  for (let e = 0; e < 2; e++) {
    const q = 2 * h + e
    const item = ITEM + 64 * q
    w(`        (local.set $idx${q} (i32.add (i32.shl ${g("p")} (i32.const 1)) (i32.const ${e})))`)
    w(`        (local.set $row (i32.add ${g("cache")} (i32.shl (i32.rem_u ${g(`idx${q}`)} ${g("rows")}) (i32.const 6))))`)
    for (let k = 0; k < 4; k++) w(`        (v128.store offset=${item + 16 * k} (i32.const 0) (v128.load offset=${16 * k} ${g("row")}))`)
    w(`        (i32.store offset=${item} (i32.const 0) (i32.xor (i32.load offset=${item} (i32.const 0)) ${g(`idx${q}`)}))`)
    w(`        (call $keccak (i32.const ${item}) (i32.const 8) (i32.const 9) (i32.const ${item}) (i32.const 8))`)
  }
}
w(`        (local.set $j (i32.const 0))`)
w(`        (loop $parent`)
w(`          (local.set $jw (i32.shl (i32.and ${g("j")} (i32.const 15)) (i32.const 2)))`)
for (let q = 0; q < ITEMS; q++) {
  const item = ITEM + 64 * q
  const index = fnv(`(i32.xor ${g(`idx${q}`)} ${g("j")})`, `(i32.load offset=${item} ${g("jw")})`)
  w(`          (local.set $low (i64.mul ${g("rowsMagic")} (i64.extend_i32_u ${index})))`)
  const high = `(i64.mul (i64.shr_u ${g("low")} (i64.const 32)) ${g("rows64")})`
  const carry = `(i64.shr_u (i64.mul (i64.and ${g("low")} (i64.const 0xffffffff)) ${g("rows64")}) (i64.const 32))`
  w(`          (local.set $row (i32.add ${g("cache")} (i32.shl (i32.wrap_i64 (i64.shr_u (i64.add ${high} ${carry}) (i64.const 32))) (i32.const 6))))`)
  for (let k = 0; k < 4; k++) {
    w(`          (v128.store offset=${item + 16 * k} (i32.const 0) (v128.xor (i32x4.mul (v128.load offset=${item + 16 * k} (i32.const 0)) ${g("prime")}) (v128.load offset=${16 * k} ${g("row")})))`)
  }
}
w(`          (br_if $parent (i32.lt_u (local.tee $j (i32.add ${g("j")} (i32.const 1))) (i32.const 256))))`)
for (let q = 0; q < ITEMS; q++) {
  const item = ITEM + 64 * q
  w(`        (call $keccak (i32.const ${item}) (i32.const 8) (i32.const 9) (i32.const ${item}) (i32.const 8))`)
}
for (let h = 0; h < HEADERS; h++) {
  for (let k = 0; k < 8; k++) {
    const at = MIX + 128 * h + 16 * k
    w(`        (v128.store offset=${at} (i32.const 0) (v128.xor (i32x4.mul (v128.load offset=${at} (i32.const 0)) ${g("prime")}) (v128.load offset=${ITEM + 128 * h + 16 * k} (i32.const 0))))`)
  }
}
w(`        (local.set $i (i32.add ${g("i")} (i32.const 1))) (br $access)))`)
for (let h = 0; h < HEADERS; h++) {
  const seed = SEED + 96 * h
  const m = (n: number) => `(i32.load offset=${MIX + 128 * h + 4 * n} (i32.const 0))`
  for (let k = 0; k < 8; k++) {
    w(`      (i32.store offset=${seed + 64 + 4 * k} (i32.const 0) ${fnv(fnv(fnv(m(4 * k), m(4 * k + 1)), m(4 * k + 2)), m(4 * k + 3))})`)
  }
  w(`      (local.set $hdr (i32.add ${g("out")} (i32.shl (i32.add (i32.mul ${g("g")} (i32.const ${HEADERS})) (i32.const ${h})) (i32.const 6))))`)
  w(`      (v128.store offset=0 ${g("hdr")} (v128.load offset=${seed + 64} (i32.const 0)))`)
  w(`      (v128.store offset=16 ${g("hdr")} (v128.load offset=${seed + 80} (i32.const 0)))`)
  w(`      (call $keccak (i32.const ${seed}) (i32.const 12) (i32.const 17) (i32.add ${g("hdr")} (i32.const 32)) (i32.const 4))`)
}
w(`      (local.set $g (i32.add ${g("g")} (i32.const 1))) (br $group)))`)
w(`  )`)
w(`)`)

const watPath = Path.join(dir, "ethash.wat")
Fs.writeFileSync(watPath, lines.join("\n") + "\n")
const wasmDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ethash-wasm-"))
const wasmPath = Path.join(wasmDir, "ethash.wasm")
execFileSync("wat2wasm", [watPath, "-o", wasmPath])
const wasm = Fs.readFileSync(wasmPath)
Fs.rmSync(wasmDir, { recursive: true })
const base64 = wasm.toString("base64")
const chunks = base64.match(/.{1,100}/g)!.map((c) => `  "${c}"`).join(" +\n")
Fs.writeFileSync(
  Path.join(dir, "EthashWasmBytes.ts"),
  `/**
 * The WebAssembly module of Ethash's hot paths, generated by tools/ethash-wasm.ts from ethash.wat
 * (beside this file): do not edit, regenerate.
 *
 * @since 0.2.0
 */

/** Headers its hashimoto runs in lockstep: batches are padded to a multiple of it. */
export const lockstep = ${HEADERS}

/** The module's bytes, base64. */
export const base64 =
${chunks}
`
)
console.log(`wrote ${watPath} and EthashWasmBytes.ts (${wasm.length} bytes of wasm)`)
