/**
 * Strings from outside (route params, queries, bodies) as a small family of
 * Schemas. Every member refuses NUL characters (PostgreSQL's text and jsonb
 * cannot hold them, so they would fail as a database error) and has a
 * maximum length (a 1 MB username would fail as "index row too large"), so
 * a bad value is a 400 naming its field before any handler runs.
 *
 * Fields holding credentials are `sensitive` (annotation `Sensitive`): parse
 * errors never show their value (`ParseIssues`), so neither the problem
 * document's `errors[]` nor the audit detail made from it carry it.
 *
 * The members decode to plain `string`s (no type brand): services, tests and
 * bootstrap code call the same functions with literals, and the guarantee
 * that matters is the one at the edge.
 */
import { Schema, SchemaAST } from "effect"
import { SecretField } from "./secrets/SecretFields.ts"

/** Annotation for fields that hold a credential: their value is never echoed in errors. */
export const Sensitive: unique symbol = Symbol.for("@streamspace/core/Text/Sensitive")

/** Marks a Schema as holding a credential (`password: Text.sensitive(Schema.String)`). */
export const sensitive = <A, I, R>(schema: Schema.Schema<A, I, R>): Schema.Schema<A, I, R> =>
  schema.annotations({ [Sensitive]: true })

/**
 * Whether a value of this Schema is a credential: the annotation (or a
 * config's `SecretField`) is on it, on what it refines or transforms, or on a
 * member of its union (`optional`).
 */
export const isSensitive = (ast: SchemaAST.AST): boolean => {
  for (const todo = [ast]; todo.length > 0; ) {
    const next = todo.pop()!
    if (next.annotations[Sensitive] === true || next.annotations[SecretField] === true) return true
    if (next._tag === "Refinement") todo.push(next.from)
    else if (next._tag === "Transformation") todo.push(next.from, next.to)
    else if (next._tag === "Union") todo.push(...next.types)
  }
  return false
}

const NUL = "\u0000"

/** A string of at most `max` characters, without NUL. */
export const make = (max: number) =>
  Schema.String.pipe(
    Schema.maxLength(max, { message: () => `at most ${max} characters` }),
    Schema.filter((s) => !s.includes(NUL), {
      message: () => "must not contain NUL characters",
      description: `a string of at most ${max} characters`
    })
  )

/** Identifiers and references to them (path params, `userId`, `templateId`). */
export const Id = make(128)
/** Names, labels, search terms and filters. */
export const Short = make(200)
/** One longer value: a URL, an image reference, a cursor. */
export const Line = make(2048)
/** Free text: descriptions, messages. */
export const Long = make(10_000)
/** Credentials: passwords at login, tokens, one-time codes. Never echoed in errors. */
export const Secret = sensitive(make(1024))

/** The latest instant every database engine and every client's date type agree on. */
const maxInstant = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/**
 * An ISO 8601 date-time in a query or body, between 1970 and 9999 (what
 * PostgreSQL's timestamptz and JavaScript's Date both read the same way).
 */
export const Timestamp = Schema.compose(make(64), Schema.Date).pipe(
  Schema.filter((d) => d.getTime() >= 0 && d.getTime() <= maxInstant, {
    message: () => "a date-time between 1970-01-01 and 9999-12-31",
    description: "an ISO 8601 date-time between 1970 and 9999"
  })
)

/**
 * Where the first NUL character is in a JSON-like value (a string, or a key
 * or string anywhere inside arrays and objects), as a path; undefined when
 * there is none. Iterative, so a deep value cannot overflow the stack.
 */
export const nulPath = (value: unknown): ReadonlyArray<string> | undefined => {
  const todo: Array<readonly [unknown, ReadonlyArray<string>]> = [[value, []]]
  while (todo.length > 0) {
    const [next, path] = todo.pop()!
    if (typeof next === "string") {
      if (next.includes(NUL)) return path
    } else if (Array.isArray(next)) {
      for (let i = next.length - 1; i >= 0; i--) todo.push([next[i], [...path, String(i)]])
    } else if (typeof next === "object" && next !== null) {
      const entries = Object.entries(next)
      for (const [key] of entries) if (key.includes(NUL)) return [...path, key]
      for (let i = entries.length - 1; i >= 0; i--) todo.push([entries[i]![1], [...path, entries[i]![0]]])
    }
  }
  return undefined
}
