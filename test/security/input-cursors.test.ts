/**
 * Pagination cursors and date filters come from the client, so they are
 * validated before SQL sees them: a hand-made cursor (not base64url JSON, or
 * JSON that is not the list's own key: NaN, 1e308, an object, a string) is a
 * 400 naming `query.cursor` on every paginated list, where it used to reach
 * SQL (a 500) or be ignored; a real `nextCursor` still pages. Audit `from`/`to`
 * outside 1970–9999 are a 400, not a database error.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"

interface Problem {
  readonly status: number
  readonly code: string
  readonly errors: ReadonlyArray<{ readonly path: string; readonly message: string }>
}
interface Page {
  readonly items: ReadonlyArray<{ readonly id: string }>
  readonly nextCursor: string | null
}

let p: TestPlatform.TestPlatform
let admin: string
const lists: Array<string> = []
beforeAll(async () => {
  p = await TestPlatform.make()
  admin = await p.login("admin", p.adminPassword)
  const post = async (path: string, body: unknown) => {
    const res = await p.http<{ id: string }>("POST", path, { token: admin, body })
    if (res.status !== 201) throw new Error(`POST ${path}: ${res.status} ${res.text}`)
    return res.body.id
  }
  for (const name of ["pager-a", "pager-b"]) {
    const template = await post("/api/templates", { name, displayName: name, image: `${name}:1` })
    await post("/api/sessions", { templateId: template })
    await post("/api/users", { username: name, password: "long-enough-pw" })
    await post("/api/groups", { name })
  }
  const webhook = await post("/api/webhooks", {
    name: "pager",
    url: "http://127.0.0.1:9/hook",
    eventTypes: ["nothing.happens"]
  })
  const integration = await post("/api/integrations", { provider: "custom", name: "pager", config: {} })
  lists.push(
    "/api/sessions",
    "/api/users",
    "/api/groups",
    "/api/templates",
    "/api/audit",
    `/api/webhooks/${webhook}/deliveries`,
    `/api/integrations/${integration}/deliveries`
  )
})
afterAll(() => p.close())

const cursorOf = (json: string) => Buffer.from(json).toString("base64url")
const get = <T>(path: string) => p.http<T>("GET", path, { token: admin })

const handMade = {
  "[NaN]": cursorOf("[NaN]"),
  "[1e308]": cursorOf("[1e308]"),
  "[{}]": cursorOf("[{}]"),
  '"x"': cursorOf('"x"'),
  "[-1e308,1e308]": cursorOf("[-1e308,1e308]"),
  '[1e15,"x"]': cursorOf('[1e15,"x"]'),
  "not base64": "%%%",
  huge: "A".repeat(4000)
}

describe(`pagination cursors (${TestPlatform.engine()})`, () => {
  test("a hand-made cursor is a 400 naming query.cursor on every paginated list", async () => {
    for (const list of lists) {
      for (const [what, cursor] of Object.entries(handMade)) {
        const res = await get<Problem>(`${list}?cursor=${encodeURIComponent(cursor)}`)
        if (res.status !== 400) throw new Error(`${list} with cursor ${what}: ${res.status} ${res.text}`)
        expect(res.body.code).toBe("validation_failed")
        expect(res.body.errors.map((e) => e.path)).toEqual(["query.cursor"])
      }
    }
  })

  test("a cursor of another list's shape is refused too (a name key on the audit log, a serial on sessions)", async () => {
    expect((await get(`/api/audit?cursor=${cursorOf('["alice"]')}`)).status).toBe(400)
    expect((await get(`/api/sessions?cursor=${cursorOf("[42]")}`)).status).toBe(400)
    expect((await get(`/api/users?cursor=${cursorOf("[42]")}`)).status).toBe(400)
  })

  test("the cursors the lists give out still page through them", async () => {
    for (const list of ["/api/sessions", "/api/users", "/api/groups", "/api/templates", "/api/audit"]) {
      const first = await get<Page>(`${list}?limit=1`)
      expect(first.status).toBe(200)
      expect(first.body.nextCursor).not.toBeNull()
      const second = await get<Page>(`${list}?limit=1&cursor=${first.body.nextCursor}`)
      if (second.status !== 200) throw new Error(`${list} with its own cursor: ${second.status} ${second.text}`)
      expect(second.body.items).toHaveLength(1)
      expect(second.body.items[0]!.id).not.toBe(first.body.items[0]!.id)
    }
  })
})

describe(`date filters (${TestPlatform.engine()})`, () => {
  test("audit from/to outside 1970–9999 or not a date: 400 naming the field", async () => {
    for (const [query, field] of [
      ["from=0001-01-01", "query.from"],
      ["to=99999-01-01", "query.to"],
      ["from=-000001-01-01T00:00:00Z", "query.from"],
      ["to=%2B275760-09-13T00:00:00Z", "query.to"],
      ["from=yesterday", "query.from"]
    ] as const) {
      const res = await get<Problem>(`/api/audit?${query}`)
      if (res.status !== 400) throw new Error(`audit ${query}: ${res.status} ${res.text}`)
      expect(res.body.errors.map((e) => e.path)).toEqual([field])
    }
  })

  test("dates in range filter as before", async () => {
    const res = await get<Page>("/api/audit?from=2000-01-01T00:00:00Z&to=9999-12-31")
    expect(res.status).toBe(200)
    expect(res.body.items.length).toBeGreaterThan(0)
    expect((await get<Page>("/api/audit?from=9999-01-01")).body.items).toEqual([])
  })

  test("an API key expiring in year 99999 is a 400, not a database error", async () => {
    const res = await p.http<Problem>("POST", "/api/api-keys", {
      token: admin,
      body: { name: "far", scopes: ["templates:read"], expiresAt: "+099999-01-01T00:00:00.000Z" }
    })
    expect(res.status).toBe(400)
    expect(res.body.errors.map((e) => e.path)).toEqual(["body.expiresAt"])
  })
})
