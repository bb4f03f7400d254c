/**
 * Two real mainnet headers with real Ethash seals (epoch 0), so that seal tests run without the
 * mainnet file: block 1, and the uncle of block 3 (itself a block 1).
 */
import * as Header from "../../src/chain/Header.ts"
import * as Hex from "../../src/chain/Hex.ts"

const decode = (hex: string): Header.Header => {
  const header = Header.decode(Hex.toBytes(hex)!)
  if (!(header instanceof Header.Header)) throw new Error(`fixture does not decode: ${header.message}`)
  return header
}

/** Mainnet block 1's header. */
export const block1 = decode(
  "0xf90211a0d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3a01dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d493479405a56e2d52c817161883f50c441c3228cfe54d9fa0d67e4d450343046425ae4271474353857ab860dbc0a1dde64b41b5cd3a532bf3a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421b9010000" +
    "00".repeat(255) +
    "8503ff80000001821388808455ba422499476574682f76312e302e302f6c696e75782f676f312e342e32a0969b900de27b6ac6a67742365dd65f55a0526c41fd18e1b16f1a1215c2e66f5988539bd4979fef1ec4"
)

/** The uncle included by mainnet block 3: another block 1, sealed by another miner. */
export const uncleOf3 = decode(
  "0xf90212a0d4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3a01dcc4de8dec75d7aab85b567b6ccd41ad312451b948a7413f0a142fd40d4934794c8ebccc5f5689fa8659d83713341e5ad19349448a01e6e030581fd1873b4784280859cd3b3c04aa85520f08c304cf5ee63d3935adda056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421a056e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421b9010000" +
    "00".repeat(255) +
    "8503ff80000001821388808455ba42429a59617465732052616e64616c6c202d2045746865724e696e6a61a0f8c94dfe61cf26dcdf8cffeda337cf6a903d65c449d7691a022837f6e2d994598868b769c5451a7aea"
)

/** The same header with some fields changed (and its RLP re-encoded), for seals that must fail. */
export const changed = (header: Header.Header, fields: Partial<Header.Fields>): Header.Header =>
  Header.make({ ...header, ...fields })
