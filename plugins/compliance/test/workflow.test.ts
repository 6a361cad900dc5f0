/**
 * On a simulated clock: automated checks on a fresh platform report the
 * expected failing controls and pass after fixing them, manual controls take
 * attestations, violations go open → acknowledged → resolved, reports are
 * stored with their SHA-256 (JSON and CSV), the maximum-duration job
 * hibernates over-long sessions through SessionControl, retention has a dry
 * run and honours legal holds, and the check job runs every checkInterval.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { extractText, getDocumentProxy } from "unpdf"
import { base, createPolicy, makeTemplate, makeUser, start, upload, violations } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  // The core's idle timeout (30 min by default) would hibernate sessions before the maximum duration does.
  ;({ p, admin } = await start({
    clock: "test",
    config: { sessions: { simulatedDelayMs: 20, idleTimeoutSeconds: 86_400 * 30 } }
  }))
  // Hourly duration checks keep clock moves cheap (every due tick of every job runs on the way).
  await configure({ durationCheckMinutes: 60 })
})

const configure = async (value: Record<string, unknown>) =>
  expect((await p.http("PUT", "/api/admin/plugins/compliance/config", { token: admin, body: value })).status).toBe(200)
afterAll(() => p.close())

interface Control {
  readonly id: string
  readonly latest: { status: string; summary: string; evidence: Record<string, unknown> } | null
}
const controls = async (framework: string) =>
  (await p.http<{ items: ReadonlyArray<Control> }>("GET", `${base}/frameworks/${framework}/controls`, { token: admin }))
    .body.items
const statusOf = async (framework: string, id: string) => (await controls(framework)).find((c) => c.id === id)?.latest

describe(`checks, violations, reports, duration (${TestPlatform.engine()})`, () => {
  test("a fresh platform fails the expected controls; fixing them makes them pass", async () => {
    const run = await p.http<{ runId: string; failed: number; notEvaluable: number }>("POST", `${base}/checks/run`, {
      token: admin,
      body: {}
    })
    expect(run.status).toBe(200)
    expect(await statusOf("SOC2", "CC6.1-POLICY")).toMatchObject({ status: "fail" })
    expect(await statusOf("SOC2", "CC6.7")).toMatchObject({ status: "fail" })
    expect(await statusOf("SOC2", "CC6.3")).toMatchObject({ status: "pass", evidence: { admins: ["admin"] } })
    // The core's facts come through the posture grant: the admin has no second factor (posture.test.ts fixes it).
    expect(await statusOf("SOC2", "CC6.1-MFA")).toMatchObject({ status: "fail", evidence: { withoutMfa: ["admin"] } })
    expect(await statusOf("SOC2", "CC1.4")).toMatchObject({ status: "unattested" })

    await createPolicy(p, admin, {
      name: "admins-mfa",
      enforcement: "blocking",
      appliesTo: { roles: ["admin"] },
      rules: { login: { requireMfa: true } }
    })
    await createPolicy(p, admin, {
      name: "dlp-everyone",
      enforcement: "warning",
      appliesTo: { all: true },
      rules: { files: { inspect: { patterns: ["credit-card", "us-ssn"], action: "log" } } }
    })
    const attest = await p.http("POST", `${base}/attestations`, {
      token: admin,
      body: { framework: "SOC2", controlId: "CC1.4", statement: "All staff completed training in November." }
    })
    expect(attest.status).toBe(201)
    const automated = await p.http<{ errors: Array<{ path: string }> }>("POST", `${base}/attestations`, {
      token: admin,
      body: { framework: "SOC2", controlId: "CC6.3", statement: "We promise it is fine." }
    })
    expect(automated.status).toBe(400)
    expect(automated.body.errors[0]?.path).toBe("body.controlId")

    expect((await p.http("POST", `${base}/checks/run`, { token: admin, body: { frameworks: ["SOC2"] } })).status).toBe(
      200
    )
    expect(await statusOf("SOC2", "CC6.1-POLICY")).toMatchObject({ status: "pass" })
    expect(await statusOf("SOC2", "CC6.7")).toMatchObject({ status: "pass" })
    expect(await statusOf("SOC2", "CC1.4")).toMatchObject({ status: "attested" })
    const history = await p.http<{ items: Array<{ status: string }> }>(
      "GET",
      `${base}/checks?framework=SOC2&controlId=CC6.1-POLICY`,
      { token: admin }
    )
    expect(history.body.items.map((h) => h.status)).toEqual(["pass", "fail"])
  })

  test("the check job runs every checkInterval hours", async () => {
    const before = (
      await p.http<{ items: unknown[] }>("GET", `${base}/checks?framework=SOC2&controlId=CC6.3&limit=500`, {
        token: admin
      })
    ).body.items.length
    await p.adjustClock("24 hours")
    const after = (
      await p.http<{ items: unknown[] }>("GET", `${base}/checks?framework=SOC2&controlId=CC6.3&limit=500`, {
        token: admin
      })
    ).body.items.length
    expect(after).toBe(before + 1)
  })

  test("violations: open → acknowledged → resolved, with the resolver; wrong transitions are 409", async () => {
    const user = await makeUser(p, admin, "carol")
    const template = await makeTemplate(p, admin, "desk")
    const session = (
      await p.http<{ id: string }>("POST", "/api/sessions", { token: user.token, body: { templateId: template } })
    ).body.id
    expect((await upload(p, user.token, session, "c.txt", "ssn 123-45-6789")).status).toBe(201)
    const v = await p.eventually(async () => (await violations(p, admin, "?status=open&type=dlp_content_violation"))[0])
    expect(v).toMatchObject({ policyName: "dlp-everyone", action: "logged_only", userId: user.id })
    const ack = await p.http<{ status: string; acknowledgedBy: string }>(
      "POST",
      `${base}/violations/${v.id}/acknowledge`,
      { token: admin }
    )
    expect(ack.body).toMatchObject({ status: "acknowledged", acknowledgedBy: "admin" })
    expect((await p.http("POST", `${base}/violations/${v.id}/acknowledge`, { token: admin })).status).toBe(409)
    const bad = await p.http<{ errors: Array<{ path: string }> }>("POST", `${base}/violations/${v.id}/resolve`, {
      token: admin,
      body: { status: "closed", resolution: "x" }
    })
    expect(bad.body.errors.map((e) => e.path)).toContain("body.status")
    const done = await p.http<{ status: string; resolvedBy: string; resolution: string }>(
      "POST",
      `${base}/violations/${v.id}/resolve`,
      {
        token: admin,
        body: { status: "false_positive", resolution: "test data from the QA fixture" }
      }
    )
    expect(done.body).toMatchObject({
      status: "false_positive",
      resolvedBy: "admin",
      resolution: "test data from the QA fixture"
    })
    // The event for notification plugins was published.
    const events = await p.query<{ type: string; payload: { violationId: string } }>(
      "SELECT type, payload FROM events WHERE type = 'compliance.violation.created'"
    )
    expect(events.map((e) => e.payload.violationId)).toContain(v.id)
    const dash = await p.http<{ openViolations: number; activePolicies: number }>("GET", `${base}/dashboard`, {
      token: admin
    })
    expect(dash.body).toMatchObject({ activePolicies: 2 })
  })

  test("reports: JSON with its stored SHA-256, CSV per control", async () => {
    const now = Date.parse(
      (await p.http<{ checkedAt: string }>("POST", `${base}/checks/run`, { token: admin, body: {} })).body.checkedAt
    )
    const res = await p.http<{
      id: string
      sha256: string
      report: { overallStatus: string; controlsSummary: { total: number; notEvaluable: number } }
    }>("POST", `${base}/reports`, {
      token: admin,
      body: {
        framework: "SOC2",
        type: "detailed",
        from: new Date(now - 86_400_000 * 3).toISOString(),
        to: new Date(now + 1000).toISOString()
      }
    })
    expect(res.status).toBe(201)
    expect(res.body.report.controlsSummary.total).toBe(13)
    // With the posture grant every SOC 2 automated control is evaluated.
    expect(res.body.report.controlsSummary.notEvaluable).toBe(0)
    expect(res.body.sha256).toBe(new Bun.CryptoHasher("sha256").update(JSON.stringify(res.body.report)).digest("hex"))
    const json = await p.http<{ sha256: string }>("GET", `${base}/reports/${res.body.id}`, { token: admin })
    expect(json.body.sha256).toBe(res.body.sha256)
    const csv = await p.http("GET", `${base}/reports/${res.body.id}?format=csv`, { token: admin })
    expect(csv.headers.get("content-type")).toContain("text/csv")
    const lines = csv.text.trim().split("\r\n")
    expect(lines[0]).toBe("id,title,kind,status,summary,checkedAt")
    expect(lines).toHaveLength(14)
    expect(csv.headers.get("x-content-sha256")).toBe(new Bun.CryptoHasher("sha256").update(csv.text).digest("hex"))
    const pdf = await p.app.handle(
      new Request(`http://127.0.0.1${base}/reports/${res.body.id}?format=pdf`, {
        headers: { authorization: `Bearer ${admin}` }
      })
    )
    expect(pdf.headers.get("content-type")).toBe("application/pdf")
    const bytes = new Uint8Array(await pdf.arrayBuffer())
    expect(pdf.headers.get("x-content-sha256")).toBe(new Bun.CryptoHasher("sha256").update(bytes).digest("hex"))
    const pages = await extractText(await getDocumentProxy(bytes), { mergePages: true })
    expect(pages.text).toContain("CC6.3")
    expect(pages.text).toContain(res.body.sha256)
    const backwards = await p.http<{ errors: Array<{ path: string }> }>("POST", `${base}/reports`, {
      token: admin,
      body: {
        framework: "SOC2",
        type: "summary",
        from: new Date(now).toISOString(),
        to: new Date(now - 1000).toISOString()
      }
    })
    expect(backwards.body.errors[0]?.path).toBe("body.to")
  })

  test("maximum session duration: the job hibernates an over-long session and records one violation", async () => {
    const dave = await makeUser(p, admin, "dave")
    const template = await makeTemplate(p, admin, "long")
    await createPolicy(p, admin, {
      name: "two-hours",
      enforcement: "blocking",
      appliesTo: { users: [dave.id] },
      rules: { session: { maxDurationMinutes: 120 } }
    })
    const session = (
      await p.http<{ id: string }>("POST", "/api/sessions", { token: dave.token, body: { templateId: template } })
    ).body.id
    await p.eventually(async () => {
      if (
        (await p.http<{ state: string }>("GET", `/api/sessions/${session}`, { token: dave.token })).body.state ===
        "running"
      )
        return true
      await p.adjustClock("1 second")
      return false
    })
    await p.awaitDelivered()
    await p.adjustClock("1 hour")
    expect((await p.http<{ state: string }>("GET", `/api/sessions/${session}`, { token: dave.token })).body.state).toBe(
      "running"
    )
    await p.adjustClock("2 hours")
    await p.eventually(async () => {
      const state = (
        await p.http<{ state: string; desiredState?: string }>("GET", `/api/sessions/${session}`, { token: dave.token })
      ).body.state
      if (state === "hibernated") return true
      await p.adjustClock("1 second")
      return false
    })
    const v = await p.eventually(async () => {
      const list = (await violations(p, admin, "?type=session_duration_violation")).filter(
        (x) => x.policyName === "two-hours"
      )
      return list.length > 0 ? list : undefined
    })
    expect(v).toHaveLength(1)
    expect(v[0]).toMatchObject({ action: "blocked", userId: dave.id })
  })

  test("retention: a dry run counts, legal holds keep a user's violations", async () => {
    const preview = await p.http<{ violations: number; retentionDays: number }>("GET", `${base}/retention/preview`, {
      token: admin
    })
    expect(preview.body).toMatchObject({ violations: 0, retentionDays: 365 })
    const resolved = await violations(p, admin, "?status=false_positive")
    expect(resolved).toHaveLength(1)
    const carol = (await violations(p, admin, "?status=false_positive"))[0]!
    expect(
      (
        await p.http("PUT", `${base}/legal-holds/${carol.userId}`, {
          token: admin,
          body: { reason: "litigation 2026-17" }
        })
      ).status
    ).toBe(204)
    await configure({ durationCheckMinutes: 60, retentionDays: 1 })
    await p.adjustClock("2 days")
    const later = await p.http<{ violations: number; keptByLegalHold: number }>("GET", `${base}/retention/preview`, {
      token: admin
    })
    expect(later.body.keptByLegalHold).toBe(1)
    // The retention job ran on the way: the held violation is still there.
    expect((await violations(p, admin, "?status=false_positive")).map((x) => x.id)).toContain(carol.id)
    expect((await p.http("DELETE", `${base}/legal-holds/${carol.userId}`, { token: admin })).status).toBe(204)
    expect((await p.runJob("compliance", "retention")).outcome).toBe("success")
    expect((await violations(p, admin, "?status=false_positive")).map((x) => x.id)).not.toContain(carol.id)
  })

  test("uninstall drops the plugin's schema", async () => {
    expect((await p.http("POST", "/api/admin/plugins/compliance/disable", { token: admin })).status).toBe(200)
    expect((await p.http("DELETE", "/api/admin/plugins/compliance", { token: admin })).status).toBe(204)
    const schemas = await p.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM information_schema.schemata WHERE schema_name = 'plugin_compliance'"
    )
    expect(schemas[0]?.n).toBe(0)
  })
})
