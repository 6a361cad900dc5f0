/**
 * The Sessions service on stub repositories and stub neighbours: launch
 * rules (template limits, quotas, hooks), intents and their 409s, shares,
 * listing and the VNC wake-up. A member a test does not give dies if used,
 * so "not provided" also proves "not called".
 */
import { describe, expect, test } from "bun:test"
import {
  Actor,
  Conflict,
  EventOutbox,
  Forbidden,
  HookRunner,
  NotFound,
  QuotaExceeded,
  Quotas,
  SessionOrchestrator,
  SessionRepo,
  SessionRuntime,
  Sessions,
  Unauthorized,
  Users,
  ValidationError
} from "@streamspace/core"
import { stubLayer } from "@streamspace/testing/stubs"
import { Effect, Layer } from "effect"
import { defectOf, failureOf, runAs, sessionRow, system, template, user, valueOf } from "./helpers.ts"

type Repo = SessionRepo.SessionRepo["Type"]

interface Parts {
  readonly repo?: Partial<Repo>
  readonly quotas?: Partial<Quotas.Quotas["Type"]>
  readonly hooks?: HookRunner.HookRunner["Type"]
  readonly outbox?: Partial<EventOutbox.EventOutbox["Type"]>
  readonly users?: Partial<Users.Users["Type"]>
}

const sessions = <A, E>(parts: Parts, use: (s: Sessions.Sessions["Type"]) => Effect.Effect<A, E, Actor.CurrentActor>) =>
  Effect.flatMap(Sessions.Sessions, use).pipe(
    Effect.provide(
      Sessions.SessionsLive.pipe(
        Layer.provide(
          Layer.mergeAll(
            stubLayer(SessionRepo.SessionRepo, parts.repo),
            stubLayer(Quotas.Quotas, parts.quotas),
            parts.hooks ? Layer.succeed(HookRunner.HookRunner, parts.hooks) : HookRunner.HookRunnerNone,
            stubLayer(EventOutbox.EventOutbox, parts.outbox),
            stubLayer(SessionRuntime.SessionRuntime, { kind: "simulated" }),
            stubLayer(SessionOrchestrator.SessionOrchestrator, {
              nudge: Effect.void,
              handOff: () => Effect.void,
              releasable: () => Effect.succeed(undefined)
            }),
            stubLayer(Users.Users, parts.users)
          )
        )
      )
    )
  )

/** The row `setDesired` returns for an intent that landed (the lease taken when `leased`). */
const desiredRow = (row: SessionRepo.SessionRow, leased = true) => ({
  ...row,
  lease_until: new Date(),
  image: "example/firefox:1",
  ports: [],
  env: {},
  vnc_port: 5900,
  username: row.user_id,
  leased
})

/** A session table of one row per id, as `find` sees it. */
const table = (...rows: ReadonlyArray<SessionRepo.SessionRow>): Partial<Repo> => {
  const byId = new Map(rows.map((r) => [r.id, r]))
  return { find: (id) => Effect.succeed(byId.get(id)) }
}

describe("launching a session", () => {
  const launch = (cpu?: number, extra: Partial<Parts> = {}, tmpl = template()) => {
    const inserted: Array<SessionRepo.NewSession> = []
    const checked: Array<Quotas.Request> = []
    const published: Array<string> = []
    const parts: Parts = {
      quotas: { enforce: (_user, _binding, _usage, request) => Effect.sync(() => void checked.push(request)) },
      outbox: {
        row: (type) =>
          Effect.sync(() => (published.push(type), { id: "e1", type, source: "core", payload: "{}", actor_id: null }))
      },
      repo: {
        // The one-statement launch finds something to check: the checked path follows.
        insertUnchecked: () => Effect.succeed(undefined),
        launchFacts: () =>
          Effect.succeed({ template: tmpl, quotas: [], usage: { sessions: 0, cpu: 0, memory: 0, storage: 0 } }),
        insert: (row) =>
          Effect.sync(() => {
            inserted.push(row)
            return sessionRow({ id: row.id, user_id: row.userId, state: "pending" })
          })
      },
      ...extra
    }
    return {
      inserted,
      checked,
      published,
      run: runAs(
        user("alice"),
        sessions(parts, (s) => s.create({ templateId: "t1", persistentHome: true, ...(cpu ? { cpu } : {}) }))
      )
    }
  }

  test("defaults come from the template; the quota check asks for one session with them; the row and event follow", async () => {
    const { inserted, checked, published, run } = launch()
    const session = valueOf(await run)
    expect(checked).toEqual([{ sessions: 1, cpu: 500, memory: 1024, storage: 0 }])
    expect(inserted).toEqual([
      expect.objectContaining({ userId: "alice", templateId: "t1", runtime: "simulated", cpu: 500, memory: 1024 })
    ])
    expect(published).toEqual(["session.created"])
    expect(session.access).toBe("owner")
  })

  test("more cpu than the template's maximum is a 400 on body.cpu, before quotas or SQL", async () => {
    const { checked, inserted, run } = launch(9000)
    const error = failureOf(await run)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as ValidationError).errors).toEqual([
      { path: "body.cpu", message: "at most 2000 millicores for firefox" }
    ])
    expect(checked).toEqual([])
    expect(inserted).toEqual([])
  })

  test("a disabled template is a 404, as if it did not exist", async () => {
    const { run } = launch(undefined, {}, template({ enabled: false }))
    expect(failureOf(await run)).toMatchObject({ _tag: "NotFound", resource: "template", id: "t1" })
  })

  test("a refused quota stops the launch: nothing is inserted", async () => {
    const { inserted, run } = launch(undefined, {
      quotas: {
        enforce: () =>
          Effect.fail(new QuotaExceeded({ message: "over", limit: "sessions", max: 1, requested: 2, scope: "user" }))
      }
    })
    expect(failureOf(await run)).toBeInstanceOf(QuotaExceeded)
    expect(inserted).toEqual([])
  })

  test("session.beforeCreate hooks may amend the resources that are stored", async () => {
    const hooks: HookRunner.HookRunner["Type"] = {
      run: (point, input) => Effect.succeed(point === "session.beforeCreate" ? { ...input, memory: 768 } : input),
      intercepted: (point) => point === "session.beforeCreate"
    }
    const { inserted, run } = launch(undefined, { hooks })
    valueOf(await run)
    expect(inserted[0]?.memory).toBe(768)
  })

  test("without an interceptor, a launch the one statement lands reads nothing first and wakes the listeners", async () => {
    const asked: Array<SessionRepo.UncheckedLaunch> = []
    let woken = 0
    const parts: Parts = {
      outbox: { written: Effect.sync(() => void woken++) },
      repo: {
        insertUnchecked: (launch) =>
          Effect.sync(() => {
            asked.push(launch)
            return {
              ...sessionRow({ id: launch.id, user_id: launch.userId, state: "pending" }),
              image: "example/firefox:1",
              ports: [],
              env: {},
              vnc_port: 5900
            }
          })
      }
    }
    const session = valueOf(
      await runAs(
        user("alice"),
        sessions(parts, (s) => s.create({ templateId: "t1", persistentHome: true, cpu: 700 }))
      )
    )
    expect(asked).toEqual([
      expect.objectContaining({ userId: "alice", templateId: "t1", cpu: 700, memory: undefined, actorId: "alice" })
    ])
    expect(woken).toBe(1)
    expect(session.access).toBe("owner")
  })

  test("with an interceptor of session.beforeCreate, the launch takes the checked path only", async () => {
    const hooks: HookRunner.HookRunner["Type"] = {
      run: (_point, input) => Effect.succeed(input),
      intercepted: (point) => point === "session.beforeCreate"
    }
    const { inserted, run } = launch(undefined, {
      hooks,
      repo: {
        launchFacts: () =>
          Effect.succeed({ template: template(), quotas: [], usage: { sessions: 0, cpu: 0, memory: 0, storage: 0 } }),
        insert: (row) =>
          Effect.sync(() => {
            inserted.push(row)
            return sessionRow({ id: row.id, user_id: row.userId, state: "pending" })
          })
      }
    })
    valueOf(await run)
    expect(inserted).toHaveLength(1)
  })

  test("only users launch sessions", async () => {
    const exit = await runAs(
      system,
      sessions({}, (s) => s.create({ templateId: "t1", persistentHome: true }))
    )
    expect(failureOf(exit)).toBeInstanceOf(Unauthorized)
  })
})

describe("intents", () => {
  test("hibernating a hibernated session is a 409 naming its state", async () => {
    const repo = {
      ...table(sessionRow({ state: "hibernated", desired: "hibernated" })),
      setDesired: () => Effect.succeed(undefined)
    }
    const error = failureOf(
      await runAs(
        user("owner"),
        sessions({ repo }, (s) => s.hibernate("s1"))
      )
    )
    expect(error).toBeInstanceOf(Conflict)
    expect(error).toMatchObject({ message: "session is hibernated", code: "invalid_state" })
  })

  test("waking asks for running from hibernated only", async () => {
    const asked: Array<unknown> = []
    const repo = {
      ...table(sessionRow({ state: "hibernated", desired: "hibernated" })),
      setDesired: (...args: ReadonlyArray<unknown>) =>
        Effect.sync(() => (asked.push(args.slice(0, 3)), desiredRow(sessionRow({ state: "hibernated" }))))
    }
    valueOf(
      await runAs(
        user("owner"),
        sessions({ repo }, (s) => s.wake("s1"))
      )
    )
    expect(asked).toEqual([["s1", "running", ["hibernated"]]])
  })

  test("the write is guarded by who may land it; a view share then gets 403 and a stranger 404", async () => {
    const guards: Array<unknown> = []
    const guarded = (row: SessionRepo.SessionRow) => ({
      ...table(row),
      setDesired: (...args: Parameters<Repo["setDesired"]>) => Effect.sync(() => void guards.push(args[6]))
    })
    expect(
      failureOf(
        await runAs(
          user("friend"),
          sessions({ repo: guarded(sessionRow({ share_access: "view" })) }, (s) => s.hibernate("s1"))
        )
      )
    ).toBeInstanceOf(Forbidden)
    expect(
      failureOf(
        await runAs(
          user("stranger"),
          sessions({ repo: guarded(sessionRow()) }, (s) => s.delete("s1"))
        )
      )
    ).toBeInstanceOf(NotFound)
    expect(guards).toEqual([
      { viewer: "friend", admin: false, shares: ["control"] },
      { viewer: "stranger", admin: false, shares: [] }
    ])
  })

  test("heartbeats on an ended session are a 409; on a live one they touch it", async () => {
    const failed = table(sessionRow({ state: "failed", desired: "running" }))
    expect(
      failureOf(
        await runAs(
          user("owner"),
          sessions({ repo: failed }, (s) => s.heartbeat("s1"))
        )
      )
    ).toMatchObject({ message: "session is failed" })
    const touched: Array<string> = []
    const live = { ...table(sessionRow()), touch: (id: string) => Effect.sync(() => void touched.push(id)) }
    valueOf(
      await runAs(
        user("owner"),
        sessions({ repo: live }, (s) => s.heartbeat("s1"))
      )
    )
    expect(touched).toEqual(["s1"])
  })
})

describe("shares, lists and VNC", () => {
  test("sharing with the owner is a 409; sharing with an unknown user is the user's 404", async () => {
    const repo = table(sessionRow())
    expect(
      failureOf(
        await runAs(
          user("owner"),
          sessions({ repo }, (s) => s.share("s1", "owner", "view"))
        )
      )
    ).toMatchObject({ code: "share_owner" })
    const users = { get: (id: string) => Effect.fail(new NotFound({ resource: "user", id })) }
    expect(
      failureOf(
        await runAs(
          user("owner"),
          sessions({ repo, users }, (s) => s.share("s1", "ghost", "control"))
        )
      )
    ).toMatchObject({ resource: "user", id: "ghost" })
  })

  test("unsharing someone it was not shared with is a 404 naming the share", async () => {
    const repo = { ...table(sessionRow()), unshare: () => Effect.succeed(false) }
    expect(
      failureOf(
        await runAs(
          user("owner"),
          sessions({ repo }, (s) => s.unshare("s1", "bob"))
        )
      )
    ).toMatchObject({ resource: "share", id: "bob" })
  })

  test("lists show owner, admin or the share; only sessions:admin lists everyone's", async () => {
    const seen: Array<boolean> = []
    const rows = [
      sessionRow({ id: "a", user_id: "ops" }),
      sessionRow({ id: "b", user_id: "owner" }),
      sessionRow({ id: "c", user_id: "x", share_access: "control" })
    ]
    const repo: Partial<Repo> = {
      list: (q) => Effect.sync(() => (seen.push(q.all), { items: rows, nextCursor: null }))
    }
    const asAdmin = valueOf(
      await runAs(
        user("ops", ["sessions:admin"]),
        sessions({ repo }, (s) => s.list({ limit: 10 }))
      )
    )
    expect(asAdmin.items.map((s) => s.access)).toEqual(["owner", "admin", "admin"])
    const asUser = valueOf(
      await runAs(
        user("owner"),
        sessions({ repo }, (s) => s.list({ limit: 10 }))
      )
    )
    expect(asUser.items.map((s) => s.access)).toEqual(["view", "owner", "control"])
    expect(seen).toEqual([true, false])
  })

  test("connecting to a hibernated session wakes it for a control share, not for a view share", async () => {
    const woken: Array<string> = []
    const repo = (access: "view" | "control"): Partial<Repo> => ({
      ...table(sessionRow({ state: "hibernated", desired: "hibernated", share_access: access })),
      setDesired: (id) => Effect.sync(() => (woken.push(id), desiredRow(sessionRow({ state: "hibernated" })))),
      touch: () => Effect.void
    })
    const control = valueOf(
      await runAs(
        user("friend"),
        sessions({ repo: repo("control") }, (s) => s.resolveEndpoint("s1"))
      )
    )
    expect(control).toEqual({ endpoint: null, access: "control", state: "hibernated" })
    expect(woken).toEqual(["s1"])
    valueOf(
      await runAs(
        user("friend"),
        sessions({ repo: repo("view") }, (s) => s.resolveEndpoint("s1"))
      )
    )
    expect(woken).toEqual(["s1"])
  })

  test("a repository member the test did not give dies naming it", async () => {
    const exit = await runAs(
      user("owner"),
      sessions({ repo: table(sessionRow()) }, (s) => s.shares("s1"))
    )
    expect(defectOf(exit)).toBe("stub: SessionRepo.shares not provided")
  })
})
