/**
 * What a failed file operation means to a user, in a few words.
 *
 * @since 0.1.0
 */
import type { PlatformError } from "effect"

/** Words for the system error kinds a user can cause. */
const words: Partial<Record<string, string>> = {
  NotFound: "no such file or directory",
  PermissionDenied: "permission denied",
  BadResource: "not a regular file",
  AlreadyExists: "it already exists",
  Busy: "it is busy"
}

/** The reason of a file error, without the stack or the path (the caller names the file). */
export const describe = (error: PlatformError.PlatformError): string => {
  const cause = error.reason.cause
  return words[error.reason._tag] ?? error.reason.description ?? (cause instanceof Error ? cause.message : error.reason._tag)
}
