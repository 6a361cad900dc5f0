/**
 * Keyset pagination as docs/architecture.md's API conventions ask: `limit` and an opaque
 * `cursor` in, `{ items, nextCursor }` out.
 */
import { Schema } from "effect"

export const ListQuery = Schema.Struct({
  limit: Schema.optionalWith(Schema.NumberFromString.pipe(Schema.int(), Schema.between(1, 500)), { default: () => 50 }),
  cursor: Schema.optional(Schema.String)
})
export type ListQuery = typeof ListQuery.Type

export const Page = <A, I>(item: Schema.Schema<A, I>) =>
  Schema.Struct({ items: Schema.Array(item), nextCursor: Schema.NullOr(Schema.String) })

export interface PageOf<A> {
  readonly items: ReadonlyArray<A>
  readonly nextCursor: string | null
}

/** Cursor over an ordered (timestamp, id) key, base64url encoded so clients treat it as opaque. */
export const encodeCursor = (key: ReadonlyArray<string | number>): string =>
  Buffer.from(JSON.stringify(key)).toString("base64url")

export const decodeCursor = (cursor: string | undefined): ReadonlyArray<string | number> | null => {
  if (!cursor) return null
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"))
    return Array.isArray(value) && value.every((v) => typeof v === "string" || typeof v === "number") ? value : null
  } catch {
    return null
  }
}

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
