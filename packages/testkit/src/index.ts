/**
 * @ethsync/testkit, the simulation: deterministic chain generation, simulated honest and attacking
 * peers, and the in-memory network between them and a downloader. The product (the demo) may use
 * it; the test harness on TestClock is the separate entry point `@ethsync/testkit/harness`.
 *
 * @since 0.1.0
 */
export * as Attacks from "./Attacks.ts"
export * as ChainGenerator from "./ChainGenerator.ts"
export * as HashList from "./HashList.ts"
export * as HeaderAttacks from "./headers/HeaderAttacks.ts"
export * as HeaderChain from "./headers/HeaderChain.ts"
export * as HeaderSimPeer from "./headers/HeaderSimPeer.ts"
export * as SimNetwork from "./SimNetwork.ts"
export * as SimPeer from "./SimPeer.ts"
export * as TestChain from "./TestChain.ts"
