/** Keyset pagination (Pagination): opaque cursors, pages of `limit` with a next cursor, and the list query's bounds. */
import { describe, expect, test } from "bun:test"
import { Pagination } from "@streamspace/core"
import { Either, Schema } from "effect"

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, at: 1000 + i }))
const cursorOf = (json: string) => Buffer.from(json).toString("base64url")

describe("cursors", () => {
  test("a cursor round-trips its key and is opaque (base64url, no JSON in sight)", () => {
    const cursor = Pagination.encodeCursor([1767225600000, "abc/def"])
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(Pagination.keyOf(Pagination.ByTime, cursor)).toEqual([1767225600000, "abc/def"])
  })

  test("no cursor, garbage, or a key of another shape read as no cursor", () => {
    expect(Pagination.keyOf(Pagination.ByTime, undefined)).toBeNull()
    expect(Pagination.keyOf(Pagination.ByTime, "%%%not-base64")).toBeNull()
    expect(Pagination.keyOf(Pagination.ByTime, cursorOf(JSON.stringify({ a: 1 })))).toBeNull()
    expect(Pagination.keyOf(Pagination.ByTime, cursorOf(JSON.stringify([1, { a: 1 }])))).toBeNull()
    expect(Pagination.keyOf(Pagination.ByName, cursorOf("[1e308]"))).toBeNull()
    expect(Pagination.keyOf(Pagination.BySerial, cursorOf('["x"]'))).toBeNull()
    expect(Pagination.keyOf(Pagination.BySerial, cursorOf("[1e308]"))).toBeNull()
    expect(Pagination.keyOf(Pagination.BySerial, cursorOf("[1.5]"))).toBeNull()
    // Year 10000 is past what the database and Date agree on.
    expect(Pagination.keyOf(Pagination.ByTime, cursorOf(`[${Date.UTC(10000, 0, 1)},"x"]`))).toBeNull()
    expect(Pagination.keyOf(Pagination.ByName, cursorOf('["a\\u0000b"]'))).toBeNull()
  })

  test("the list query refuses a cursor that is not one of the list's keys", () => {
    const decode = Schema.decodeUnknownEither(Pagination.ListQuery(Pagination.BySerial))
    expect(Either.isRight(decode({ cursor: Pagination.encodeCursor([42]) }))).toBe(true)
    for (const bad of [
      "x",
      cursorOf("[NaN]"),
      cursorOf("[1e308]"),
      cursorOf("[{}]"),
      cursorOf('"x"'),
      "a".repeat(2000)
    ])
      expect(Either.isLeft(decode({ cursor: bad }))).toBe(true)
  })
})

describe("pages", () => {
  test("limit + 1 rows: a page of limit and a cursor at its last item", () => {
    const page = Pagination.pageOf(rows(4), 3, (r) => [r.at, r.id])
    expect(page.items.map((r) => r.id)).toEqual(["r0", "r1", "r2"])
    expect(Pagination.keyOf(Pagination.ByTime, page.nextCursor ?? undefined)).toEqual([1002, "r2"])
  })

  test("exactly limit rows or fewer: the last page, no cursor", () => {
    expect(Pagination.pageOf(rows(3), 3, (r) => [r.id]).nextCursor).toBeNull()
    expect(Pagination.pageOf([], 3, (r: { id: string }) => [r.id])).toEqual({ items: [], nextCursor: null })
  })

  test("limit defaults to 50 and must be an integer between 1 and 500", () => {
    const decode = Schema.decodeUnknownEither(Pagination.ListQuery(Pagination.ByName))
    const cursor = Pagination.encodeCursor(["c"])
    expect(Either.getOrThrow(decode({}))).toEqual({ limit: 50 })
    expect(Either.getOrThrow(decode({ limit: "500", cursor }))).toEqual({ limit: 500, cursor })
    expect(Either.isLeft(decode({ limit: "0" }))).toBe(true)
    expect(Either.isLeft(decode({ limit: "501" }))).toBe(true)
    expect(Either.isLeft(decode({ limit: "2.5" }))).toBe(true)
  })
})
