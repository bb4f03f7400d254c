/**
 * M1-attack's attacker, run as a process of its own: `node bench/Attacker.ts GENESIS TD HASHES`
 * listens on a free port of 127.0.0.1 as an eth/60-61 peer whose Status claims total difficulty
 * TD on top of the chain of GENESIS (hex), and serves a made-up chain of HASHES hashes that hangs
 * off that genesis (the testkit's made-up-chain attack, computed from each hash's position, so the
 * attacker holds none of them) and no block behind any of them. It prints its enode URL as the
 * first line of stdout, and serves until SIGINT or SIGTERM (exit code 0); a bad argument is named
 * on stderr (exit code 1).
 *
 * @since 0.2.0
 */
import { NodeRuntime } from "@effect/platform-node"
import { Hash } from "@ethsync/core"
import { Rlpx, SpecServer } from "@ethsync/node"
import { Attacks } from "@ethsync/testkit"
import { Cause, Console, Data, Effect, Exit, Result, Runtime } from "effect"

/** An argument that is not what the attacker needs. */
class BadArgument extends Data.TaggedError("BadArgument")<{ readonly reason: string }> {
  override get message() {
    return `usage: node bench/Attacker.ts GENESIS-HEX TD HASHES: ${this.reason}`
  }
}

/** The network id of a chain that is no built-in network, as `ethsync` gives it. */
const networkId = 1

/** Tells its made-up hashes from any other made-up list's. */
const tag = 61

/** A non-negative decimal integer argument. */
const integer = (name: string, text: string | undefined) =>
  text !== undefined && /^\d+$/.test(text) ? Effect.succeed(BigInt(text)) : Effect.fail(new BadArgument({ reason: `${name} is not a decimal integer: ${text}` }))

const main = Effect.gen(function*() {
  const [genesisText, tdText, hashesText] = process.argv.slice(2)
  const genesis = Hash.fromHex(genesisText ?? "")
  if (Result.isFailure(genesis)) return yield* new BadArgument({ reason: `GENESIS is not a 32-byte hex hash: ${genesisText}` })
  const td = yield* integer("TD", tdText)
  const hashes = Number(yield* integer("HASHES", hashesText))
  const spec = { ...Attacks.madeUpChain("attacker", hashes, genesis.success, tag), td }
  const server = yield* SpecServer.start({ spec, genesis: genesis.success, networkId })
  yield* Console.log(Rlpx.Enode.format(server.enode))
  return yield* Effect.never
})

/** Exits 0 when stopped by a signal (an interrupt), as `ethsync serve` does; 1 on a bad argument. */
const teardown: Runtime.Teardown = (exit, onExit) =>
  Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause) ? onExit(0) : Runtime.defaultTeardown(exit, onExit)

// Errors go to stderr: stdout's first line is the enode URL that the bench reads.
NodeRuntime.runMain(Effect.scoped(main).pipe(Effect.tapError((error) => Console.error(error.message))), {
  disableErrorReporting: true,
  teardown
})
