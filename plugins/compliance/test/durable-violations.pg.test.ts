/**
 * The order itself, on PostgreSQL: a refused launch is answered only once
 * its violation is committed. A second connection holds the plugin's
 * violations table (`plugin_compliance.violations`, EXCLUSIVE MODE: reads go
 * on, writes wait); while it does, the 403 does not come, and when it lets
 * go, the 403 comes with the row already there; likewise the 200 of a
 * sign-in allowed with a warning. Were violations written by a fiber after
 * the answer, the answer would come while the table is held.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ServerDatabase, TestPlatform } from "@streamspace/testing"
import { SQL } from "bun"
import { createPolicy, launch, makeTemplate, makeUser, password, start, violationsOf } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
let template: string
let ada: { id: string; token: string }
let holder: SQL

beforeAll(async () => {
  if (TestPlatform.engine() !== "postgres")
    throw new Error("this suite holds a lock from a second PostgreSQL connection: set TEST_DATABASE_URL")
  ;({ p, admin } = await start())
  template = await makeTemplate(p, admin, "held-desk")
  ada = await makeUser(p, admin, "ada-held")
  const [{ db }] = (await p.query<{ db: string }>("SELECT current_database() AS db")) as [{ db: string }]
  const url = new URL(ServerDatabase.serverUrl())
  url.pathname = `/${db}`
  holder = new SQL(url.toString())
})
afterAll(async () => {
  await holder?.close()
  await p?.close()
})

/**
 * Sends a request while a second connection holds the violations table, and tells whether its answer came
 * within a second (an ordering check, not a speed one: a second is ample for an answer that does not wait).
 */
const sendWhileHeld = <T>(send: () => Promise<T>) =>
  holder.begin(async (tx) => {
    await tx`LOCK TABLE plugin_compliance.violations IN EXCLUSIVE MODE`
    const answer = send()
    const first = await Promise.race([answer.then(() => "answered"), Bun.sleep(1000).then(() => "waiting")])
    // Wrapped: returning the promise itself would keep the transaction open until it settles.
    return { first, answer }
  })

describe("an answer waits for its violation (postgres)", () => {
  test("while the violations table is held a refused launch's 403 does not come; once let go, it comes with the row", async () => {
    await createPolicy(p, admin, {
      name: "held-reason",
      enforcement: "blocking",
      appliesTo: { users: [ada.id] },
      rules: { session: { requireReason: true } }
    })
    const { first, answer } = await sendWhileHeld(() => launch(p, ada.token, template))
    expect(first).toBe("waiting")
    const refused = await answer
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toContain('policy "held-reason"')
    expect(await violationsOf(p, admin, "held-reason")).toMatchObject([
      { type: "session_reason_violation", action: "blocked", userId: ada.id }
    ])
  })

  test("a client that goes away mid-launch still leaves the launch's violation", async () => {
    await createPolicy(p, admin, {
      name: "gone-reason",
      enforcement: "warning",
      appliesTo: { users: [ada.id] },
      rules: { session: { requireReason: true } }
    })
    // The launch passes the hook (a warning) and then waits on the held sessions table; the client gives up.
    const client = new AbortController()
    const { answer } = await holder.begin(async (tx) => {
      await tx`LOCK TABLE sessions IN EXCLUSIVE MODE`
      const answer = launch(p, ada.token, template, client.signal).catch((e: unknown) => e)
      await Bun.sleep(300)
      client.abort()
      // Wrapped, as above: the interrupted launch ends only once its rollback gets past the held table.
      return { answer }
    })
    await answer
    // Interrupted, the launch rolled back; the violation, queued for after its outcome, still lands.
    const landed = await p.eventually(async () => {
      const rows = await violationsOf(p, admin, "gone-reason")
      return rows.length > 0 && rows
    })
    expect(landed).toMatchObject([{ type: "session_reason_violation", action: "allowed_with_warning", userId: ada.id }])
  })

  test("a sign-in allowed with a warning: its 200 waits for the violation too", async () => {
    await createPolicy(p, admin, {
      name: "held-hours",
      enforcement: "warning",
      appliesTo: { users: [ada.id] },
      rules: { login: { allowedHours: { from: "00:00", to: "00:00", days: [] } } }
    })
    const { first, answer } = await sendWhileHeld(() =>
      p.http("POST", "/api/auth/login", { body: { username: "ada-held", password } })
    )
    expect(first).toBe("waiting")
    expect((await answer).status).toBe(200)
    expect(await violationsOf(p, admin, "held-hours")).toMatchObject([
      { type: "access_hours_violation", action: "allowed_with_warning", userId: ada.id }
    ])
  })
})
