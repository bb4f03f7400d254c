/**
 * @ethsync/core: the chain (hashes, RLP, Frontier headers and blocks, the chain rules, Ethash, the
 * ChainStore and SealVerifier services) and the sync engines (the hash-chain Downloader and the
 * header-first HeaderDownloader, the Network of connected peers, the ban list, their errors, events,
 * metrics and configuration). The engines' insides (sync/internal, headers/internal) are not exported.
 *
 * @since 0.1.0
 */
export * as BatchValidation from "./chain/BatchValidation.ts"
export * as Block from "./chain/Block.ts"
export * as BlockDecodeError from "./chain/BlockDecodeError.ts"
export * as BodyRules from "./chain/BodyRules.ts"
export * as Bytes from "./chain/Bytes.ts"
export * as ChainStore from "./chain/ChainStore.ts"
export * as Genesis from "./chain/Genesis.ts"
export * as Hash from "./chain/Hash.ts"
export * as Header from "./chain/Header.ts"
export * as HeaderRules from "./chain/HeaderRules.ts"
export * as Hex from "./chain/Hex.ts"
export * as Ethash from "./chain/ethash/index.ts"
export * as InvalidBlock from "./chain/InvalidBlock.ts"
export * as MemoryChainStore from "./chain/MemoryChainStore.ts"
export * as Rlp from "./chain/Rlp.ts"
export * as RlpSplitter from "./chain/RlpSplitter.ts"
export * as RunningKeccak from "./chain/RunningKeccak.ts"
export * as SealVerifier from "./chain/SealVerifier.ts"
export * as TotalDifficulty from "./chain/TotalDifficulty.ts"
export * as UncleRules from "./chain/UncleRules.ts"
export * as BanList from "./sync/BanList.ts"
export * as CheckRandom from "./sync/CheckRandom.ts"
export * as Downloader from "./sync/Downloader.ts"
export * as HeaderDownloader from "./sync/HeaderDownloader.ts"
export * as HeaderPeer from "./sync/HeaderPeer.ts"
export * as HeaderConfig from "./headers/HeaderConfig.ts"
export * as DownloaderConfig from "./sync/DownloaderConfig.ts"
export * as Network from "./sync/Network.ts"
export * as PeerHandle from "./sync/PeerHandle.ts"
export * as SyncError from "./sync/SyncError.ts"
export * as SyncEvent from "./sync/SyncEvent.ts"
export * as SyncMetrics from "./sync/SyncMetrics.ts"
