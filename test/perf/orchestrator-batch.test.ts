/**
 * The orchestrator ends the sessions of one pass together: removals that went
 * through are written as one statement (their state and their events), so a
 * burst of deletes does not queue one statement per session behind the
 * requests. Counted by a statement-level trigger on `sessions`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SessionLifecycle, SessionOrchestrator, SessionRepo } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"
import { makeTemplate, makeUser } from "../core/sessions/helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make()
  admin = await p.login("admin", p.adminPassword)
  await p.query("CREATE TABLE ended_probe (n bigint NOT NULL)")
  await p.query(`CREATE FUNCTION ended_probe() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO ended_probe SELECT count(*) FROM changed WHERE state = 'terminated' HAVING count(*) > 0;
      RETURN NULL;
    END $$`)
  await p.query(`CREATE TRIGGER ended_probe AFTER UPDATE ON sessions
    REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION ended_probe()`)
})
afterAll(() => p.close())

describe(`orchestrator batches (${TestPlatform.engine()})`, () => {
  test("sessions handed over together end in one statement, each with its session.deleted event", async () => {
    const template = await makeTemplate(p, admin, "batch")
    const user = await makeUser(p, admin, "batch-user")
    const N = 12
    const ids: Array<string> = []
    for (let i = 0; i < N; i++) {
      const res = await p.http<{ id: string }>("POST", "/api/sessions", {
        token: user.token,
        body: { templateId: template }
      })
      expect(res.status).toBe(201)
      ids.push(res.body.id)
    }
    await p.eventually(async () => {
      const rows = await p.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1) AND state = 'running'",
        [ids]
      )
      return rows[0]!.n === N
    })
    await p.query("DELETE FROM ended_probe")
    // As DELETE requests do, each records the intent and takes the lease; then all are handed over at once.
    await p.run(
      Effect.gen(function* () {
        const repo = yield* SessionRepo.SessionRepo
        const orchestrator = yield* SessionOrchestrator.SessionOrchestrator
        const at = new Date()
        const leased = yield* Effect.forEach(ids, (id) =>
          repo.setDesired(id, "terminated", ["running"], at, {
            leaseUntil: SessionLifecycle.leaseFrom(at),
            releasable: undefined
          })
        )
        for (const row of leased) expect(row?.leased).toBe(true)
        yield* Effect.forEach(leased, (row) => orchestrator.handOff(row!), { discard: true })
      })
    )
    await p.eventually(async () => {
      const rows = await p.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM sessions WHERE id = ANY($1) AND state = 'terminated'",
        [ids]
      )
      return rows[0]!.n === N
    })
    expect(await p.query<{ n: number }>("SELECT n::int AS n FROM ended_probe")).toEqual([{ n: N }])
    const events = await p.query<{ n: number }>(
      "SELECT count(DISTINCT payload->>'sessionId')::int AS n FROM events WHERE type = 'session.deleted' AND payload->>'sessionId' = ANY($1)",
      [ids]
    )
    expect(events[0]!.n).toBe(N)
  })

  test("a session that already ended is left alone: no second event", async () => {
    const [row] = await p.query<{ id: string }>(
      "SELECT payload->>'sessionId' AS id FROM events WHERE type = 'session.deleted' LIMIT 1"
    )
    const landed = await p.run(
      Effect.flatMap(SessionRepo.SessionRepo, (repo) =>
        repo.transition([row!.id], { ...SessionLifecycle.ended().transition, at: new Date() }, [
          { prev: "running", type: "session.deleted" }
        ])
      )
    )
    expect(landed).toEqual([])
    const events = await p.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM events WHERE type = 'session.deleted' AND payload->>'sessionId' = $1",
      [row!.id]
    )
    expect(events[0]!.n).toBe(1)
  })
})
