/**
 * Structured logs: JSON lines by default, a readable format on a TTY. Known
 * secret values (from the config, and any registered later) are replaced by
 * `<redacted>` in every line, whatever the message is.
 */
import type { ServerConfig } from "@streamspace/core"
import { Layer, Logger, LogLevel, Redacted } from "effect"

const levels: Record<ServerConfig.LogLevel, LogLevel.LogLevel> = {
  trace: LogLevel.Trace,
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warning: LogLevel.Warning,
  error: LogLevel.Error
}

/** Secret strings that must never appear in a log line, e.g. the config's secrets. */
export const configSecrets = (config: ServerConfig.ServerConfigShape): ReadonlyArray<string> =>
  [
    config.databaseUrl,
    config.secretsKey,
    config.auth.jwtSecret,
    config.auth.adminPassword,
    config.storage.s3?.secretAccessKey
  ]
    .flatMap((r) => (r === undefined ? [] : [Redacted.value(r)]))
    .filter((s) => s.length >= 4)

export const redact =
  (secrets: ReadonlyArray<string>) =>
  (line: string): string =>
    secrets.reduce((acc, secret) => acc.split(secret).join("<redacted>"), line)

export const layer = (config: ServerConfig.ServerConfigShape, extraSecrets: ReadonlyArray<string> = []) => {
  const pretty = config.log.format === "pretty" || (config.log.format === "auto" && process.stdout.isTTY === true)
  const scrub = redact([...configSecrets(config), ...extraSecrets])
  const base = pretty ? Logger.logfmtLogger : Logger.jsonLogger
  const logger = Logger.map(base, scrub).pipe(Logger.withConsoleLog)
  return Layer.mergeAll(Logger.replace(Logger.defaultLogger, logger), Logger.minimumLogLevel(levels[config.log.level]))
}
