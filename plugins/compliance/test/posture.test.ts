/**
 * Automated checks over the core's facts (the kernel's `PlatformPosture`,
 * grant `posture`), on a fresh platform through the real API: the admin has
 * no second factor and an API key never expires, so those controls fail;
 * after the admin enrols TOTP and the key is revoked, a new run passes them.
 * Controls the defaults already meet pass from the start.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform, Totp } from "@streamspace/testing"
import { base, start } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string

interface Latest {
  readonly status: string
  readonly summary: string
  readonly evidence: Record<string, unknown>
}
const latest = async (framework: string) => {
  const res = await p.http<{ items: ReadonlyArray<{ id: string; latest: Latest | null }> }>(
    "GET",
    `${base}/frameworks/${framework}/controls`,
    { token: admin }
  )
  return new Map(res.body.items.map((c) => [c.id, c.latest]))
}
const runChecks = async () =>
  expect(
    (await p.http("POST", `${base}/checks/run`, { token: admin, body: { frameworks: ["SOC2", "HIPAA"] } })).status
  ).toBe(200)

beforeAll(async () => {
  ;({ p, admin } = await start())
})
afterAll(() => p.close())

describe(`checks over the platform's posture (${TestPlatform.engine()})`, () => {
  test("a fresh platform fails admin MFA and keys without expiry; enrolling TOTP and revoking the key makes them pass", async () => {
    const key = await p.http<{ id: string }>("POST", "/api/api-keys", {
      token: admin,
      body: { name: "ci", scopes: ["sessions:read"] }
    })
    expect(key.status).toBe(201)
    await runChecks()
    const before = await latest("SOC2")
    expect(before.get("CC6.1-MFA")).toMatchObject({ status: "fail", evidence: { withoutMfa: ["admin"] } })
    expect(before.get("CC6.6")).toMatchObject({ status: "fail", evidence: { keyIds: [key.body.id] } })
    // What the defaults already meet, evaluated rather than "not evaluable".
    expect(before.get("CC6.1-PWD")).toMatchObject({ status: "pass", evidence: { minScore: 3, minLength: 10 } })
    expect(before.get("CC7.2")).toMatchObject({ status: "pass", evidence: { retentionDays: null } })
    expect(before.get("CC6.1-SECRETS")).toMatchObject({ status: "pass", evidence: { unsealed: 0 } })
    expect(before.get("CC6.8")).toMatchObject({ status: "pass" })
    expect(before.get("CC6.2")).toMatchObject({ status: "pass" })
    expect((await latest("HIPAA")).get("164.312(a)(2)(iii)")).toMatchObject({
      status: "pass",
      evidence: { idleTimeoutMinutes: 30 }
    })

    const enroll = await p.http<{ secret: string }>("POST", "/api/auth/mfa/totp/enroll", { token: admin })
    expect(enroll.status).toBe(200)
    const verified = await p.http("POST", "/api/auth/mfa/totp/verify", {
      token: admin,
      body: { code: Totp.codeNow(enroll.body.secret) }
    })
    expect(verified.status).toBe(200)
    expect((await p.http("DELETE", `/api/api-keys/${key.body.id}`, { token: admin })).status).toBe(204)

    await runChecks()
    const after = await latest("SOC2")
    expect(after.get("CC6.1-MFA")).toMatchObject({ status: "pass", evidence: { withoutMfa: [] } })
    expect(after.get("CC6.6")).toMatchObject({ status: "pass" })
    // The evidence never carries the secret.
    expect(JSON.stringify([...after.values()])).not.toContain(enroll.body.secret)
  })
})
