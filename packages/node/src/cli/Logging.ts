/**
 * Where and how ethsync logs: to stderr, pretty for people or JSON lines for machines, so that
 * stdout carries only command output.
 *
 * @since 0.1.0
 */
import { Layer, Logger } from "effect"

/** The log formats a user can choose. */
export const formats = ["pretty", "json"] as const

/** A log format. */
export type Format = typeof formats[number]

/** The loggers for `format`, writing to stderr. */
export const layer = (format: Format): Layer.Layer<never> =>
  format === "json"
    ? Logger.layer([Logger.withConsoleError(Logger.formatJson)])
    : Layer.merge(Logger.layer([Logger.consolePretty()]), Layer.succeed(Logger.LogToStderr, true))
