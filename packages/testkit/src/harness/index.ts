/**
 * @ethsync/testkit/harness: a downloader on TestClock with its simulated world, scripted peers and an
 * import gate, for tests and benchmarks only.
 *
 * @since 0.2.0
 */
export * as Harness from "./Harness.ts"
export * as HeaderHarness from "../headers/HeaderHarness.ts"
export * as ImportGate from "./ImportGate.ts"
export * as ScriptedPeer from "./ScriptedPeer.ts"
