/**
 * Keyset pagination as docs/architecture.md's API conventions ask: `limit` and an opaque
 * `cursor` in, `{ items, nextCursor }` out.
 *
 * A cursor is the base64url JSON of the last item's sort key. Clients may
 * hand-make one, so each list declares the shape of its key (`ByName`,
 * `BySerial`, `ByTime`): its query Schema (`ListQuery(key)`) refuses a cursor
 * that does not decode to that shape (a 400 naming `query.cursor`), and its
 * repo reads the key with the same Schema (`keyOf`), so nothing but a
 * well-typed, bounded key ever reaches SQL.
 */
import { Option, Schema } from "effect"
import * as Text from "./Text.ts"

/** The sort key of a list, as a tuple Schema of its columns. */
export type Key<K, I = K> = Schema.Schema<K, I>

/** Lists ordered by a name (users, groups, templates). */
export const ByName = Schema.Tuple(Text.Short)

/** Lists ordered by a positive integer id (the audit log). */
export const BySerial = Schema.Tuple(Schema.Int.pipe(Schema.between(1, Number.MAX_SAFE_INTEGER)))

/** Lists ordered by creation time (epoch milliseconds, 1970–9999) and id (sessions, deliveries). */
export const ByTime = Schema.Tuple(Schema.Int.pipe(Schema.between(0, Date.UTC(9999, 11, 31, 23, 59, 59, 999))), Text.Id)

const base64url = /^[A-Za-z0-9_-]+$/

/** Cursors are short (a key of one or two bounded columns); anything longer is not one of ours. */
const maxCursorLength = 1024

/** The key a cursor holds, or undefined when it is garbage or of another shape. */
const decodeKey = <K, I>(key: Key<K, I>, cursor: string): K | undefined => {
  if (cursor.length > maxCursorLength || !base64url.test(cursor)) return undefined
  let json: unknown
  try {
    json = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
  } catch {
    return undefined
  }
  return Option.getOrUndefined(Schema.decodeUnknownOption(key)(json))
}

/** A `cursor` query value that decodes to this list's key. */
export const Cursor = <K, I>(key: Key<K, I>) =>
  Text.make(maxCursorLength).pipe(
    Schema.filter((cursor) => decodeKey(key, cursor) !== undefined, {
      message: () => "not a cursor of this list (pass back nextCursor as it was given)",
      description: "an opaque cursor (a previous page's nextCursor)"
    })
  )

const Limit = Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500))

/** `limit` (1–500, default 50) and a `cursor` of this list's key. */
export const ListQuery = <K, I>(key: Key<K, I>) =>
  Schema.Struct({
    limit: Schema.optionalWith(Limit, { default: () => 50 }),
    cursor: Schema.optional(Cursor(key))
  })

export const Page = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ items: Schema.Array(item), nextCursor: Schema.NullOr(Schema.String) })

export interface PageOf<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor: string | null
}

/** Cursor over an ordered key, base64url encoded so clients treat it as opaque. */
export const encodeCursor = (key: ReadonlyArray<string | number>): string =>
  Buffer.from(JSON.stringify(key)).toString("base64url")

/**
 * The key of a cursor for a repo's query, or null for no cursor. The route
 * has refused a malformed cursor already; one that reaches a service some
 * other way is read as no cursor (the first page), never passed to SQL.
 */
export const keyOf = <K, I>(key: Key<K, I>, cursor: string | undefined): K | null =>
  cursor === undefined || cursor === "" ? null : (decodeKey(key, cursor) ?? null)

/** Fetch `limit + 1` rows, then call this to split off the next cursor. */
export const pageOf = <A>(
  rows: ReadonlyArray<A>,
  limit: number,
  keyOf: (a: A) => ReadonlyArray<string | number>
): PageOf<A> => {
  const items = rows.slice(0, limit)
  const last = items[items.length - 1]
  return { items, nextCursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null }
}
