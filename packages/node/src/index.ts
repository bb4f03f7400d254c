/**
 * @ethsync/node: the chain on disk (an LMDB ChainStore in a datadir), `geth export`-format
 * import and export, genesis selection, progress display, the eth/60-61 and eth/62-68 messages,
 * the EIP-2124 fork id and the serving of a peer's requests (src/eth), RLPx (src/rlpx), the node
 * on the network (src/net: EthNode), and the `ethsync` CLI (src/bin).
 *
 * @since 0.1.0
 */
export * as BlockFile from "./BlockFile.ts"
export * as ChainExport from "./ChainExport.ts"
export * as ChainImport from "./ChainImport.ts"
export * as EthashVerifier from "./seal/EthashVerifier.ts"
export * as DatadirError from "./DatadirError.ts"
export * as GenesisChoice from "./GenesisChoice.ts"
export * as LmdbChainStore from "./LmdbChainStore.ts"
export * as NodeSyncConfig from "./NodeSyncConfig.ts"
export * as Progress from "./Progress.ts"
export * as EthMessage from "./eth/EthMessage.ts"
export * as EthVersion from "./eth/EthVersion.ts"
export * as Offered from "./eth/Offered.ts"
export * as MessageError from "./eth/MessageError.ts"
export * as Serving from "./eth/Serving.ts"
export * as StatusCheck from "./eth/StatusCheck.ts"
export * as ForkId from "./eth/ForkId.ts"
export * as HeaderFirstMessage from "./eth/HeaderFirstMessage.ts"
export * as HeaderFirstServing from "./eth/HeaderFirstServing.ts"
export * as HeaderFirstStatusCheck from "./eth/HeaderFirstStatusCheck.ts"
export * as HeaderFirstVersion from "./eth/HeaderFirstVersion.ts"
export * as Rlpx from "./rlpx/index.ts"
export * as SealPrefetch from "./SealPrefetch.ts"
export * as SpecServer from "./demo/SpecServer.ts"
export * as EthNode from "./net/EthNode.ts"
export * as SyncScheduler from "./net/SyncScheduler.ts"
