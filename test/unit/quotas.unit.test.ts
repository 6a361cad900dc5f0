/** Quota arithmetic (QuotaPolicy) and the Quotas service on a stub QuotaRepo: which limit refuses, and what is reported. */
import { describe, expect, test } from "bun:test"
import { Actor, EventOutbox, QuotaExceeded, QuotaModel, QuotaPolicy, QuotaRepo, Quotas } from "@streamspace/core"
import { stubLayer } from "@streamspace/testing/stubs"
import { Effect, Layer } from "effect"
import { failureOf, runAs, user, valueOf } from "./helpers.ts"

const quota = (q: Partial<ConstructorParameters<typeof QuotaModel.Quota>[0]>) =>
  new QuotaModel.Quota({ maxSessions: null, maxCpu: null, maxMemory: null, maxStorage: null, ...q })
const usage = (u: Partial<QuotaModel.Usage> = {}): QuotaModel.Usage => ({
  sessions: 0,
  cpu: 0,
  memory: 0,
  storage: 0,
  ...u
})
const launch = (cpu = 500, memory = 1024): QuotaModel.Request => ({ sessions: 1, cpu, memory, storage: 0 })
const mine = (q: QuotaModel.Quota): QuotaModel.ScopedQuota => ({ scope: "user", scopeId: "alice", quota: q })
const group = (q: QuotaModel.Quota, id = "designers"): QuotaModel.ScopedQuota => ({
  scope: "group",
  scopeId: id,
  quota: q
})

describe("quota arithmetic", () => {
  test("usage plus the request may reach the limit but not pass it", () => {
    expect(QuotaPolicy.exceeded([mine(quota({ maxSessions: 2 }))], usage({ sessions: 1 }), launch())).toBeUndefined()
    expect(QuotaPolicy.exceeded([mine(quota({ maxSessions: 2 }))], usage({ sessions: 2 }), launch())).toEqual({
      scope: "user",
      scopeId: "alice",
      limit: "sessions",
      max: 2,
      requested: 3
    })
  })

  test("null is no limit; no quotas at all is no limit", () => {
    expect(QuotaPolicy.exceeded([mine(quota({}))], usage({ sessions: 1000, cpu: 1e6 }), launch())).toBeUndefined()
    expect(QuotaPolicy.exceeded([], usage({ sessions: 1000 }), launch())).toBeUndefined()
  })

  test("a group's limit binds its member like their own", () => {
    expect(
      QuotaPolicy.exceeded([mine(quota({})), group(quota({ maxCpu: 800 }))], usage({ cpu: 500 }), launch(500))
    ).toMatchObject({ scope: "group", scopeId: "designers", limit: "cpu", max: 800, requested: 1000 })
  })

  test("the user's own limit is reported before a group's, whatever the order given", () => {
    const over = QuotaPolicy.exceeded(
      [group(quota({ maxSessions: 1 })), mine(quota({ maxSessions: 1 }))],
      usage({ sessions: 1 }),
      launch()
    )
    expect(over?.scope).toBe("user")
  })

  test("limits are checked sessions, cpu, memory, storage: the first broken one is named", () => {
    const tight = quota({ maxSessions: 0, maxCpu: 0, maxMemory: 0 })
    expect(QuotaPolicy.exceeded([mine(tight)], usage(), launch())?.limit).toBe("sessions")
    expect(
      QuotaPolicy.exceeded([mine(quota({ maxMemory: 512, maxCpu: 100 }))], usage(), launch(200, 1024))?.limit
    ).toBe("cpu")
    expect(QuotaPolicy.exceeded([mine(quota({ maxMemory: 512 }))], usage(), launch(200, 1024))?.limit).toBe("memory")
  })

  test("a limit the request does not add to never refuses it (users over a lowered limit can still act)", () => {
    const upload: QuotaModel.Request = { sessions: 0, cpu: 0, memory: 0, storage: 10 }
    expect(
      QuotaPolicy.exceeded(
        [mine(quota({ maxSessions: 1, maxStorage: 100 }))],
        usage({ sessions: 5, storage: 50 }),
        upload
      )
    ).toBeUndefined()
    expect(QuotaPolicy.exceeded([mine(quota({ maxStorage: 100 }))], usage({ storage: 95 }), upload)).toMatchObject({
      limit: "storage",
      requested: 105
    })
  })

  test("the message names the scope, the limit, what it would be and the maximum", () => {
    expect(QuotaPolicy.exceededMessage({ scope: "group", scopeId: "g", limit: "cpu", max: 800, requested: 1000 })).toBe(
      "group quota exceeded: cpu would be 1000, the limit is 800"
    )
  })

  test("storage room: what is left under the limit, never negative, unbounded without a limit", () => {
    expect(QuotaPolicy.storageRoom(100, 30)).toBe(70)
    expect(QuotaPolicy.storageRoom(100, 130)).toBe(0)
    expect(QuotaPolicy.storageRoom(null, 1e12)).toBe(Number.POSITIVE_INFINITY)
  })
})

describe("the Quotas service", () => {
  const published: Array<unknown> = []
  const later: Array<Effect.Effect<void, unknown>> = []
  const service = (repo: Partial<QuotaRepo.QuotaRepo["Type"]>) =>
    Quotas.QuotasLive.pipe(
      Layer.provide(stubLayer(QuotaRepo.QuotaRepo, repo)),
      Layer.provide(
        stubLayer(EventOutbox.EventOutbox, {
          publish: (type, payload) => Effect.sync(() => (published.push({ type, payload }), "id"))
        })
      )
    )
  const check = (repo: Partial<QuotaRepo.QuotaRepo["Type"]>, request: QuotaModel.Request) =>
    runAs(
      user("alice"),
      Effect.flatMap(Quotas.Quotas, (q) => q.check("alice", request)).pipe(
        Effect.provide(service(repo)),
        Effect.provideService(Actor.FailureEffects, { add: (effect) => Effect.sync(() => void later.push(effect)) })
      )
    )

  test("with no quota binding the user, usage is not even read", async () => {
    valueOf(await check({ binding: () => Effect.succeed([]) }, launch()))
  })

  test("going over is a QuotaExceeded naming the limit, and a quota.exceeded event kept for after the rollback", async () => {
    published.length = 0
    later.length = 0
    const exit = await check(
      {
        binding: () => Effect.succeed([mine(quota({ maxSessions: 1 }))]),
        usage: () => Effect.succeed(usage({ sessions: 1 }))
      },
      launch()
    )
    const error = failureOf(exit)
    expect(error).toBeInstanceOf(QuotaExceeded)
    expect(error).toMatchObject({
      limit: "sessions",
      max: 1,
      requested: 2,
      scope: "user",
      message: "user quota exceeded: sessions would be 2, the limit is 1"
    })
    // Registered to run if the request fails, not published inside the (rolled back) request.
    expect(published).toEqual([])
    expect(later).toHaveLength(1)
    await Effect.runPromise(Effect.orDie(later[0]!))
    expect(published).toEqual([
      {
        type: "quota.exceeded",
        payload: { userId: "alice", scope: "user", scopeId: "alice", limit: "sessions", max: 1, requested: 2 }
      }
    ])
  })

  test("no stored quota reads as unlimited", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.flatMap(Quotas.Quotas, (q) => q.get("group", "g1")).pipe(
        Effect.provide(service({ find: () => Effect.succeed(undefined) }))
      )
    )
    expect(valueOf(exit)).toEqual(QuotaModel.unlimited)
  })
})
