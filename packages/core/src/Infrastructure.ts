/**
 * Infrastructure failures (the database is down, a statement is wrong) are
 * not the caller's error: no route can answer them better than an opaque
 * 500, so services turn them into defects at their edge instead of
 * threading `SqlError` through every signature. A repo writes its methods
 * against its interface with `SqlError` allowed and hands them to
 * `sqlDefects`, which makes each method die on a `SqlError`:
 *
 *   return sqlDefects<TemplateRepo["Type"]>({ findById: (id) => sql`…`, … })
 */
import { type SqlError, SqlErrorTypeId } from "@effect/sql/SqlError"
import { Effect } from "effect"

/** The service `S` with `SqlError` allowed in each method's error channel. */
export type WithSqlError<S> = {
  readonly [K in keyof S]: S[K] extends (...args: infer Args) => Effect.Effect<infer A, infer E, infer R>
    ? (...args: Args) => Effect.Effect<A, E | SqlError, R>
    : S[K] extends Effect.Effect<infer A, infer E, infer R>
      ? Effect.Effect<A, E | SqlError, R>
      : S[K]
}

/** `SqlError` and its kin (`ResultLengthMismatch`), by their type id. */
export const isSqlError = (u: unknown): u is SqlError => typeof u === "object" && u !== null && SqlErrorTypeId in u

/** Socket errors of Node/Bun that mean the database could not be reached. */
const unreachableCodes = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EAI_AGAIN"])

/**
 * Whether a `SqlError` says the database could not be reached or went away
 * (retry later: 503) rather than that a statement was wrong (a bug: 500).
 * SQLSTATE classes 08 (connection exception), 53 (insufficient resources)
 * and 57P (shutdown, cannot connect now); any FATAL error (it ends the
 * session, e.g. "database is not accepting connections"); socket errors; a
 * driver error with no SQLSTATE about its connection ("Connection
 * terminated", a closed PGlite).
 */
export const isUnavailable = (error: SqlError): boolean => {
  const cause = error.cause
  const code =
    typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
      ? cause.code
      : undefined
  const severity =
    typeof cause === "object" && cause !== null && "severity" in cause ? String(cause.severity) : undefined
  if (severity === "FATAL" || severity === "PANIC") return true
  if (code !== undefined)
    return code.startsWith("08") || code.startsWith("53") || code.startsWith("57P") || unreachableCodes.has(code)
  const message = cause instanceof Error ? cause.message : String(cause ?? error.message)
  return /connection|terminat|closed|timeout/i.test(message)
}

/** Each method (and Effect-valued property) of `service` with its `SqlError` turned into a defect. */
export const sqlDefects = <S extends object>(service: WithSqlError<S>): S => {
  const out: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(service)) {
    out[name] =
      typeof value === "function"
        ? (...args: ReadonlyArray<unknown>) =>
            Effect.catchIf(
              (value as (...a: ReadonlyArray<unknown>) => Effect.Effect<unknown, unknown>)(...args),
              isSqlError,
              Effect.die
            )
        : Effect.isEffect(value)
          ? Effect.catchIf(value, isSqlError, Effect.die)
          : value
  }
  return out as S
}
