/**
 * The PrincipalCache across replicas: two server processes on one
 * PostgreSQL database, each caching what it read about a caller for a
 * minute (`principalCacheMs: 60000`, so that the time to live cannot be
 * what makes a change visible). A user disabled, a role taken away or a key
 * revoked through one replica is refused by the other once the change's
 * NOTIFY arrives — a matter of milliseconds, waited for here by polling.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ServerDatabase, ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const password = "replica-cache-password"
const userPassword = "quiet-lantern-orbit-7"
let db: ServerDatabase.ServerDatabase
let a: ServerProcess.ServerProcess
let b: ServerProcess.ServerProcess
let admin: string
const configDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "principal-cache-"))

beforeAll(async () => {
  db = await ServerDatabase.create()
  const config = Path.join(configDir, "streamspace.config.json")
  Fs.writeFileSync(config, JSON.stringify({ auth: { principalCacheMs: 60_000 } }))
  const env = {
    DATABASE_URL: db.url,
    STREAMSPACE_CONFIG: config,
    STREAMSPACE_ADMIN_PASSWORD: password,
    STREAMSPACE_RATE_LIMIT: "false",
    STREAMSPACE_LOG_LEVEL: "error"
  }
  a = await ServerProcess.start(env)
  b = await ServerProcess.start(env)
  admin = await ServerProcess.login(a.url, password)
}, 120_000)

afterAll(async () => {
  await a?.stop().catch(() => 0)
  await b?.stop().catch(() => 0)
  await db?.drop()
  Fs.rmSync(configDir, { recursive: true, force: true })
})

const call = (url: string, method: string, path: string, token: string, body?: unknown) =>
  fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {})
  })

const status = async (url: string, path: string, token: string) => {
  const res = await call(url, "GET", path, token)
  await res.arrayBuffer()
  return res.status
}

/** Polls (every 20 ms, at most 10 s) until `path` on `url` answers `expected`; returns the last status. */
const becomes = async (url: string, path: string, token: string, expected: number) => {
  const deadline = Date.now() + 10_000
  let last = await status(url, path, token)
  while (last !== expected && Date.now() < deadline) {
    await Bun.sleep(20)
    last = await status(url, path, token)
  }
  return last
}

const makeUser = async (username: string, roles: ReadonlyArray<string>) => {
  const created = await call(a.url, "POST", "/api/users", admin, { username, password: userPassword, roles })
  expect(created.status).toBe(201)
  const { id } = (await created.json()) as { id: string }
  return { id, token: await ServerProcess.login(a.url, userPassword, username) }
}

describe("principal cache across replicas (postgres)", () => {
  test("a user disabled through one replica is refused by the other", async () => {
    const user = await makeUser("replica-disabled", ["user"])
    const self = `/api/users/${user.id}`
    // Both replicas have read (and cached) the user.
    expect(await status(a.url, self, user.token)).toBe(200)
    expect(await status(b.url, self, user.token)).toBe(200)
    const disabled = await call(b.url, "PATCH", self, admin, { disabled: true })
    expect(disabled.status).toBe(200)
    expect(await status(b.url, self, user.token)).toBe(401)
    expect(await becomes(a.url, self, user.token, 401)).toBe(401)
  })

  test("a role taken away and a key revoked through one replica apply on the other", async () => {
    const user = await makeUser("replica-operator", ["operator"])
    const created = await call(a.url, "POST", "/api/api-keys", user.token, { name: "reads", scopes: ["users:read"] })
    const key = (await created.json()) as { id: string; key: string }
    for (const token of [user.token, key.key]) {
      expect(await status(a.url, "/api/users", token)).toBe(200)
      expect(await status(b.url, "/api/users", token)).toBe(200)
    }
    const demoted = await call(a.url, "PATCH", `/api/users/${user.id}`, admin, { roles: ["user"] })
    expect(demoted.status).toBe(200)
    expect(await becomes(b.url, "/api/users", user.token, 403)).toBe(403)
    expect(await becomes(b.url, "/api/users", key.key, 403)).toBe(403)

    const other = await call(b.url, "POST", "/api/api-keys", user.token, { name: "self", scopes: ["account"] })
    const selfKey = (await other.json()) as { id: string; key: string }
    const self = `/api/users/${user.id}`
    expect(await status(a.url, self, selfKey.key)).toBe(200)
    const revoked = await call(b.url, "DELETE", `/api/api-keys/${selfKey.id}`, user.token)
    expect(revoked.status).toBe(204)
    expect(await becomes(a.url, self, selfKey.key, 401)).toBe(401)
  })
})
