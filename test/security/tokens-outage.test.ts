/**
 * A database that cannot be asked while a credential is resolved is an outage, not a bad credential
 * (issue 21, finding 8): 503 with Retry-After, so clients keep their tokens, never 401.
 *
 * PostgreSQL: the test database refuses connections and every session on it is ended, a real outage.
 * PGlite runs inside the process and cannot refuse a connection; there its `users` table is renamed
 * away, so the statements that resolve a credential fail the same way (an SqlError from the driver).
 * That models an outage only while resolving, so on PGlite the principal cache is off (a cached
 * caller would reach the route, whose missing table is a bug, 500, not an outage). On PostgreSQL the
 * default cache is on: a cached caller reaches a route on a database that went away, and that is 503 too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { SQL } from "bun"

interface Problem {
  readonly status: number
  readonly code: string
  readonly retryAfterSeconds?: number
}

let p: TestPlatform.TestPlatform
let admin: string
let key: string
beforeAll(async () => {
  p = await TestPlatform.make(TestPlatform.engine() === "pglite" ? { config: { auth: { principalCacheMs: 0 } } } : {})
  admin = await p.login("admin", p.adminPassword)
  const created = await p.http<{ key: string }>("POST", "/api/api-keys", {
    token: admin,
    body: { name: "outage", scopes: ["users:read"] }
  })
  key = created.body.key
})
afterAll(() => p.close())

/** Takes the database away from the platform; the returned function brings it back. */
const takeDatabaseAway = async (): Promise<() => Promise<void>> => {
  const serverUrl = process.env["TEST_DATABASE_URL"]
  if (p.engine === "postgres" && serverUrl) {
    const [{ db }] = (await p.query<{ db: string }>("SELECT current_database() AS db")) as [{ db: string }]
    const server = new SQL(serverUrl)
    await server.unsafe(`ALTER DATABASE "${db}" WITH ALLOW_CONNECTIONS false`)
    await server`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${db} AND pid <> pg_backend_pid()`
    return async () => {
      await server.unsafe(`ALTER DATABASE "${db}" WITH ALLOW_CONNECTIONS true`)
      await server.close()
    }
  }
  await p.query("ALTER TABLE users RENAME TO users_unreachable")
  return async () => {
    await p.query("ALTER TABLE users_unreachable RENAME TO users")
  }
}

describe(`database outage while resolving a credential (${TestPlatform.engine()})`, () => {
  test("an access token or API key is answered 503 with Retry-After, and works again afterwards", async () => {
    const bringBack = await takeDatabaseAway()
    try {
      for (const token of [admin, key]) {
        const res = await p.http<Problem>("GET", "/api/users", { token })
        expect(res.status).toBe(503)
        expect(res.body.code).toBe("service_unavailable")
        expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0)
        expect(res.body.retryAfterSeconds).toBe(Number(res.headers.get("retry-after")))
      }
    } finally {
      await bringBack()
    }
    // The same credentials were never bad: once the database answers, they work.
    await p.eventually(async () => (await p.http("GET", "/api/users", { token: admin })).status === 200)
    expect((await p.http("GET", "/api/users", { token: key })).status).toBe(200)
  })
})
