/**
 * @ethsync/node: the chain on disk (an LMDB ChainStore in a datadir), `geth export`-format
 * import and export, genesis selection, progress display, and the `ethsync` CLI (src/bin).
 *
 * @since 0.1.0
 */
export * as BlockFile from "./BlockFile.ts"
export * as ChainExport from "./ChainExport.ts"
export * as ChainImport from "./ChainImport.ts"
export * as EthashVerifier from "./seal/EthashVerifier.ts"
export * from "./DatadirError.ts"
export * as GenesisChoice from "./GenesisChoice.ts"
export * as LmdbChainStore from "./LmdbChainStore.ts"
export * as Progress from "./Progress.ts"
export * as SealPrefetch from "./SealPrefetch.ts"
