/**
 * A route's declared errors: the handler's error channel must fit the
 * declared problem classes plus the implicit ones, or the route does not
 * compile (the `@ts-expect-error` lines are checked by `bun run typecheck`);
 * infrastructure errors become defects; the declared statuses reach OpenAPI.
 */
import { describe, expect, test } from "bun:test"
import { SqlError } from "@effect/sql/SqlError"
import { Actor, Conflict, Forbidden, HttpRoute, NotFound, QuotaExceeded, Unauthorized } from "@streamspace/core"
import { OpenApi } from "@streamspace/server"
import { Cause, Effect, Exit, Option } from "effect"

const notFound = new NotFound({ resource: "thing", id: "1" })
const conflict = new Conflict({ message: "taken" })
const quota = new QuotaExceeded({ message: "full", limit: "sessions", max: 1, requested: 2, scope: "user" })

describe("declared route errors (type level)", () => {
  test("a handler failing with a declared or implicit error compiles", () => {
    const route = HttpRoute.make({
      method: "POST",
      path: "/things/:id",
      summary: "declared",
      permission: "things:write",
      errors: [NotFound, Conflict],
      handler: () =>
        Effect.fail(notFound).pipe(
          Effect.zipRight(Effect.fail(conflict)),
          // Implicit on a route with a permission: Forbidden (an owner check), and infrastructure errors.
          Effect.zipRight(Effect.fail(new Forbidden({ message: "not yours" }))),
          Effect.zipRight(Effect.fail(new SqlError({ cause: "down" })))
        )
    })
    expect(route.errors).toEqual([NotFound, Conflict])
  })

  test("a handler failing with an undeclared error does not compile", () => {
    const routes = [
      HttpRoute.make({
        method: "GET",
        path: "/things/:id",
        summary: "nothing declared",
        permission: "things:read",
        // @ts-expect-error NotFound is not declared
        handler: () => Effect.fail(notFound)
      }),
      HttpRoute.make({
        method: "DELETE",
        path: "/things/:id",
        summary: "declares NotFound, fails with Conflict too",
        permission: "things:write",
        errors: [NotFound],
        // @ts-expect-error Conflict is not declared
        handler: () => Effect.zipRight(Effect.fail(notFound), Effect.fail(conflict))
      }),
      HttpRoute.make({
        method: "POST",
        path: "/things",
        summary: "QuotaExceeded shares Forbidden's status but is its own error",
        permission: "things:write",
        // @ts-expect-error QuotaExceeded is not declared
        handler: () => Effect.fail(quota)
      }),
      HttpRoute.make({
        method: "POST",
        path: "/login",
        summary: "a public route has no permission check: Unauthorized must be declared",
        permission: "public",
        // @ts-expect-error Unauthorized is implicit only where a token is required
        handler: () => Effect.fail(new Unauthorized({ message: "wrong password" }))
      }),
      HttpRoute.make({
        method: "POST",
        path: "/login",
        summary: "…and declared, it compiles",
        permission: "public",
        errors: [Unauthorized],
        handler: () => Effect.fail(new Unauthorized({ message: "wrong password" }))
      }),
      HttpRoute.make({
        method: "GET",
        path: "/things",
        summary: "a plain Error is no problem: it must be handled or made a defect",
        permission: "authenticated",
        // @ts-expect-error Error is not a problem error
        handler: () => Effect.fail(new Error("boom"))
      })
    ]
    expect(routes).toHaveLength(6)
  })
})

describe("declared route errors (runtime)", () => {
  const run = (route: HttpRoute.Route) =>
    Effect.runPromiseExit(
      route
        .handle({ params: { id: "1" }, query: {}, body: undefined, request: new Request("http://x/") })
        .pipe(
          Effect.provideService(Actor.CurrentActor, { _tag: "System", component: "test" }),
          Effect.provideService(Actor.RequestContext, Actor.systemRequest)
        )
    )

  test("a declared error stays a typed failure; an infrastructure error becomes a defect", async () => {
    const failing = HttpRoute.make({
      method: "GET",
      path: "/things/:id",
      summary: "fails",
      permission: "authenticated",
      errors: [NotFound],
      handler: () => Effect.fail(notFound)
    })
    const failed = await run(failing)
    expect(Exit.isFailure(failed) && Option.getOrUndefined(Cause.failureOption(failed.cause))).toBe(notFound)

    const broken = HttpRoute.make({
      method: "GET",
      path: "/things/:id",
      summary: "database down",
      permission: "authenticated",
      handler: () => Effect.fail(new SqlError({ cause: "down" }))
    })
    const died = await run(broken)
    expect(Exit.isFailure(died) && Cause.isDie(died.cause)).toBe(true)
    expect(Exit.isFailure(died) && Option.isNone(Cause.failureOption(died.cause))).toBe(true)
  })
})

describe("OpenAPI responses", () => {
  test("one response per declared or implicit status, besides success and default", () => {
    const route = HttpRoute.make({
      method: "DELETE",
      path: "/things/:id",
      summary: "remove",
      permission: "things:write",
      errors: [NotFound, Conflict],
      handler: () => Effect.void
    })
    const publicRoute = HttpRoute.make({
      method: "POST",
      path: "/login",
      summary: "log in",
      permission: "public",
      rateLimit: "none",
      errors: [Unauthorized],
      handler: () => Effect.void
    })
    // 503: a token the database cannot resolve right now
    expect(OpenApi.errorStatuses(route)).toEqual([401, 403, 404, 409, 429, 503])
    expect(OpenApi.errorStatuses(publicRoute)).toEqual([401])
    const doc = OpenApi.document([route], { version: "0", serverUrl: "http://x" })
    const responses = doc.paths["/things/{id}"]?.["delete"] as { responses: Record<string, { description: string }> }
    expect(Object.keys(responses.responses).sort()).toEqual([
      "204",
      "401",
      "403",
      "404",
      "409",
      "429",
      "503",
      "default"
    ])
    expect(responses.responses["409"]?.description).toBe("Conflict")
  })
})
