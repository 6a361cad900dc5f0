/**
 * Policies enforced at the core's hooks, through the real HTTP API on a
 * real platform: a blocking policy refuses (403 naming the policy), a
 * warning policy lets the action through and records a violation (each
 * violation is listed by the time its request is answered), a group-scoped
 * policy leaves other users alone, DLP inspects the uploaded bytes (a valid
 * card number, not an invalid-Luhn one; by magic bytes, not by name),
 * downloads pass their own hook, and a disabled plugin runs no hook.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HookRunner } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Either } from "effect"
import {
  base,
  createPolicy,
  deletePolicy,
  makeTemplate,
  makeUser,
  password,
  start,
  upload,
  violations,
  violationsOf
} from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
let template: string
let ada: { id: string; token: string; session: string }
let bob: { id: string; token: string; session: string }

const everyone = { all: true }
const card = "invoice\ncard: 4111 1111 1111 1111\n"
const notACard = "order number 4111 1111 1111 1112\n"

const session = async (token: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", { token, body: { templateId: template } })
  expect(res.status).toBe(201)
  return res.body.id
}

beforeAll(async () => {
  ;({ p, admin } = await start())
  template = await makeTemplate(p, admin, "desk")
  const a = await makeUser(p, admin, "ada", ["Finance"])
  const b = await makeUser(p, admin, "bob")
  ada = { ...a, session: await session(a.token) }
  bob = { ...b, session: await session(b.token) }
  await p.awaitDelivered()
})
afterAll(() => p.close())

describe(`enforcement at the hooks (${TestPlatform.engine()})`, () => {
  test("file.inspectUpload: a valid card number is refused under a blocking DLP policy, naming the policy", async () => {
    const id = await createPolicy(p, admin, {
      name: "no-cards",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { files: { inspect: { patterns: ["credit-card"], action: "block" } } }
    })
    const refused = await upload(p, ada.token, ada.session, "notes.txt", card)
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toContain('policy "no-cards"')
    // An invalid-Luhn 16-digit number is not a card: accepted, nothing recorded for it.
    expect((await upload(p, ada.token, ada.session, "order.txt", notACard)).status).toBe(201)
    // The refused bytes were removed: only the accepted file is listed.
    const files = await p.http<{ items: Array<{ name: string }> }>("GET", `/api/sessions/${ada.session}/files`, {
      token: ada.token
    })
    expect(files.body.items.map((f) => f.name)).toEqual(["order.txt"])
    // Recorded by the time the 403 came (read once, not polled).
    const v = await violations(p, admin, "?type=dlp_content_violation")
    expect(v).toHaveLength(1)
    expect(v[0]).toMatchObject({ policyName: "no-cards", userId: ada.id, action: "blocked", severity: "critical" })
    expect(v[0]!.details).toMatchObject({ patterns: { "credit-card": 1 }, name: "notes.txt" })
    // The matched digits are never stored.
    expect(JSON.stringify(v[0])).not.toContain("4111")
    await deletePolicy(p, admin, id)
  })

  test("the same card is accepted under action log, with a violation logged", async () => {
    const id = await createPolicy(p, admin, {
      name: "log-cards",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { files: { inspect: { patterns: ["credit-card"], action: "log" } } }
    })
    expect((await upload(p, ada.token, ada.session, "logged.txt", card)).status).toBe(201)
    expect(await violationsOf(p, admin, "log-cards")).toMatchObject([{ action: "logged_only" }])
    await deletePolicy(p, admin, id)
  })

  test("file types by content: an executable renamed .txt is refused; a warning policy lets a PDF through with a violation", async () => {
    const deny = await createPolicy(p, admin, {
      name: "no-executables",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { files: { denyTypes: ["exe", "elf"] } }
    })
    const exe = new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03, 0x00, 0x00, 0x00])
    const refused = await upload(p, bob.token, bob.session, "readme.txt", exe)
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toContain('policy "no-executables": files of type exe are not allowed')
    const warn = await createPolicy(p, admin, {
      name: "pdf-warning",
      enforcement: "warning",
      appliesTo: everyone,
      rules: { files: { denyTypes: ["pdf"] } }
    })
    expect((await upload(p, bob.token, bob.session, "report.bin", "%PDF-1.7\n%%EOF\n")).status).toBe(201)
    expect(await violationsOf(p, admin, "pdf-warning")).toMatchObject([
      { type: "file_type_violation", action: "allowed_with_warning", userId: bob.id }
    ])
    await deletePolicy(p, admin, deny)
    await deletePolicy(p, admin, warn)
  })

  test("file.beforeUpload (declared size) and file.beforeDownload", async () => {
    const small = await createPolicy(p, admin, {
      name: "small-files",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { files: { maxBytes: 10 } }
    })
    const big = await upload(p, bob.token, bob.session, "big.txt", "x".repeat(100))
    expect(big.status).toBe(403)
    expect(big.body.detail).toContain('policy "small-files": 100 bytes is over the limit of 10')
    await deletePolicy(p, admin, small)

    const file = await upload(p, bob.token, bob.session, "plain.txt", "nothing to see")
    expect(file.status).toBe(201)
    const noDownloads = await createPolicy(p, admin, {
      name: "no-downloads",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { files: { downloads: false } }
    })
    const refused = await p.http<{ detail: string; plugin: string }>(
      "GET",
      `/api/sessions/${bob.session}/files/${file.body.id}`,
      { token: bob.token }
    )
    expect(refused.status).toBe(403)
    expect(refused.body.plugin).toBe("compliance")
    expect(refused.body.detail).toContain('policy "no-downloads": file downloads are not allowed')
    await deletePolicy(p, admin, noDownloads)
    const ok = await p.http("GET", `/api/sessions/${bob.session}/files/${file.body.id}`, { token: bob.token })
    expect(ok.status).toBe(200)
    expect(ok.text).toBe("nothing to see")
  })

  test("a policy scoped to a group does not touch other users", async () => {
    const id = await createPolicy(p, admin, {
      name: "finance-no-uploads",
      enforcement: "blocking",
      appliesTo: { groups: ["finance"] },
      rules: { files: { uploads: false } }
    })
    const refused = await upload(p, ada.token, ada.session, "a.txt", "hello")
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toContain("finance-no-uploads")
    expect((await upload(p, bob.token, bob.session, "b.txt", "hello")).status).toBe(201)
    await deletePolicy(p, admin, id)
  })

  test("session.beforeCreate: max concurrent sessions (blocking refuses, warning records) and template classification", async () => {
    const limit = await createPolicy(p, admin, {
      name: "one-session",
      enforcement: "blocking",
      appliesTo: { users: [bob.id] },
      rules: { session: { maxConcurrent: 1 } }
    })
    const refused = await p.http<{ detail: string }>("POST", "/api/sessions", {
      token: bob.token,
      body: { templateId: template }
    })
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toContain('policy "one-session": at most 1 concurrent sessions (1 active)')
    // Ada is not in its scope.
    const adaSecond = await p.http<{ id: string }>("POST", "/api/sessions", {
      token: ada.token,
      body: { templateId: template }
    })
    expect(adaSecond.status).toBe(201)
    await deletePolicy(p, admin, limit)

    const warn = await createPolicy(p, admin, {
      name: "one-session-warning",
      enforcement: "warning",
      appliesTo: { users: [bob.id] },
      rules: { session: { maxConcurrent: 1 } }
    })
    expect((await p.http("POST", "/api/sessions", { token: bob.token, body: { templateId: template } })).status).toBe(
      201
    )
    expect(await violationsOf(p, admin, "one-session-warning")).toMatchObject([
      { type: "session_limit_violation", action: "allowed_with_warning", userId: bob.id }
    ])
    await deletePolicy(p, admin, warn)

    const secret = await makeTemplate(p, admin, "vault")
    expect(
      (
        await p.http("PUT", `${base}/templates/${secret}/classification`, {
          token: admin,
          body: { classification: "restricted" }
        })
      ).status
    ).toBe(204)
    const classes = await createPolicy(p, admin, {
      name: "public-templates-only",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { session: { allowedClassifications: ["unclassified", "internal"] } }
    })
    const vault = await p.http<{ detail: string }>("POST", "/api/sessions", {
      token: ada.token,
      body: { templateId: secret }
    })
    expect(vault.status).toBe(403)
    expect(vault.body.detail).toContain("template vault is classified restricted")
    expect((await p.http("POST", "/api/sessions", { token: ada.token, body: { templateId: template } })).status).toBe(
      201
    )
    await deletePolicy(p, admin, classes)
  })

  test("session.beforeCreate: a required reason (the core passes `reason` through the hook input)", async () => {
    const id = await createPolicy(p, admin, {
      name: "reason-required",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { session: { requireReason: true } }
    })
    const run = (reason: string | null) =>
      p.run(
        Effect.either(
          Effect.flatMap(HookRunner.HookRunner, (h) =>
            h.run("session.beforeCreate", {
              userId: ada.id,
              templateId: template,
              templateName: "desk",
              cpu: 1000,
              memory: 1024,
              persistentHome: false,
              reason
            })
          )
        )
      )
    const refused = await run("  ")
    expect(Either.isLeft(refused) && refused.left.message).toContain('policy "reason-required": a reason is required')
    expect(Either.isRight(await run("incident INC-42"))).toBe(true)
    // Through the launch route: `reason` of the request reaches the hook.
    const launch = (body: Record<string, unknown>) =>
      p.http<{ detail: string }>("POST", "/api/sessions", { token: ada.token, body: { templateId: template, ...body } })
    const without = await launch({})
    expect(without.status).toBe(403)
    expect(without.body.detail).toContain('policy "reason-required": a reason is required')
    expect((await launch({ reason: "incident INC-43" })).status).toBe(201)
    await deletePolicy(p, admin, id)
  })

  test("user.beforeLogin: allowed IP ranges refuse a real sign-in; MFA and hours through the hook input", async () => {
    const ranges = await createPolicy(p, admin, {
      name: "office-only",
      enforcement: "blocking",
      appliesTo: { users: [bob.id] },
      rules: { login: { allowedIpRanges: ["10.0.0.0/8"] } }
    })
    const refused = await p.http<{ detail: string }>("POST", "/api/auth/login", { body: { username: "bob", password } })
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toContain('policy "office-only": sign-in from')
    // Ada is not in its scope.
    expect((await p.http("POST", "/api/auth/login", { body: { username: "ada", password } })).status).toBe(200)
    const login = (ip: string, mfa?: boolean) =>
      p.run(
        Effect.either(
          Effect.flatMap(HookRunner.HookRunner, (h) =>
            h.run("user.beforeLogin", { userId: bob.id, username: "bob", ip, mfa: mfa ?? false })
          )
        )
      )
    expect(Either.isRight(await login("10.20.30.40"))).toBe(true)
    await deletePolicy(p, admin, ranges)

    const mfa = await createPolicy(p, admin, {
      name: "mfa-for-all",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { login: { requireMfa: true } }
    })
    // A real sign-in without a second factor (bob has no TOTP): the core reports it and the policy refuses.
    const real = await p.http<{ detail: string }>("POST", "/api/auth/login", { body: { username: "bob", password } })
    expect(real.status).toBe(403)
    expect(real.body.detail).toContain('policy "mfa-for-all": a second factor is required')
    const noMfa = await login("10.0.0.1", false)
    expect(Either.isLeft(noMfa) && noMfa.left.message).toContain('policy "mfa-for-all": a second factor is required')
    expect(Either.isRight(await login("10.0.0.1", true))).toBe(true)
    await deletePolicy(p, admin, mfa)

    const hours = await createPolicy(p, admin, {
      name: "never",
      enforcement: "warning",
      appliesTo: everyone,
      rules: { login: { allowedHours: { from: "00:00", to: "00:00", days: [] } } }
    })
    expect(Either.isRight(await login("10.0.0.1"))).toBe(true)
    // Called outside a request, the hook leaves its violation to the plugin's writer fiber: a moment later.
    await p.eventually(async () => {
      const v = (await violations(p, admin, "?type=access_hours_violation")).filter((x) => x.policyName === "never")
      expect(v.length).toBeGreaterThan(0)
      return true
    })
    await deletePolicy(p, admin, hours)
  })

  test("validation names the field; a pathological custom pattern is refused", async () => {
    const bad = await p.http<{ errors: Array<{ path: string }> }>("POST", `${base}/policies`, {
      token: admin,
      body: { name: "x", enforcement: "strict", appliesTo: everyone, rules: {} }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors[0]?.path).toBe("body.enforcement")
    const unknown = await p.http<{ errors: Array<{ path: string }> }>("POST", `${base}/policies`, {
      token: admin,
      body: {
        name: "x",
        enforcement: "blocking",
        appliesTo: everyone,
        rules: { files: { inspect: { patterns: ["credit-card", "nope"] } } }
      }
    })
    expect(unknown.status).toBe(400)
    expect(unknown.body.errors[0]?.path).toBe("body.rules.files.inspect.patterns.1")
    const evil = await p.http<{ errors: Array<{ path: string; message: string }> }>("POST", `${base}/dlp/patterns`, {
      token: admin,
      body: { id: "custom-evil", name: "evil", source: "(a+)+$" }
    })
    expect(evil.status).toBe(400)
    expect(evil.body.errors[0]).toMatchObject({ path: "body.source" })
    // The tester refuses it too, and answers in time for a good one.
    const tested = await p.http<{ findings: Array<{ pattern: string }>; redacted: string }>(
      "POST",
      `${base}/dlp/test`,
      {
        token: admin,
        body: { text: "ticket PROJ-1234 card 4111 1111 1111 1111", regex: { source: "PROJ-[0-9]{4}" } }
      }
    )
    expect(tested.status).toBe(200)
    expect(tested.body.findings.map((f) => f.pattern).sort()).toEqual(["credit-card", "tested"])
    expect(tested.body.redacted).toBe("ticket [REDACTED:tested] card [REDACTED:credit-card]")
    // A user without compliance permissions cannot read or write.
    expect((await p.http("GET", `${base}/policies`, { token: bob.token })).status).toBe(403)
  })

  test("a custom pattern in a blocking upload policy", async () => {
    expect(
      (
        await p.http("POST", `${base}/dlp/patterns`, {
          token: admin,
          body: { id: "custom-project", name: "Project codes", source: "PROJ-[0-9]{4}", severity: "high" }
        })
      ).status
    ).toBe(201)
    const id = await createPolicy(p, admin, {
      name: "no-project-codes",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { files: { inspect: { patterns: ["custom-project"] } } }
    })
    const refused = await upload(p, bob.token, bob.session, "plan.txt", "see PROJ-0042 for details")
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toContain("custom-project")
    const inUse = await p.http("DELETE", `${base}/dlp/patterns/custom-project`, { token: admin })
    expect(inUse.status).toBe(409)
    await deletePolicy(p, admin, id)
  })

  test("with the plugin disabled no hook of it runs; enabled again, they do", async () => {
    const id = await createPolicy(p, admin, {
      name: "no-cards-again",
      enforcement: "blocking",
      appliesTo: everyone,
      rules: { files: { inspect: { patterns: ["credit-card"] } } }
    })
    expect((await upload(p, bob.token, bob.session, "c1.txt", card)).status).toBe(403)
    expect((await p.http("POST", "/api/admin/plugins/compliance/disable", { token: admin })).status).toBe(200)
    expect((await upload(p, bob.token, bob.session, "c2.txt", card)).status).toBe(201)
    expect((await p.http("GET", `${base}/policies`, { token: admin })).status).toBe(404)
    expect((await p.http("POST", "/api/admin/plugins/compliance/enable", { token: admin })).status).toBe(200)
    expect((await upload(p, bob.token, bob.session, "c3.txt", card)).status).toBe(403)
    await deletePolicy(p, admin, id)
  })
})
