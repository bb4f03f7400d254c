/**
 * @ethsync/core: the domain (hashes, Frontier blocks, RLP, chain rules) and the downloader.
 *
 * @since 0.1.0
 */
export * as Block from "./Block.ts"
export * from "./BlockDecodeError.ts"
export * as BodyRules from "./BodyRules.ts"
export * as Genesis from "./Genesis.ts"
export * as Hash from "./Hash.ts"
export * as Header from "./Header.ts"
export * as HeaderRules from "./HeaderRules.ts"
export * as Hex from "./Hex.ts"
export * from "./InvalidBlock.ts"
export * as Rlp from "./Rlp.ts"
export * as RlpSplitter from "./RlpSplitter.ts"
export * as TotalDifficulty from "./TotalDifficulty.ts"
export * as BanList from "./BanList.ts"
export * as BatchValidation from "./BatchValidation.ts"
export * from "./ChainStore.ts"
export * as Downloader from "./Downloader.ts"
export * as DownloaderConfig from "./DownloaderConfig.ts"
export * as MemoryChainStore from "./MemoryChainStore.ts"
export * from "./PeerDropper.ts"
export type * from "./PeerHandle.ts"
export * as SyncError from "./SyncError.ts"
export * from "./SyncEvent.ts"
