/**
 * A violation found during a request is committed before the request is
 * answered: right after a refused upload, launch or sign-in, or an upload
 * allowed with a warning, the violation is already listed (read at once,
 * never polled). A violation that cannot be written leaves the answer as it
 * was: the veto stays a 403, the warned upload a 201. Outside a request
 * `Hooks.afterOutcome` registers nothing and says so.
 * `durable-violations.pg.test.ts` shows the order itself on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { Hooks } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"
import {
  createPolicy,
  deletePolicy,
  launch,
  makeTemplate,
  makeUser,
  password,
  start,
  upload,
  violationsOf
} from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
let template: string
let ada: { id: string; token: string; session: string }
const pdf = "%PDF-1.7\n%%EOF\n"

beforeAll(async () => {
  ;({ p, admin } = await start())
  template = await makeTemplate(p, admin, "durable-desk")
  const user = await makeUser(p, admin, "ada-durable")
  const session = await launch(p, user.token, template)
  expect(session.status).toBe(201)
  ada = { ...user, session: session.body.id }
})
afterAll(() => p.close())

/**
 * Under a policy for ada alone (`enforcement`, `rules`), `act` is answered `status`, and its one violation is
 * already listed when the answer arrives; the policy is removed again.
 */
const answeredWithViolation = async (
  policy: { readonly name: string; readonly enforcement: string; readonly rules: Record<string, unknown> },
  act: () => Promise<{ readonly status: number }>,
  status: number,
  violation: { readonly type: string; readonly action: string }
) => {
  const id = await createPolicy(p, admin, { ...policy, appliesTo: { users: [ada.id] } })
  expect((await act()).status).toBe(status)
  expect(await violationsOf(p, admin, policy.name)).toMatchObject([{ ...violation, userId: ada.id }])
  await deletePolicy(p, admin, id)
}

describe(`violations are durable before the answer (${TestPlatform.engine()})`, () => {
  test("a refused upload, launch and sign-in: each violation is listed as soon as the 403 arrives", async () => {
    await answeredWithViolation(
      { name: "durable-small-files", enforcement: "blocking", rules: { files: { maxBytes: 10 } } },
      () => upload(p, ada.token, ada.session, "big.txt", "x".repeat(100)),
      403,
      { type: "file_size_violation", action: "blocked" }
    )
    await answeredWithViolation(
      { name: "durable-reason", enforcement: "blocking", rules: { session: { requireReason: true } } },
      () => launch(p, ada.token, template),
      403,
      { type: "session_reason_violation", action: "blocked" }
    )
    await answeredWithViolation(
      { name: "durable-office-only", enforcement: "blocking", rules: { login: { allowedIpRanges: ["10.0.0.0/8"] } } },
      () => p.http("POST", "/api/auth/login", { body: { username: "ada-durable", password } }),
      403,
      { type: "ip_restriction_violation", action: "blocked" }
    )
  })

  test("an upload allowed with a warning: its violation is listed as soon as the 201 arrives", async () => {
    await answeredWithViolation(
      { name: "durable-pdf-warning", enforcement: "warning", rules: { files: { denyTypes: ["pdf"] } } },
      () => upload(p, ada.token, ada.session, "report.bin", pdf),
      201,
      { type: "file_type_violation", action: "allowed_with_warning" }
    )
  })

  test("a violation that cannot be written: the veto is still a 403 and the warned upload still a 201", async () => {
    // Rows of these two policies are refused by the table from now on (existing rows are not checked).
    await p.query(
      `ALTER TABLE plugin_compliance.violations ADD CONSTRAINT unrecordable
        CHECK (policy_name NOT IN ('unrecordable-block', 'unrecordable-warn')) NOT VALID`
    )
    try {
      const block = await createPolicy(p, admin, {
        name: "unrecordable-block",
        enforcement: "blocking",
        appliesTo: { users: [ada.id] },
        rules: { files: { maxBytes: 10 } }
      })
      const refused = await upload(p, ada.token, ada.session, "big.txt", "x".repeat(100))
      expect(refused.status).toBe(403)
      expect(refused.body.detail).toContain('policy "unrecordable-block"')
      await deletePolicy(p, admin, block)

      const warn = await createPolicy(p, admin, {
        name: "unrecordable-warn",
        enforcement: "warning",
        appliesTo: { users: [ada.id] },
        rules: { files: { denyTypes: ["pdf"] } }
      })
      expect((await upload(p, ada.token, ada.session, "report.bin", pdf)).status).toBe(201)
      await deletePolicy(p, admin, warn)
      // The writes did fail (logged), so the answers above were given without them.
      expect(await violationsOf(p, admin, "unrecordable-block")).toEqual([])
      expect(await violationsOf(p, admin, "unrecordable-warn")).toEqual([])
    } finally {
      await p.query("ALTER TABLE plugin_compliance.violations DROP CONSTRAINT unrecordable")
    }
  })

  test("outside a request Hooks.afterOutcome registers nothing and answers false", async () => {
    let ran = false
    expect(await p.run(Hooks.afterOutcome(Effect.sync(() => void (ran = true))))).toBe(false)
    expect(ran).toBe(false)
  })
})
