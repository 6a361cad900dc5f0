/**
 * `suspendOnCritical`: a blocked critical violation (here a card number in
 * an upload) hibernates the user's running sessions through the `sessions`
 * grant, as the platform, and the violation lists them; a blocked violation
 * that is not critical suspends nothing; with the option off (its default) nothing
 * is suspended. A refused upload is answered only after its violation and
 * any suspension are written, so each check reads once, right after the answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { createPolicy, makeTemplate, makeUser, start, upload, violations } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
let template: string

const launch = async (token: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", { token, body: { templateId: template } })
  expect(res.status).toBe(201)
  return res.body.id
}
const stateOf = async (token: string, id: string) =>
  (await p.http<{ state: string }>("GET", `/api/sessions/${id}`, { token })).body.state

beforeAll(async () => {
  ;({ p, admin } = await start())
  template = await makeTemplate(p, admin, "suspend-desk")
  await createPolicy(p, admin, {
    name: "no-cards-no-binaries",
    enforcement: "blocking",
    appliesTo: { all: true },
    rules: { files: { denyTypes: ["elf"], inspect: { patterns: ["credit-card"], action: "block" } } }
  })
})
afterAll(() => p.close())

describe(`suspension on critical violations (${TestPlatform.engine()})`, () => {
  test("by default (suspendOnCritical off) a blocked critical violation suspends nothing", async () => {
    const carol = await makeUser(p, admin, "carol-suspend")
    const session = await launch(carol.token)
    await p.eventually(async () => (await stateOf(carol.token, session)) === "running")
    await p.awaitDelivered()
    expect((await upload(p, carol.token, session, "card.txt", "card 4111 1111 1111 1111\n")).status).toBe(403)
    const critical = (await violations(p, admin, `?userId=${carol.id}`)).find((v) => v.type === "dlp_content_violation")
    expect(critical).toMatchObject({ severity: "critical", action: "blocked" })
    expect(critical?.details["suspendedSessions"]).toBeUndefined()
    expect(await stateOf(carol.token, session)).toBe("running")
  })

  test("a blocked card upload hibernates the user's running sessions; a blocked executable (high) does not", async () => {
    expect(
      (await p.http("PUT", "/api/admin/plugins/compliance/config", { token: admin, body: { suspendOnCritical: true } }))
        .status
    ).toBe(200)
    const ada = await makeUser(p, admin, "ada-suspend")
    const bob = await makeUser(p, admin, "bob-suspend")
    const adaSessions = [await launch(ada.token), await launch(ada.token)]
    const bobSession = await launch(bob.token)
    for (const [token, id] of [...adaSessions.map((s) => [ada.token, s] as const), [bob.token, bobSession] as const])
      await p.eventually(async () => (await stateOf(token, id)) === "running")
    await p.awaitDelivered()

    const elf = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(56).fill(0)])
    expect((await upload(p, bob.token, bobSession, "tool.bin", elf)).status).toBe(403)
    expect((await upload(p, ada.token, adaSessions[0]!, "card.txt", "card 4111 1111 1111 1111\n")).status).toBe(403)

    const critical = (await violations(p, admin, `?userId=${ada.id}`)).find((v) =>
      Array.isArray(v.details["suspendedSessions"])
    )
    expect(critical).toMatchObject({ severity: "critical", action: "blocked", type: "dlp_content_violation" })
    expect([...(critical?.details["suspendedSessions"] as Array<string>)].sort()).toEqual([...adaSessions].sort())
    for (const id of adaSessions) await p.eventually(async () => (await stateOf(ada.token, id)) === "hibernated")

    const high = (await violations(p, admin, `?userId=${bob.id}`)).find((v) => v.type === "file_type_violation")
    expect(high).toMatchObject({ severity: "high", action: "blocked" })
    expect(high?.details["suspendedSessions"]).toBeUndefined()
    expect(await stateOf(bob.token, bobSession)).toBe("running")

    // The hibernation is audited as the plugin's action.
    const audit = await p.http<{ items: Array<{ action: string; target: string; plugin: string | null }> }>(
      "GET",
      "/api/audit?action=session.hibernate",
      { token: admin }
    )
    expect(audit.body.items.filter((a) => adaSessions.includes(a.target)).map((a) => a.plugin)).toEqual([
      "compliance",
      "compliance"
    ])
  })
})
