/** Keyset pagination (Pagination): opaque cursors, pages of `limit` with a next cursor, and the list query's bounds. */
import { describe, expect, test } from "bun:test"
import { Pagination } from "@streamspace/core"
import { Either, Schema } from "effect"

const rows = (n: number) => Array.from({ length: n }, (_, i) => ({ id: `r${i}`, at: 1000 + i }))

describe("cursors", () => {
  test("a cursor round-trips its key and is opaque (base64url, no JSON in sight)", () => {
    const cursor = Pagination.encodeCursor([1767225600000, "abc/def"])
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(Pagination.decodeCursor(cursor)).toEqual([1767225600000, "abc/def"])
  })

  test("no cursor, garbage, or JSON that is not a key of strings and numbers decode to null", () => {
    expect(Pagination.decodeCursor(undefined)).toBeNull()
    expect(Pagination.decodeCursor("%%%not-base64")).toBeNull()
    expect(Pagination.decodeCursor(Buffer.from(JSON.stringify({ a: 1 })).toString("base64url"))).toBeNull()
    expect(Pagination.decodeCursor(Buffer.from(JSON.stringify([1, { a: 1 }])).toString("base64url"))).toBeNull()
  })
})

describe("pages", () => {
  test("limit + 1 rows: a page of limit and a cursor at its last item", () => {
    const page = Pagination.pageOf(rows(4), 3, (r) => [r.at, r.id])
    expect(page.items.map((r) => r.id)).toEqual(["r0", "r1", "r2"])
    expect(Pagination.decodeCursor(page.nextCursor ?? undefined)).toEqual([1002, "r2"])
  })

  test("exactly limit rows or fewer: the last page, no cursor", () => {
    expect(Pagination.pageOf(rows(3), 3, (r) => [r.id]).nextCursor).toBeNull()
    expect(Pagination.pageOf([], 3, (r: { id: string }) => [r.id])).toEqual({ items: [], nextCursor: null })
  })

  test("limit defaults to 50 and must be an integer between 1 and 500", () => {
    const decode = Schema.decodeUnknownEither(Pagination.ListQuery)
    expect(Either.getOrThrow(decode({}))).toEqual({ limit: 50 })
    expect(Either.getOrThrow(decode({ limit: "500", cursor: "c" }))).toEqual({ limit: 500, cursor: "c" })
    expect(Either.isLeft(decode({ limit: "0" }))).toBe(true)
    expect(Either.isLeft(decode({ limit: "501" }))).toBe(true)
    expect(Either.isLeft(decode({ limit: "2.5" }))).toBe(true)
  })
})
