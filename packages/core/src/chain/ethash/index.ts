/**
 * Frontier Ethash, light verification: epochs, the cache, hashimoto-light and the seal check.
 *
 * @since 0.2.0
 */
export * as Cache from "./Cache.ts"
export * as Epoch from "./Epoch.ts"
export * as Hashimoto from "./Hashimoto.ts"
export * as Keccak from "./Keccak.ts"
export * as Seal from "./Seal.ts"
