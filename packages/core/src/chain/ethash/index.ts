/**
 * Frontier Ethash, light verification: epochs, the cache, hashimoto-light and the seal check.
 *
 * @since 0.2.0
 */
export * as Cache from "./Cache.ts"
export * as Epoch from "./Epoch.ts"
export * as Seal from "./Seal.ts"
export * as Wasm from "./Wasm.ts"
