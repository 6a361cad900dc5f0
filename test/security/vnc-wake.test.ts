/**
 * From the mutation audit of issue 21: a view share may watch a session but
 * never change its state — it can neither wake a hibernated session with
 * `POST /api/sessions/:id/wake` nor by opening its desktop. A control share
 * can do both (the contrast shows the refusals are about the share).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { launch, makeTemplate, makeUser, outcomeOf, type SessionBody } from "./vnc-kit.ts"

let p: TestPlatform.TestPlatform
let admin: string
let template: string

beforeAll(async () => {
  p = await TestPlatform.make({ listen: true, config: { sessions: { simulatedDelayMs: 20 } } })
  admin = await p.login("admin", p.adminPassword)
  template = await makeTemplate(p, admin, "wake-desktop")
})
afterAll(() => p.close())

/** A hibernated session of a new owner, shared with a new user at `access`. */
const hibernatedShared = async (name: string, access: "view" | "control") => {
  const owner = await makeUser(p, admin, `${name}-owner`)
  const guest = await makeUser(p, admin, `${name}-guest`)
  const id = await launch(p, owner.token, template)
  await p.http("POST", `/api/sessions/${id}/shares`, { token: owner.token, body: { userId: guest.id, access } })
  await p.http("POST", `/api/sessions/${id}/hibernate`, { token: owner.token })
  await p.eventually(async () => (await session(owner.token, id)).state === "hibernated")
  return { owner, guest, id }
}

const session = async (token: string, id: string) =>
  (await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token })).body

describe(`a view share cannot wake a session (${TestPlatform.engine()})`, () => {
  test("POST /wake as a view share is 403 and the session stays hibernated", async () => {
    const { owner, guest, id } = await hibernatedShared("wake-route", "view")
    const res = await p.http<{ detail: string }>("POST", `/api/sessions/${id}/wake`, { token: guest.token })
    expect(res.status).toBe(403)
    expect(res.body.detail).toBe("a view share cannot control this session")
    expect(await session(owner.token, id)).toMatchObject({ state: "hibernated", desired: "hibernated" })
  })

  test("opening the desktop as a view share is refused (4409) and the session stays hibernated", async () => {
    const { owner, guest, id } = await hibernatedShared("wake-vnc", "view")
    expect(await outcomeOf(p, VncClient.open(p, id, { ticket: await VncClient.ticket(p, id, guest.token) }))).toEqual({
      code: 4409,
      reason: "session is hibernated; a view share cannot wake it"
    })
    expect(await session(owner.token, id)).toMatchObject({ state: "hibernated", desired: "hibernated" })
  })

  test("a control share wakes it both ways", async () => {
    const byRoute = await hibernatedShared("wake-control-route", "control")
    expect((await p.http("POST", `/api/sessions/${byRoute.id}/wake`, { token: byRoute.guest.token })).status).toBe(202)
    await p.eventually(async () => (await session(byRoute.owner.token, byRoute.id)).state === "running")

    const byVnc = await hibernatedShared("wake-control-vnc", "control")
    const c = VncClient.open(p, byVnc.id, { ticket: await VncClient.ticket(p, byVnc.id, byVnc.guest.token) })
    await p.eventually(() => c.received().length >= 12)
    expect((await session(byVnc.owner.token, byVnc.id)).state).toBe("running")
    c.close()
  })
})
