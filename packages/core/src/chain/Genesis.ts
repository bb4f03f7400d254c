/**
 * Genesis blocks: mainnet's, built from its published fields, so a node needs no file to start.
 *
 * @since 0.1.0
 */
import * as Block from "./Block.ts"
import * as Hash from "./Hash.ts"
import * as Header from "./Header.ts"
import * as Hex from "./Hex.ts"

/** Mainnet's network id, as sent in the eth Status message. */
export const mainnetNetworkId = 1

const hash = (hex: string): Hash.Hash => Hash.makeUnsafe(Hex.toBytes(hex)!)

/** Mainnet block 0, from the fields in the Frontier genesis file. */
export const mainnet: Block.Block = Block.make(
  Header.make({
    parentHash: Hash.zero,
    uncleHash: Hash.emptyUnclesHash,
    coinbase: new Uint8Array(20),
    stateRoot: hash("0xd7f8974fb5ac78d9ac099b9ad5018bedc2ce0a72dad1827a1709da30580f0544"),
    transactionsRoot: Hash.emptyTrieRoot,
    receiptsRoot: Hash.emptyTrieRoot,
    logsBloom: new Uint8Array(256),
    difficulty: 17179869184n,
    number: 0,
    gasLimit: 5000n,
    gasUsed: 0n,
    timestamp: 0n,
    extraData: Hex.toBytes("0x11bbe8db4e347b4e8c937c1c8370e4b5ed33adb3db69cbdb7a38e1e50b1b82fa")!,
    mixHash: Hash.zero,
    nonce: Hex.toBytes("0x0000000000000042")!
  }),
  [],
  []
)

/** Mainnet's genesis hash, which every peer and datadir of mainnet must agree on. */
export const mainnetHash: Hash.Hash = hash("0xd4e56740f876aef8c010b86a40d5f56745a118d0906a34e69aec8c0db1cb8fa3")
