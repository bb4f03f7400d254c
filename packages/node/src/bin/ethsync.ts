/**
 * The `ethsync` executable: puts Node's memory settings in force (MemorySettings: the process
 * replaces itself with Node started with them, unless it already runs so), then runs the CLI
 * (Main).
 *
 * @since 0.1.0
 */
import * as MemorySettings from "./MemorySettings.ts"

MemorySettings.apply()
// Loaded only now: before a relaunch there is nothing to load, as the relaunch discards it all.
const { main } = await import("./Main.ts")
main()
