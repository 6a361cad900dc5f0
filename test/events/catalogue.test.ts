/**
 * Every event of the core catalogue is emitted, at the moment it names,
 * with a payload its catalogue Schema decodes and the right actor. The
 * platform is driven through its HTTP API only, on the kubernetes runtime
 * against the test API server (so a workload can be deleted behind the
 * platform's back, or fail); each test reads its event from the outbox.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { CoreEvents, KubernetesRuntime } from "@streamspace/core"
import hello from "@streamspace/plugin-hello"
import { FakeKubeApiServer, TestPlatform } from "@streamspace/testing"
import { Schema } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const NS = "catalogue"
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-events-"))
let api: FakeKubeApiServer.FakeKubeApiServer
let p: TestPlatform.TestPlatform
let admin: string
let adminId: string
let template: string

interface Account {
  readonly id: string
  readonly username: string
  readonly password: string
  token: string
}

interface EventRow {
  readonly id: string
  readonly type: string
  readonly source: string
  readonly payload: unknown
  readonly actor_id: string | null
  readonly occurred_at: Date
}

beforeAll(async () => {
  api = FakeKubeApiServer.start()
  const kubeconfig = Path.join(dir, "kubeconfig")
  Fs.writeFileSync(kubeconfig, api.kubeconfig())
  p = await TestPlatform.make({
    clock: "test",
    plugins: [hello],
    config: { sessions: { runtime: "kubernetes", kubernetes: { namespace: NS, kubeconfig } } }
  })
  admin = await p.login("admin", p.adminPassword)
  adminId = (await p.http<{ id: string }>("GET", "/api/auth/me", { token: admin })).body.id
  template = (
    await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "catalogue-app", displayName: "Catalogue", image: "example/app:1" }
    })
  ).body.id
})
afterAll(async () => {
  await p.close()
  await api.stop()
  Fs.rmSync(dir, { recursive: true, force: true })
})

/** The event of `type` whose payload field `key` is `value` (waiting for it: the orchestrator publishes after the request). */
const eventOf = (type: string, key: string, value: string) =>
  p.eventually(
    async () =>
      (
        await p.query<EventRow>(
          "SELECT id, type, source, payload, actor_id, occurred_at FROM events WHERE type = $1 AND payload->>$2 = $3 ORDER BY tx_id, position",
          [type, key, value]
        )
      )[0]
  )

/** The event, its payload decoded with the catalogue's Schema of its type (throws naming the field otherwise). */
const decoded = async <T extends CoreEvents.CoreEventType, A, I>(
  event: CoreEvents.EventDefinition<T, A, I>,
  key: string,
  value: string
) => {
  const row = await eventOf(event.type, key, value)
  expect(row.source).toBe("core")
  return { row, payload: Schema.decodeUnknownSync(event.schema)(row.payload) }
}

const account = async (username: string): Promise<Account> => ({ username, ...(await p.makeUser(username)) })

const stateOf = async (token: string, id: string) =>
  (await p.http<{ state: string; reason: string | null }>("GET", `/api/sessions/${id}`, { token })).body
/** Steps the test clock until the session is in `state` (the orchestrator polls on it). */
const reach = (token: string, id: string, state: string) =>
  p.eventually(async () => {
    if ((await stateOf(token, id)).state === state) return true
    await p.adjustClock("1 second")
    return false
  }, 20_000)

const launch = async (user: Account) => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", {
    token: user.token,
    body: { templateId: template }
  })
  expect(res.status).toBe(201)
  return res.body.id
}
/** Launches a session and makes its deployment ready; resolves once it is running. */
const running = async (user: Account) => {
  const id = await launch(user)
  const name = KubernetesRuntime.workloadName(id)
  await p.eventually(async () => api.get("deployments", NS, name) !== undefined)
  api.setReady(NS, name, 1)
  await reach(user.token, id, "running")
  return { id, name }
}

const sessionPayload = (sessionId: string, user: Account, state: string) => ({
  sessionId,
  userId: user.id,
  templateId: template,
  state,
  // The template's defaults; the instant of the change on the platform's clock.
  cpu: 1000,
  memory: 2048,
  at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
})

describe(`core event catalogue (${TestPlatform.engine()})`, () => {
  let ada: Account
  let session: { id: string; name: string }
  /** Uploads `text` as `name` to ada's session; returns the file's id. */
  const upload = async (name: string, text: string) => {
    const res = await p.http<{ id: string }>("POST", `/api/sessions/${session.id}/files?name=${name}`, {
      token: ada.token,
      raw: text,
      headers: { "content-type": "text/plain" }
    })
    expect(res.status).toBe(201)
    return res.body.id
  }
  const filePayload = (fileId: string, name: string, text: string) => ({
    fileId,
    userId: ada.id,
    sessionId: session.id,
    name,
    size: text.length,
    at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/)
  })

  // One row per catalogue event: how to make the platform emit it, and what the event must say.
  const cases: ReadonlyArray<readonly [CoreEvents.CoreEventDefinition, () => Promise<void>]> = [
    [
      CoreEvents.UserCreated,
      async () => {
        ada = await account("ada-events")
        const { row, payload } = await decoded(CoreEvents.UserCreated, "userId", ada.id)
        expect(payload).toEqual({ userId: ada.id, username: "ada-events" })
        expect(row.actor_id).toBe(adminId)
        // The first-boot admin is announced too, by the platform itself.
        const first = await decoded(CoreEvents.UserCreated, "userId", adminId)
        expect(first.payload).toEqual({ userId: adminId, username: "admin" })
        expect(first.row.actor_id).toBeNull()
      }
    ],
    [
      CoreEvents.UserLogin,
      async () => {
        const before = await p.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM events WHERE type = 'user.login' AND payload->>'userId' = $1",
          [ada.id]
        )
        ada.token = await p.login(ada.username, ada.password)
        const rows = await p.eventually(async () => {
          const all = await p.query<EventRow>(
            "SELECT payload, actor_id FROM events WHERE type = 'user.login' AND payload->>'userId' = $1 ORDER BY tx_id, position",
            [ada.id]
          )
          return all.length > before[0]!.n ? all : undefined
        })
        const last = rows[rows.length - 1]!
        expect(Schema.decodeUnknownSync(CoreEvents.UserLogin.schema)(last.payload)).toEqual({
          userId: ada.id,
          username: "ada-events"
        })
        expect(last.actor_id).toBe(ada.id)
      }
    ],
    [
      CoreEvents.UserLogout,
      async () => {
        const bob = await account("bob-events")
        expect((await p.http("POST", "/api/auth/logout", { token: bob.token, body: {} })).status).toBe(204)
        const { row, payload } = await decoded(CoreEvents.UserLogout, "userId", bob.id)
        expect(payload).toEqual({ userId: bob.id, username: "bob-events" })
        expect(row.actor_id).toBe(bob.id)
      }
    ],
    [
      CoreEvents.SessionCreated,
      async () => {
        const id = await launch(ada)
        const { row, payload } = await decoded(CoreEvents.SessionCreated, "sessionId", id)
        expect(payload).toEqual(sessionPayload(id, ada, "pending"))
        expect(row.actor_id).toBe(ada.id)
        session = { id, name: KubernetesRuntime.workloadName(id) }
      }
    ],
    [
      CoreEvents.SessionStarted,
      async () => {
        expect(
          await p.query("SELECT 1 FROM events WHERE type = 'session.started' AND payload->>'sessionId' = $1", [
            session.id
          ])
        ).toEqual([])
        await p.eventually(async () => api.get("deployments", NS, session.name) !== undefined)
        api.setReady(NS, session.name, 1)
        await reach(ada.token, session.id, "running")
        const { row, payload } = await decoded(CoreEvents.SessionStarted, "sessionId", session.id)
        expect(payload).toEqual(sessionPayload(session.id, ada, "running"))
        expect(row.actor_id).toBeNull()
      }
    ],
    [
      CoreEvents.SessionHibernated,
      async () => {
        expect((await p.http("POST", `/api/sessions/${session.id}/hibernate`, { token: ada.token })).status).toBe(202)
        await reach(ada.token, session.id, "hibernated")
        const { row, payload } = await decoded(CoreEvents.SessionHibernated, "sessionId", session.id)
        expect(payload).toEqual(sessionPayload(session.id, ada, "hibernated"))
        expect(row.actor_id).toBeNull()
      }
    ],
    [
      CoreEvents.SessionWoken,
      async () => {
        expect((await p.http("POST", `/api/sessions/${session.id}/wake`, { token: ada.token })).status).toBe(202)
        await p.eventually(
          async () =>
            (api.get("deployments", NS, session.name)?.spec as { replicas?: number } | undefined)?.replicas === 1
        )
        api.setReady(NS, session.name, 1)
        await reach(ada.token, session.id, "running")
        const { row, payload } = await decoded(CoreEvents.SessionWoken, "sessionId", session.id)
        expect(payload).toEqual(sessionPayload(session.id, ada, "running"))
        expect(row.actor_id).toBeNull()
      }
    ],
    [
      CoreEvents.FileUploaded,
      async () => {
        const id = await upload("notes.txt", "catalogue bytes")
        const { row, payload } = await decoded(CoreEvents.FileUploaded, "fileId", id)
        expect(payload).toEqual(filePayload(id, "notes.txt", "catalogue bytes"))
        expect(row.actor_id).toBe(ada.id)
      }
    ],
    [
      CoreEvents.FileDeleted,
      async () => {
        const id = await upload("gone.txt", "bytes to delete")
        const deleted = await p.http("DELETE", `/api/sessions/${session.id}/files/${id}`, { token: ada.token })
        expect(deleted.status).toBe(204)
        const { row, payload } = await decoded(CoreEvents.FileDeleted, "fileId", id)
        expect(payload).toEqual(filePayload(id, "gone.txt", "bytes to delete"))
        expect(row.actor_id).toBe(ada.id)
      }
    ],
    [
      CoreEvents.SessionDeleted,
      async () => {
        expect((await p.http("DELETE", `/api/sessions/${session.id}`, { token: ada.token })).status).toBe(202)
        await reach(ada.token, session.id, "terminated")
        const { row, payload } = await decoded(CoreEvents.SessionDeleted, "sessionId", session.id)
        expect(payload).toEqual(sessionPayload(session.id, ada, "terminated"))
        expect(row.actor_id).toBeNull()
        // Deleted on request, not stopped.
        expect(
          await p.query("SELECT 1 FROM events WHERE type = 'session.stopped' AND payload->>'sessionId' = $1", [
            session.id
          ])
        ).toEqual([])
      }
    ],
    [
      CoreEvents.SessionStopped,
      async () => {
        const s = await running(ada)
        // Someone deletes the workload behind the platform's back (kubectl delete).
        const res = await fetch(`${api.url}/apis/apps/v1/namespaces/${NS}/deployments/${s.name}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${api.token}` }
        })
        expect(res.ok).toBe(true)
        await reach(ada.token, s.id, "terminated")
        const { row, payload } = await decoded(CoreEvents.SessionStopped, "sessionId", s.id)
        expect(payload).toEqual({ ...sessionPayload(s.id, ada, "terminated"), reason: "the workload was deleted" })
        expect(row.actor_id).toBeNull()
        expect(
          await p.query("SELECT 1 FROM events WHERE type = 'session.deleted' AND payload->>'sessionId' = $1", [s.id])
        ).toEqual([])
      }
    ],
    [
      CoreEvents.SessionFailed,
      async () => {
        const s = await running(ada)
        api.failDeployment(NS, s.name, "Back-off pulling image example/app:1")
        await reach(ada.token, s.id, "failed")
        const { row, payload } = await decoded(CoreEvents.SessionFailed, "sessionId", s.id)
        expect(payload).toMatchObject(sessionPayload(s.id, ada, "failed"))
        expect(payload.reason).toContain("Back-off pulling image")
        expect(payload.reason).toBe((await stateOf(ada.token, s.id)).reason ?? "")
        expect(row.actor_id).toBeNull()
      }
    ],
    [
      CoreEvents.QuotaExceeded,
      async () => {
        const eve = await account("eve-events")
        expect(
          (await p.http("PUT", `/api/quotas/users/${eve.id}`, { token: admin, body: { maxSessions: 1 } })).status
        ).toBe(200)
        await launch(eve)
        const denied = await p.http("POST", "/api/sessions", { token: eve.token, body: { templateId: template } })
        expect(denied.status).toBe(403)
        const { row, payload } = await decoded(CoreEvents.QuotaExceeded, "userId", eve.id)
        expect(payload).toEqual({
          userId: eve.id,
          scope: "user",
          scopeId: eve.id,
          limit: "sessions",
          max: 1,
          requested: 2
        })
        expect(row.actor_id).toBe(eve.id)
      }
    ],
    ...(
      [
        [CoreEvents.PluginInstalled, "POST", "/api/admin/plugins/hello/install"],
        [CoreEvents.PluginEnabled, "POST", "/api/admin/plugins/hello/enable"],
        [CoreEvents.PluginConfigured, "PUT", "/api/admin/plugins/hello/config"],
        [CoreEvents.PluginDisabled, "POST", "/api/admin/plugins/hello/disable"],
        [CoreEvents.PluginUninstalled, "DELETE", "/api/admin/plugins/hello"]
      ] as const
    ).map(
      ([event, method, path]) =>
        [
          event,
          async () => {
            const res = await p.http(method, path, { token: admin, ...(method === "PUT" ? { body: {} } : {}) })
            expect(res.status).toBeLessThan(300)
            const { row, payload } = await decoded(event, "plugin", "hello")
            expect(payload).toEqual({ plugin: "hello" })
            expect(row.actor_id).toBe(adminId)
          }
        ] as const
    )
  ]

  test("every catalogue event has a case here, read with the catalogue's own Schema", () => {
    expect(cases.map(([event]) => event.type).sort()).toEqual([...CoreEvents.coreEventTypes].sort())
    for (const [event] of cases) expect(CoreEvents.catalog[event.type]).toBe(event.schema)
  })

  for (const [event, run] of cases) {
    test(`${event.type}: ${event.description}`, run, 60_000)
  }
})
