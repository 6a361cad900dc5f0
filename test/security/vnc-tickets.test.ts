/**
 * Finding 3 of issue 21, VNC half: the WebSocket checked no permission, so an
 * API key scoped to `templates:read` had full desktop control, and the
 * browser sent its long-lived token in the query string. Now the route
 * needs `sessions:connect` (an API key's scopes narrow it) and takes a
 * ticket from `POST /api/sessions/:id/vnc-ticket`: random, stored hashed,
 * bound to its session, used once, short-lived, and redeemed against the
 * user's and key's state at connect time. `?token=` is refused; an
 * Authorization header still works for clients that can send one.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { createHash } from "node:crypto"
import { launch, makeTemplate, makeUser, outcomeOf } from "./vnc-kit.ts"

let p: TestPlatform.TestPlatform
let admin: string
let template: string

beforeAll(async () => {
  p = await TestPlatform.make({ listen: true, config: { sessions: { simulatedDelayMs: 20 } } })
  admin = await p.login("admin", p.adminPassword)
  template = await makeTemplate(p, admin, "ticket-desktop")
})
afterAll(() => p.close())

const greeting = "RFB 003.008\n"
const text = (bytes: Uint8Array) => new TextDecoder("latin1").decode(bytes)

/** Opens the desktop and resolves once the session's VNC server greeted through the proxy. */
const greeted = async (c: VncClient.VncClient) => {
  expect(await outcomeOf(p, c)).toBe("greeted")
  expect(text(c.received()).startsWith(greeting)).toBe(true)
}

const apiKey = async (token: string, scopes: ReadonlyArray<string>) => {
  const res = await p.http<{ id: string; key: string }>("POST", "/api/api-keys", {
    token,
    body: { name: `key-${scopes.join("-")}`, scopes }
  })
  expect(res.status).toBe(201)
  return res.body
}

describe(`VNC tickets and scopes (${TestPlatform.engine()})`, () => {
  test("a key scoped templates:read gets no ticket and cannot connect with its header", async () => {
    const owner = await makeUser(p, admin, "scoped-owner")
    const id = await launch(p, owner.token, template)
    const key = await apiKey(owner.token, ["templates:read"])
    const refused = await p.http<{ code: string; permission: string }>("POST", `/api/sessions/${id}/vnc-ticket`, {
      token: key.key
    })
    expect(refused.status).toBe(403)
    expect(refused.body.permission).toBe("sessions:connect")
    expect(await outcomeOf(p, VncClient.open(p, id, { bearer: key.key }))).toEqual({
      code: 4403,
      reason: "missing permission sessions:connect"
    })
  })

  test("a key scoped sessions:connect gets a ticket and connects, and so does its header", async () => {
    const owner = await makeUser(p, admin, "connect-owner")
    const id = await launch(p, owner.token, template)
    const key = await apiKey(owner.token, ["sessions:connect"])
    const res = await p.http<{ ticket: string; expiresAt: string; url: string }>(
      "POST",
      `/api/sessions/${id}/vnc-ticket`,
      { token: key.key }
    )
    expect(res.status).toBe(200)
    expect(res.body.url).toBe(`/api/sessions/${id}/vnc?ticket=${res.body.ticket}`)
    await greeted(VncClient.open(p, id, { ticket: res.body.ticket }))
    await greeted(VncClient.open(p, id, { bearer: key.key }))
  })

  test("a ticket is redeemed against the current state: a revoked key's ticket, a demoted user's ticket are refused", async () => {
    const owner = await makeUser(p, admin, "revoked-owner")
    const id = await launch(p, owner.token, template)
    const key = await apiKey(owner.token, ["sessions:connect"])
    const keyTicket = await VncClient.ticket(p, id, key.key)
    expect((await p.http("DELETE", `/api/api-keys/${key.id}`, { token: owner.token })).status).toBe(204)
    expect(await outcomeOf(p, VncClient.open(p, id, { ticket: keyTicket }))).toEqual({
      code: 4401,
      reason: "the API key of the ticket was revoked"
    })

    // An operator decides viewers may no longer open desktops, and demotes the user after it got tickets.
    await p.query("DELETE FROM role_permissions WHERE role = 'viewer' AND permission = 'sessions:connect'")
    const userTicket = await VncClient.ticket(p, id, owner.token)
    const otherKey = await apiKey(owner.token, ["sessions:connect"])
    const otherKeyTicket = await VncClient.ticket(p, id, otherKey.key)
    const demoted = await p.http("PATCH", `/api/users/${owner.id}`, { token: admin, body: { roles: ["viewer"] } })
    expect(demoted.status).toBe(200)
    for (const ticket of [userTicket, otherKeyTicket])
      expect(await outcomeOf(p, VncClient.open(p, id, { ticket }))).toEqual({
        code: 4403,
        reason: "missing permission sessions:connect"
      })
  })

  test("a ticket works once", async () => {
    const owner = await makeUser(p, admin, "once-owner")
    const id = await launch(p, owner.token, template)
    const ticket = await VncClient.ticket(p, id, owner.token)
    await greeted(VncClient.open(p, id, { ticket }))
    expect(await outcomeOf(p, VncClient.open(p, id, { ticket }))).toEqual({
      code: 4401,
      reason: "invalid or already used ticket"
    })
  })

  test("a ticket is bound to its session: used on another, it is refused and spent", async () => {
    const owner = await makeUser(p, admin, "bound-owner")
    const first = await launch(p, owner.token, template)
    const second = await launch(p, owner.token, template)
    const ticket = await VncClient.ticket(p, first, owner.token)
    expect(await outcomeOf(p, VncClient.open(p, second, { ticket }))).toEqual({
      code: 4401,
      reason: "the ticket is for another session"
    })
    expect(await outcomeOf(p, VncClient.open(p, first, { ticket }))).toMatchObject({ code: 4401 })
  })

  test("tickets are stored hashed and audited without the ticket; connections are audited", async () => {
    const owner = await makeUser(p, admin, "audited-owner")
    const id = await launch(p, owner.token, template)
    const ticket = await VncClient.ticket(p, id, owner.token)
    const rows = await p.query<{ ticket_hash: string; user_id: string }>(
      "SELECT ticket_hash, user_id FROM vnc_tickets WHERE session_id = $1",
      [id]
    )
    expect(rows).toEqual([{ ticket_hash: createHash("sha256").update(ticket).digest("hex"), user_id: owner.id }])
    await greeted(VncClient.open(p, id, { ticket }))
    expect(await p.query("SELECT 1 FROM vnc_tickets WHERE session_id = $1", [id])).toEqual([])
    const audit = await p.http<{ items: ReadonlyArray<{ action: string; target: string; result: string }> }>(
      "GET",
      `/api/audit?target=${id}`,
      { token: admin }
    )
    expect(audit.body.items.map((e) => `${e.action} ${e.result}`)).toEqual(
      expect.arrayContaining(["session.vnc_ticket success", "session.connect success"])
    )
    expect(audit.text).not.toContain(ticket)
  })

  test("a token in the query string is refused; no credential is refused", async () => {
    const owner = await makeUser(p, admin, "query-owner")
    const id = await launch(p, owner.token, template)
    const withToken = await outcomeOf(p, VncClient.open(p, id, { query: { token: owner.token } }))
    expect(withToken).toEqual({
      code: 4401,
      reason: "?token= is not accepted: get a ticket with POST /api/sessions/:id/vnc-ticket"
    })
    expect(await outcomeOf(p, VncClient.open(p, id))).toMatchObject({ code: 4401 })
  })

  test("malformed ids, tickets and bearers are refused as the client's fault (4401/4404), never 1011", async () => {
    const owner = await makeUser(p, admin, "malformed-owner")
    const id = await launch(p, owner.token, template)
    const ws = (path: string, bearer?: string) => {
      const url = `${p.url!.replace(/^http/, "ws")}${path}`
      const socket = bearer
        ? new WebSocket(url, { headers: { authorization: `Bearer ${bearer}` } })
        : new WebSocket(url)
      return new Promise<number>((resolve) => socket.addEventListener("close", (e) => resolve(e.code)))
    }
    const cases: ReadonlyArray<readonly [string, string | undefined, number]> = [
      [`/api/sessions/${id}/vnc?ticket=a&ticket=b`, undefined, 4401],
      [`/api/sessions/${id}/vnc?ticket=${"t".repeat(8000)}`, undefined, 4401],
      [`/api/sessions/${id}/vnc`, "t".repeat(8000), 4401],
      [`/api/sessions/${"i".repeat(4096)}/vnc`, owner.token, 4404],
      ["/api/sessions/00000000-0000-4000-8000-000000000000/vnc", owner.token, 4404]
    ]
    const outcomes: Array<string> = []
    for (const [path, bearer] of cases) outcomes.push(`${path.slice(0, 60)} ${await ws(path, bearer)}`)
    expect(outcomes).toEqual(cases.map(([path, , code]) => `${path.slice(0, 60)} ${code}`))
  })

  test("the WebSocket is in the OpenAPI document: a GET answered 101, its ticket, permission and rate limit", async () => {
    const doc = await p.http<{
      paths: Record<string, Record<string, Record<string, unknown>>>
    }>("GET", "/api/openapi.json")
    const op = doc.body.paths["/api/sessions/{id}/vnc"]?.["get"]
    expect(op?.["x-permission"]).toBe("sessions:connect")
    expect(op?.["x-rate-limit"]).toBe("strict")
    expect(Object.keys(op?.["responses"] as object)).toContain("101")
    expect(op?.["parameters"]).toContainEqual(expect.objectContaining({ name: "ticket", in: "query" }))
    const ticket = doc.body.paths["/api/sessions/{id}/vnc-ticket"]?.["post"]
    expect(ticket?.["x-permission"]).toBe("sessions:connect")
    expect(ticket?.["x-rate-limit"]).toBe("strict")
  })

  test("a plain GET of the WebSocket path is 426 with a problem document", async () => {
    const res = await p.http<{ status: number; code: string }>("GET", "/api/sessions/some-id/vnc")
    expect(res.status).toBe(426)
    expect(res.headers.get("content-type")).toContain("application/problem+json")
    expect(res.body).toMatchObject({ status: 426, code: "upgrade_required" })
  })
})
