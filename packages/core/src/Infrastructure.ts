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
