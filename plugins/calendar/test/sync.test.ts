/**
 * Google Calendar and Outlook sync against stand-in servers on 127.0.0.1
 * that implement the endpoints used (token with PKCE, events insert / patch
 * / delete, freeBusy, calendarView, revoke) with the real APIs' shapes.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { LocalServer, TestPlatform } from "@streamspace/testing"
import { createHash } from "node:crypto"
import calendar from "@streamspace/plugin-calendar"

const password = "quiet-lantern-orbit-7"
let p: TestPlatform.TestPlatform
let admin: string
let ada: string
let templateId: string
let issued = 0
const challenges = new Map<string, string>() // code → code_challenge
const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } })

const standIn = LocalServer.start((req) => {
  const form = new URLSearchParams(req.body)
  if (req.method === "POST" && (req.path === "/google/token" || req.path === "/ms/token")) {
    if (form.get("client_secret") !== "client-secret") return json({ error: "invalid_client" }, 401)
    if (form.get("grant_type") === "authorization_code") {
      const challenge = challenges.get(form.get("code") ?? "")
      const verifier = form.get("code_verifier") ?? ""
      if (!challenge || createHash("sha256").update(verifier).digest("base64url") !== challenge)
        return json({ error: "invalid_grant" }, 400)
      challenges.delete(form.get("code") ?? "")
      issued++
      return json({
        access_token: `access-${issued}`,
        refresh_token: `refresh-${issued}`,
        expires_in: 3600,
        token_type: "Bearer"
      })
    }
    if (form.get("grant_type") === "refresh_token" && form.get("refresh_token")?.startsWith("refresh-")) {
      issued++
      return json({ access_token: `access-${issued}`, expires_in: 3600, token_type: "Bearer" })
    }
    return json({ error: "unsupported_grant_type" }, 400)
  }
  if (!req.path.endsWith("/revoke") && !req.headers.get("authorization")?.startsWith("Bearer access-"))
    return json({ error: { code: 401 } }, 401)
  if (req.method === "POST" && req.path === "/google/calendar/v3/calendars/primary/events")
    return json({ id: "g-event-1", status: "confirmed", ...(req.json as object) })
  if (req.method === "PATCH" && req.path === "/google/calendar/v3/calendars/primary/events/g-event-1")
    return json({ id: "g-event-1", ...(req.json as object) })
  if (req.method === "DELETE" && req.path.startsWith("/google/calendar/v3/calendars/primary/events/"))
    return new Response(null, { status: 204 })
  if (req.method === "POST" && req.path === "/google/calendar/v3/freeBusy")
    return json({
      kind: "calendar#freeBusy",
      calendars: { primary: { busy: [{ start: "2027-01-05T10:00:00Z", end: "2027-01-05T11:00:00Z" }] } }
    })
  if (req.method === "POST" && req.path === "/google/revoke") return new Response(null, { status: 200 })
  if (req.method === "POST" && req.path === "/graph/me/calendar/events")
    return json({ id: "ms-event-1", ...(req.json as object) }, 201)
  if (req.method === "GET" && req.path.startsWith("/graph/me/calendarView"))
    return json({
      value: [
        {
          showAs: "busy",
          start: { dateTime: "2027-01-06T08:00:00.0000000", timeZone: "UTC" },
          end: { dateTime: "2027-01-06T09:00:00.0000000", timeZone: "UTC" }
        },
        {
          showAs: "free",
          start: { dateTime: "2027-01-06T12:00:00.0000000", timeZone: "UTC" },
          end: { dateTime: "2027-01-06T13:00:00.0000000", timeZone: "UTC" }
        }
      ]
    })
  return json({ error: "not found" }, 404)
})

beforeAll(async () => {
  const u = standIn.url
  p = await TestPlatform.make({
    plugins: [calendar],
    clock: "test",
    config: { plugins: { enabled: ["calendar"] } }
  })
  admin = await p.login("admin", p.adminPassword)
  const configured = await p.http("PUT", "/api/admin/plugins/calendar/config", {
    token: admin,
    body: {
      syncIntervalMinutes: 1440,
      google: {
        clientId: "google-client",
        authUrl: `${u}/google/auth`,
        tokenUrl: `${u}/google/token`,
        apiUrl: `${u}/google/calendar/v3`,
        revokeUrl: `${u}/google/revoke`
      },
      googleClientSecret: "client-secret",
      microsoft: { clientId: "ms-client", authUrl: `${u}/ms/auth`, tokenUrl: `${u}/ms/token`, apiUrl: `${u}/graph` },
      microsoftClientSecret: "client-secret"
    }
  })
  expect(configured.status).toBe(200)
  expect(JSON.stringify(configured.body)).not.toContain("client-secret")
  ada = (await p.makeUser("ada", { password })).token
  const t = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "desk", displayName: "Desk", image: "example/desk:1" }
  })
  templateId = t.body.id
})
afterAll(async () => {
  await p.close()
  await standIn.stop()
})

const api = "/api/plugins/calendar"

/** Starts a connection; the provider "authorizes" by recording a code for the PKCE challenge it was sent. */
const authorize = async (provider: "google" | "microsoft") => {
  const res = await p.http<{ authUrl: string }>("POST", `${api}/connect/${provider}`, { token: ada })
  expect(res.status).toBe(200)
  const url = new URL(res.body.authUrl)
  expect(url.searchParams.get("code_challenge_method")).toBe("S256")
  expect(url.searchParams.get("redirect_uri")).toEndWith("/api/plugins/calendar/oauth/callback")
  const code = `code-${crypto.randomUUID()}`
  challenges.set(code, url.searchParams.get("code_challenge")!)
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!
  expect(res.headers.get("set-cookie")).toContain("HttpOnly")
  return { state: url.searchParams.get("state")!, code, cookie, url }
}
const callback = (a: { state: string; code: string }, cookie?: string) =>
  p.http<{ errors?: Array<{ path: string; message: string }> }>(
    "GET",
    `${api}/oauth/callback?state=${encodeURIComponent(a.state)}&code=${encodeURIComponent(a.code)}`,
    cookie ? { headers: { cookie } } : {}
  )

test("OAuth: PKCE code exchange, tokens sealed at rest; a replayed, foreign or expired state is refused", async () => {
  const a = await authorize("google")
  expect(a.url.searchParams.get("state")).not.toContain(
    (await p.query<{ id: string }>("SELECT id FROM users WHERE username = 'ada'"))[0]!.id
  )
  const ok = await callback(a, a.cookie)
  expect(ok.status).toBe(302)
  expect(ok.headers.get("location")).toBe("/plugins/calendar/schedules?connected=google")
  const [row] = await p.query<{ access_token_sealed: string; refresh_token_sealed: string }>(
    "SELECT access_token_sealed, refresh_token_sealed FROM plugin_calendar.integrations"
  )
  expect(row!.access_token_sealed).toStartWith("v1.")
  expect(row!.access_token_sealed).not.toContain("access-")
  expect(row!.refresh_token_sealed).not.toContain("refresh-")
  // Replayed: refused, naming the state.
  const replay = await callback(a, a.cookie)
  expect(replay.status).toBe(400)
  expect(replay.body.errors).toEqual([{ path: "query.state", message: "unknown or already used" }])
  // Another browser (no binding cookie, or another one) cannot finish someone's flow.
  const b = await authorize("google")
  expect((await callback(b)).body.errors?.[0]?.message).toBe("not issued to this browser")
  const c = await authorize("google")
  expect((await callback(c, b.cookie)).body.errors?.[0]?.message).toBe("not issued to this browser")
  // Expired after ten minutes.
  const d = await authorize("google")
  await p.adjustClock("11 minutes")
  expect((await callback(d, d.cookie)).body.errors?.[0]?.message).toBe("expired")
  // Nothing about tokens is listed.
  const list = await p.http<{ items: Array<Record<string, unknown>> }>("GET", `${api}/integrations`, { token: ada })
  expect(list.body.items.map((i) => i.provider)).toEqual(["google"])
  expect(JSON.stringify(list.body)).not.toContain("access-")
})

test("Google: the event is created, moved and deleted as the schedule changes; tokens refresh on expiry", async () => {
  const created = await p.http<{ id: string }>("POST", `${api}/schedules`, {
    token: ada,
    body: {
      templateId,
      name: "Weekly lab",
      timeZone: "Europe/Paris",
      start: "2027-03-22T09:00",
      durationMinutes: 90,
      recurrence: { freq: "WEEKLY", byDay: ["MO"] },
      exceptions: ["2027-03-29"]
    }
  })
  expect(created.status).toBe(201)
  const sync = () =>
    p.http<{ created: number; updated: number; deleted: number }>("POST", `${api}/integrations/google/sync`, {
      token: ada
    })
  const before = standIn.requests.length
  expect((await sync()).body).toEqual({ created: 1, updated: 0, deleted: 0 })
  const insert = standIn.requests.slice(before).find((r) => r.method === "POST" && r.path.endsWith("/events"))!
  expect(insert.json).toEqual({
    summary: "Weekly lab",
    description: "",
    start: { dateTime: "2027-03-22T09:00:00", timeZone: "Europe/Paris" },
    end: { dateTime: "2027-03-22T10:30:00", timeZone: "Europe/Paris" },
    recurrence: ["RRULE:FREQ=WEEKLY;BYDAY=MO", "EXDATE;TZID=Europe/Paris:20270329T090000"],
    extendedProperties: { private: { streamspaceScheduleId: created.body.id } }
  })
  // Unchanged: nothing sent.
  const quiet = standIn.requests.length
  expect((await sync()).body).toEqual({ created: 0, updated: 0, deleted: 0 })
  expect(standIn.requests.length).toBe(quiet)
  // Moved: patched. The hour-old token has expired meanwhile, so it is refreshed first — by the sync job if one of
  // its ticks fell inside the clock move, else by the sync below: counted from the move on.
  const beforeClock = standIn.requests.length
  await p.adjustClock("2 hours")
  expect(
    (await p.http("PATCH", `${api}/schedules/${created.body.id}`, { token: ada, body: { start: "2027-03-23T14:00" } }))
      .status
  ).toBe(200)
  expect((await sync()).body).toEqual({ created: 0, updated: 1, deleted: 0 })
  const moved = standIn.requests.slice(beforeClock)
  expect(moved.map((r) => `${r.method} ${r.path}`)).toEqual([
    "POST /google/token",
    "PATCH /google/calendar/v3/calendars/primary/events/g-event-1"
  ])
  expect(new URLSearchParams(moved[0]!.body).get("grant_type")).toBe("refresh_token")
  expect((moved[1]!.json as { start: unknown }).start).toEqual({
    dateTime: "2027-03-23T14:00:00",
    timeZone: "Europe/Paris"
  })
  expect(moved[1]!.headers.get("authorization")).toBe(`Bearer access-${issued}`)
  // Deleted: the external event goes too.
  expect((await p.http("DELETE", `${api}/schedules/${created.body.id}`, { token: ada })).status).toBe(204)
  const beforeDelete = standIn.requests.length
  expect((await sync()).body).toEqual({ created: 0, updated: 0, deleted: 1 })
  expect(standIn.requests.slice(beforeDelete).map((r) => `${r.method} ${r.path}`)).toEqual([
    "DELETE /google/calendar/v3/calendars/primary/events/g-event-1"
  ])
})

test("Outlook: the event in Microsoft Graph's shape; busy times from both; disconnect revokes and forgets", async () => {
  const a = await authorize("microsoft")
  expect((await callback(a, a.cookie)).status).toBe(302)
  const created = await p.http<{ id: string }>("POST", `${api}/schedules`, {
    token: ada,
    body: {
      templateId,
      name: "Standup",
      timeZone: "America/New_York",
      start: "2027-01-04T09:30",
      durationMinutes: 15,
      recurrence: { freq: "WEEKLY", byDay: ["MO", "WE"], count: 10 }
    }
  })
  expect(created.status).toBe(201)
  const before = standIn.requests.length
  expect((await p.http("POST", `${api}/integrations/microsoft/sync`, { token: ada })).status).toBe(200)
  const event = standIn.requests.slice(before).find((r) => r.path === "/graph/me/calendar/events")!
  expect(event.json).toEqual({
    subject: "Standup",
    body: { contentType: "text", content: "" },
    start: { dateTime: "2027-01-04T09:30:00", timeZone: "America/New_York" },
    end: { dateTime: "2027-01-04T09:45:00", timeZone: "America/New_York" },
    recurrence: {
      pattern: { type: "weekly", interval: 1, daysOfWeek: ["monday", "wednesday"], firstDayOfWeek: "monday" },
      range: { type: "numbered", startDate: "2027-01-04", numberOfOccurrences: 10 }
    }
  })
  const busy = await p.http<{ items: Array<{ provider: string; start: string; end: string }> }>(
    "GET",
    `${api}/busy?from=2027-01-04T00:00:00Z&to=2027-01-08T00:00:00Z`,
    { token: ada }
  )
  expect(busy.status).toBe(200)
  expect(busy.body.items).toEqual([
    { provider: "google", start: "2027-01-05T10:00:00.000Z", end: "2027-01-05T11:00:00.000Z" },
    { provider: "microsoft", start: "2027-01-06T08:00:00.000Z", end: "2027-01-06T09:00:00.000Z" }
  ])
  expect(
    (
      await p.http<{ errors?: Array<{ path: string }> }>(
        "GET",
        `${api}/busy?from=2027-01-04T00:00:00Z&to=2027-01-01T00:00:00Z`,
        { token: ada }
      )
    ).body.errors?.[0]?.path
  ).toBe("query.to")
  const beforeDisconnect = standIn.requests.length
  expect((await p.http("DELETE", `${api}/integrations/google`, { token: ada })).status).toBe(204)
  expect(standIn.requests.slice(beforeDisconnect).map((r) => `${r.method} ${r.path}`)).toEqual(["POST /google/revoke"])
  const left = await p.http<{ items: Array<{ provider: string }> }>("GET", `${api}/integrations`, { token: ada })
  expect(left.body.items.map((i) => i.provider)).toEqual(["microsoft"])
  expect((await p.http("POST", `${api}/connect/yahoo`, { token: ada })).status).toBe(400)
})
