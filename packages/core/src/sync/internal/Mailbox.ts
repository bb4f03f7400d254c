/**
 * Taking from a sync's mailbox with a deadline, as both engines' actors wait: for the next message,
 * or until their earliest deadline passes.
 *
 * @since 0.3.0
 */
import { Clock, Duration, Effect, Queue } from "effect"

/** Takes the next message, or undefined once `deadline` (Clock millis; Infinity: none) passes. */
export const takeBefore = <Message>(mailbox: Queue.Queue<Message>, deadline: number): Effect.Effect<Message | undefined> =>
  deadline === Infinity
    ? Queue.take(mailbox)
    : Effect.flatMap(Clock.currentTimeMillis, (now) =>
      deadline <= now
        ? Effect.undefined
        : Queue.take(mailbox).pipe(
          Effect.timeoutOrElse({ duration: Duration.millis(deadline - now), orElse: () => Effect.undefined })
        ))
