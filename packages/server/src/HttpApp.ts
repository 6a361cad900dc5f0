/**
 * The HTTP edge: mounts framework-free route descriptions on Elysia and runs
 * each handler as an Effect through one ManagedRuntime. Per request it
 * authenticates the bearer token, applies the rate-limit class, wraps
 * state-changing routes in one transaction with their audit row, maps
 * failures to problem documents and logs one line.
 */
import { SqlClient } from "@effect/sql"
import {
  Actor,
  AuditLog,
  Authenticator,
  HttpRoute,
  isHttpProblem,
  TooManyRequests,
  ValidationError
} from "@streamspace/core"
import { Cause, Effect, Exit, type ManagedRuntime, Option } from "effect"
import { Elysia } from "elysia"
import * as Problem from "./Problem.ts"
import type { RateLimiter } from "./RateLimiter.ts"

export type HttpServices = SqlClient.SqlClient | AuditLog.AuditLog | Authenticator.Authenticator

export interface HttpAppOptions<R> {
  readonly routes: ReadonlyArray<HttpRoute.Route<R>>
  readonly runtime: ManagedRuntime.ManagedRuntime<R | HttpServices, unknown>
  readonly dynamic?: HttpRoute.RouteTable
  readonly rateLimiter: RateLimiter
  /** Extra raw handlers (health, docs, WebSockets) mounted before the API routes. */
  readonly extend?: (app: Elysia) => void
}

const requestIdPattern = /^[\w.:-]{1,128}$/

/** The order methods are listed in an `Allow` header. */
const methodOrder = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

/** Whether a route pattern matches a path (a malformed %-escape matches nothing). */
const matches = (pattern: string, pathname: string) => HttpRoute.matchPath(pattern, pathname) !== undefined

const queryOf = (url: URL): Record<string, string | ReadonlyArray<string>> => {
  const out: Record<string, string | Array<string>> = {}
  for (const [key, value] of url.searchParams) {
    const prev = out[key]
    out[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value]
  }
  return out
}

const readJsonBody = (request: Request): Effect.Effect<unknown, ValidationError> =>
  Effect.tryPromise({
    try: async () => {
      if (request.method === "GET" || request.method === "HEAD") return undefined
      const text = await request.text()
      return text.trim().length === 0 ? undefined : (JSON.parse(text) as unknown)
    },
    catch: (e) => ValidationError.field("body", `invalid JSON: ${e instanceof Error ? e.message : String(e)}`)
  })

const bearerOf = (request: Request): string | undefined => {
  const header = request.headers.get("authorization")
  if (!header) return undefined
  const match = /^Bearer\s+(.+)$/i.exec(header.trim())
  return match?.[1]
}

const callerKey = (actor: Actor.Actor, ip: string) => (actor._tag === "User" ? `u:${actor.userId}` : `ip:${ip}`)

export const make = <R>(options: HttpAppOptions<R>): Elysia => {
  const { runtime, rateLimiter } = options

  const authenticate = (request: Request) =>
    Effect.gen(function* () {
      const bearer = bearerOf(request)
      if (bearer === undefined) return Actor.anonymous
      const auth = yield* Authenticator.Authenticator
      return yield* auth.authenticate(bearer)
    })

  const execute = (route: HttpRoute.Route<R>, raw: HttpRoute.RawRequest, info: Actor.RequestInfo) =>
    Effect.gen(function* () {
      const audit = yield* AuditLog.AuditLog
      const actor = yield* authenticate(raw.request).pipe(
        Effect.tapError((e) =>
          route.auditAction === null
            ? Effect.void
            : audit
                .record({
                  actor: Actor.anonymous,
                  action: route.auditAction,
                  ip: info.ip,
                  userAgent: info.userAgent,
                  result: "denied",
                  detail: e.message,
                  requestId: info.requestId,
                  plugin: route.plugin ?? null
                })
                .pipe(Effect.ignore)
        )
      )
      const decision = rateLimiter.check(route.rateLimit, callerKey(actor, info.ip))
      if (!decision.allowed) {
        return yield* new TooManyRequests({
          message: "rate limit exceeded",
          retryAfterSeconds: decision.retryAfterSeconds
        })
      }
      const onFailure: Array<Effect.Effect<void, unknown>> = []
      const onCommit: Array<Effect.Effect<void>> = []
      const handled = route.handle(raw).pipe(
        Effect.provideService(Actor.CurrentActor, actor),
        Effect.provideService(Actor.RequestContext, info),
        Effect.provideService(Actor.FailureEffects, {
          add: (effect) => Effect.sync(() => void onFailure.push(effect))
        }),
        Effect.provideService(Actor.CommitEffects, { add: (effect) => Effect.sync(() => void onCommit.push(effect)) })
      )
      const action = route.auditAction
      const plugin = route.plugin ?? null
      // A plugin route's transaction and audit row are its plugin's (its role, its client); a core route's the core's.
      const unit: HttpRoute.RouteTransaction = route.transaction ?? {
        withTransaction: (yield* SqlClient.SqlClient).withTransaction,
        audit: audit.record
      }
      const withAudit =
        action === null
          ? handled
          : handled.pipe(
              Effect.tap((result) =>
                unit.audit({
                  actor,
                  action,
                  target: result.auditTarget ?? null,
                  ip: info.ip,
                  userAgent: info.userAgent,
                  result: "success",
                  requestId: info.requestId,
                  plugin
                })
              )
            )
      const run = route.transactional ? unit.withTransaction(withAudit) : withAudit
      return yield* run.pipe(
        Effect.tap(() => Effect.forEach(onCommit, (effect) => effect, { discard: true })),
        Effect.tapErrorCause(() =>
          Effect.forEach(
            onFailure,
            (effect) => effect.pipe(Effect.catchAllCause((c) => Effect.logError("failure side effect failed", c))),
            { discard: true }
          )
        ),
        Effect.tapErrorCause((cause) => {
          if (action === null || Cause.isInterruptedOnly(cause)) return Effect.void
          const failure = Cause.failureOption(cause)
          const status = Option.isSome(failure) && isHttpProblem(failure.value) ? failure.value.status : 500
          const message =
            Option.isSome(failure) && isHttpProblem(failure.value) ? failure.value.message : "internal error"
          return audit
            .record({
              actor,
              action,
              target: raw.params["id"] ?? null,
              ip: info.ip,
              userAgent: info.userAgent,
              result: status === 401 || status === 403 ? "denied" : "failure",
              detail: `${status} ${message}`,
              requestId: info.requestId,
              plugin
            })
            .pipe(Effect.ignore)
        })
      )
    })

  const toResponse = (result: HttpRoute.RouteResult, requestId: string): Response => {
    if (result.body instanceof Response) {
      result.body.headers.set("x-request-id", requestId)
      return result.body
    }
    const headers = { "x-request-id": requestId }
    if (result.status === 204 || result.body === undefined)
      return new Response(null, { status: result.status === 200 ? 204 : result.status, headers })
    return new Response(JSON.stringify(result.body), {
      status: result.status,
      headers: { ...headers, "content-type": "application/json" }
    })
  }

  const serve = async (
    route: HttpRoute.Route<R>,
    request: Request,
    params: Record<string, string | undefined>,
    ip: string
  ): Promise<Response> => {
    const started = performance.now()
    const given = request.headers.get("x-request-id")
    const requestId = given && requestIdPattern.test(given) ? given : crypto.randomUUID()
    const info: Actor.RequestInfo = { requestId, ip, userAgent: request.headers.get("user-agent") ?? "" }
    const url = new URL(request.url)
    // Plugin routes name their plugin on every log line of the request.
    const annotations = route.plugin === undefined ? { requestId } : { requestId, plugin: route.plugin }
    const program = Effect.gen(function* () {
      const body = route.openapi.body === "binary" ? undefined : yield* readJsonBody(request)
      const raw: HttpRoute.RawRequest = { params, query: queryOf(url), body, request }
      return yield* execute(route, raw, info)
    })
    const exit = await runtime.runPromiseExit(program, { signal: request.signal })
    let res: Response
    if (Exit.isSuccess(exit)) {
      res = toResponse(exit.value, requestId)
    } else {
      const mapped = Problem.fromCause(exit.cause)
      const headers: Record<string, string> = { "x-request-id": requestId }
      const retry = mapped.problem["retryAfterSeconds"]
      if (typeof retry === "number") headers["retry-after"] = String(retry)
      res = Problem.response({ ...mapped.problem, requestId }, headers)
      if (mapped.logDetail) {
        runtime.runFork(Effect.logError("request failed", mapped.logDetail).pipe(Effect.annotateLogs(annotations)))
      }
    }
    const ms = Math.round((performance.now() - started) * 100) / 100
    runtime.runFork(
      Effect.logDebug("request").pipe(
        Effect.annotateLogs({ ...annotations, method: request.method, path: url.pathname, status: res.status, ms })
      )
    )
    return res
  }

  const notFound = (
    request: Request,
    code = "route_not_found",
    detail?: string,
    extra: Record<string, unknown> = {}
  ) => {
    const url = new URL(request.url)
    return Problem.response(
      Problem.problem(404, code, detail ?? `no route for ${request.method} ${url.pathname}`, extra),
      { "x-request-id": request.headers.get("x-request-id") ?? crypto.randomUUID() }
    )
  }

  /** 405 for a path that exists under other methods: RFC 9110 wants them in `Allow`. */
  const methodNotAllowed = (request: Request, allowed: ReadonlyArray<string>) => {
    const url = new URL(request.url)
    return Problem.response(
      Problem.problem(
        405,
        "method_not_allowed",
        `${request.method} is not allowed on ${url.pathname}; allowed: ${allowed.join(", ")}`,
        { allowed }
      ),
      { allow: allowed.join(", "), "x-request-id": request.headers.get("x-request-id") ?? crypto.randomUUID() }
    )
  }

  const app = new Elysia()

  /**
   * The methods a path answers to. Elysia reports a known path asked with
   * another method as NOT_FOUND, so this looks through the mounted routes
   * (plugin routes through their table).
   */
  const allowedMethods = (method: string, pathname: string): ReadonlyArray<string> => {
    const table = options.dynamic
    const found = new Set<string>()
    if (table && pathname.startsWith(`${table.prefix}/`)) {
      const match = table.resolve(method, pathname)
      if (match._tag === "MethodNotAllowed") for (const m of match.allowed) found.add(m)
    } else {
      for (const route of app.routes) {
        if (route.path.includes("*") || !matches(route.path, pathname)) continue
        // A WebSocket route is reached with GET (the upgrade request).
        found.add(route.method === "WS" ? "GET" : route.method)
      }
    }
    found.delete(method)
    return [...found].sort((a, b) => methodOrder.indexOf(a) - methodOrder.indexOf(b))
  }

  app.onError(({ code, request, error }) => {
    if (code === "NOT_FOUND") {
      const allowed = allowedMethods(request.method, new URL(request.url).pathname)
      return allowed.length > 0 ? methodNotAllowed(request, allowed) : notFound(request)
    }
    if (code === "PARSE")
      return Problem.response(Problem.problem(400, "invalid_body", "request body could not be parsed"))
    runtime.runFork(Effect.logError("unhandled HTTP error", String(error)))
    return Problem.response(Problem.problem(500, "internal_error", "internal server error"))
  })

  options.extend?.(app)

  const ipOf = (server: { requestIP: (r: Request) => { address: string } | null } | null, request: Request) =>
    server?.requestIP(request)?.address ?? ""

  for (const route of options.routes) {
    app.route(
      route.method,
      route.path,
      ({ request, params, server }) =>
        serve(route, request, (params ?? {}) as Record<string, string>, ipOf(server, request)),
      { parse: "none" }
    )
  }

  const dynamic = options.dynamic
  if (dynamic) {
    const dispatch = ({
      request,
      server
    }: {
      request: Request
      server: { requestIP: (r: Request) => { address: string } | null } | null
    }) => {
      const pathname = new URL(request.url).pathname
      const match = dynamic.resolve(request.method, pathname)
      switch (match._tag) {
        case "Found":
          return serve(match.route as HttpRoute.Route<R>, request, match.params, ipOf(server, request))
        case "Disabled":
          return notFound(request, "plugin_disabled", `plugin ${match.plugin} is not enabled`, { plugin: match.plugin })
        case "MethodNotAllowed":
          return methodNotAllowed(request, match.allowed)
        case "NotFound":
          return notFound(request)
      }
    }
    for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
      app.route(method, `${dynamic.prefix}/*`, dispatch, { parse: "none" })
    }
  }
  return app
}
