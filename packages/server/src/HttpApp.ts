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
  Auth,
  Authenticator,
  HttpRoute,
  isHttpProblem,
  Infrastructure,
  ServiceUnavailable,
  TooManyRequests,
  type Unauthorized
} from "@streamspace/core"
import { Cause, Context, Effect, Exit, FiberRef, LogLevel, type ManagedRuntime, Option } from "effect"
import { Elysia } from "elysia"
import * as Problem from "./Problem.ts"
import * as ClientIp from "./ClientIp.ts"
import { authFailureBudget, type Limiter } from "./RateLimiter.ts"
import * as RequestBody from "./RequestBody.ts"
import * as RequestEffects from "./RequestEffects.ts"

export type HttpServices = SqlClient.SqlClient | AuditLog.AuditLog | Authenticator.Authenticator

export interface HttpAppOptions<R> {
  readonly routes: ReadonlyArray<HttpRoute.Route<R>>
  readonly runtime: ManagedRuntime.ManagedRuntime<R | HttpServices, unknown>
  readonly dynamic?: HttpRoute.RouteTable
  readonly rateLimiter: Limiter
  /** Who the client is behind trusted proxies (default: the socket's peer). */
  readonly clientIp?: ClientIp.ClientIp
  /** Extra raw handlers (health, docs, WebSockets) mounted before the API routes. */
  readonly extend?: (app: Elysia) => void
  /** What answers a GET no route matches (the web console), before the 404 problem document. */
  readonly fallback?: (request: Request) => Response | undefined
}

/** How long a client should wait before retrying when the database failed under its request. */
const retryAfterOutageSeconds = 5

const requestIdPattern = /^[\w.:-]{1,128}$/

/** The client's `x-request-id` if it is a plausible one, a fresh id otherwise. */
export const requestIdOf = (request: Request): string => {
  const given = request.headers.get("x-request-id")
  return given && requestIdPattern.test(given) ? given : crypto.randomUUID()
}

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

/**
 * The longest URL answered (414 beyond). Bun itself refuses a request whose
 * request line and headers exceed 16 KiB with a bare 431 before any handler
 * runs; below that, a too-long URL gets a problem document from here.
 */
export const maxUrlLength = 8192

const bearerOf = (request: Request): string | undefined => {
  const header = request.headers.get("authorization")
  if (!header) return undefined
  const match = /^Bearer\s+(.+)$/i.exec(header.trim())
  return match?.[1]
}

/** Plugin routes name their plugin on every log line of the request. */
const annotationsOf = <R>(route: HttpRoute.Route<R>, requestId: string): Record<string, string> =>
  route.plugin === undefined ? { requestId } : { requestId, plugin: route.plugin }

/**
 * The user for a token, the client address otherwise. A `strict` route
 * (login, refresh, …) has a budget of its own per caller, so that using up
 * one (failed refreshes) does not block another (logging in again).
 */

const callerKey = <R>(route: HttpRoute.Route<R>, actor: Actor.Actor, ip: string) => {
  const caller = actor._tag === "User" ? `u:${actor.userId}` : `ip:${ip}`
  return route.rateLimit === "strict" ? `${route.method} ${route.path} ${caller}` : caller
}

/** The services of the edge itself, looked up once when the app is made, not per request. */
const edgeServices = Effect.all({
  sql: SqlClient.SqlClient,
  audit: AuditLog.AuditLog,
  authenticator: Authenticator.Authenticator,
  minimumLogLevel: FiberRef.get(FiberRef.currentMinimumLogLevel)
})

export const make = <R>(options: HttpAppOptions<R>): Elysia => {
  const { runtime, rateLimiter } = options
  const { sql, audit, authenticator, minimumLogLevel } = runtime.runSync(edgeServices)
  // The per-request line is at debug: below that level no fiber is forked to drop it.
  const logRequests = LogLevel.lessThanEqual(minimumLogLevel, LogLevel.Debug)
  const coreTransaction: HttpRoute.RouteTransaction = { withTransaction: sql.withTransaction, audit: audit.record }

  const tooManyFailures = (retryAfterSeconds: number) =>
    new TooManyRequests({ message: "too many failed authentications from this address", retryAfterSeconds })

  /** A refused credential: counted per address, audited once per address and minute, 429 once over budget. */
  const refused = (route: HttpRoute.Route<R>, info: Actor.RequestInfo, e: Unauthorized) =>
    Effect.gen(function* () {
      const failure = rateLimiter.authFailure(info.ip)
      if (!failure.allowed) {
        if (failure.first)
          yield* Effect.logWarning(
            `failed authentications from ${info.ip || "an unknown address"} exceed ${authFailureBudget} a minute: answering 429 for ${failure.retryAfterSeconds} s, further failures neither audited nor logged`
          )
        return yield* tooManyFailures(failure.retryAfterSeconds)
      }
      if (failure.first) {
        yield* audit
          .record({
            actor: Actor.anonymous,
            action: route.auditAction ?? "auth.authenticate",
            ip: info.ip,
            userAgent: info.userAgent,
            result: "denied",
            detail: e.message,
            requestId: info.requestId,
            plugin: route.plugin ?? null
          })
          .pipe(Effect.ignore)
      }
      return yield* e
    })

  /**
   * The caller. Failed authentications are limited per client address before
   * any lookup: once the address has used up its budget, its API keys are
   * refused unread (checking one costs a query) and its failures are 429. They
   * are counted rather than audited one by one: the first per address and
   * minute gets an audit row (the route's action, or `auth.authenticate` on a
   * route that is not audited) and the first refused one a warning, so a
   * flood of bad credentials costs neither rows nor queries while the audit
   * log still shows that the address tried. Access tokens are
   * checked without the database, so a valid one still works from an address
   * over budget (users behind one NAT are not locked out by a neighbour).
   */
  const authenticate = (
    route: HttpRoute.Route<R>,
    request: Request,
    info: Actor.RequestInfo
  ): Effect.Effect<Actor.Actor, Unauthorized | TooManyRequests | ServiceUnavailable> => {
    const bearer = bearerOf(request)
    if (bearer === undefined) return Effect.succeed(Actor.anonymous)
    if (bearer.startsWith(Auth.API_KEY_PREFIX)) {
      const left = rateLimiter.authFailuresLeft(info.ip)
      if (!left.allowed) return Effect.fail(tooManyFailures(left.retryAfterSeconds))
    }
    return Effect.catchTag(authenticator.authenticate(bearer), "Unauthorized", (e) => refused(route, info, e))
  }

  /** The audit row of a request that failed (its transaction, if any, rolled back). */
  const auditFailure = (
    route: HttpRoute.Route<R>,
    raw: HttpRoute.RawRequest,
    actor: Actor.Actor,
    info: Actor.RequestInfo,
    action: string,
    cause: Cause.Cause<unknown>
  ) => {
    if (Cause.isInterruptedOnly(cause)) return Effect.void
    const failure = Cause.failureOption(cause)
    const problem = Option.isSome(failure) && isHttpProblem(failure.value) ? failure.value : undefined
    const status = problem?.status ?? 500
    return audit
      .record({
        actor,
        action,
        target: raw.params["id"] ?? null,
        ip: info.ip,
        userAgent: info.userAgent,
        result: status === 401 || status === 403 ? "denied" : "failure",
        detail: `${status} ${problem?.message ?? "internal error"}`,
        requestId: info.requestId,
        plugin: route.plugin ?? null
      })
      .pipe(Effect.ignore)
  }

  /**
   * The database going away under a request is answered as when it fails while a credential is resolved
   * (Auth): 503 with Retry-After, so that clients retry instead of giving up, and the failure is logged.
   * Any other SqlError is a bug: an opaque 500 like every defect.
   * With credentials resolved from memory (PrincipalCache), a request reaches its route during an outage.
   */
  const databaseFailed = (route: HttpRoute.Route<R>, info: Actor.RequestInfo) => (defect: unknown) =>
    Infrastructure.isSqlError(defect) && Infrastructure.isUnavailable(defect)
      ? Option.some(
          Effect.zipRight(
            Effect.logError("request failed: the database did not answer", defect).pipe(
              Effect.annotateLogs(annotationsOf(route, info.requestId))
            ),
            Effect.fail(
              new ServiceUnavailable({
                message: "the database is unavailable; try again shortly",
                retryAfterSeconds: retryAfterOutageSeconds
              })
            )
          )
        )
      : Option.none()

  const execute = (route: HttpRoute.Route<R>, raw: HttpRoute.RawRequest, info: Actor.RequestInfo) =>
    Effect.flatMap(authenticate(route, raw.request, info), (actor) => {
      const decision = rateLimiter.check(route.rateLimit, callerKey(route, actor, info.ip))
      if (!decision.allowed) {
        return Effect.fail(
          new TooManyRequests({ message: "rate limit exceeded", retryAfterSeconds: decision.retryAfterSeconds })
        )
      }
      const onFailure = RequestEffects.make("failure side effect", "drop")
      const onCommit = RequestEffects.make("commit side effect", "run")
      const onOutcome = RequestEffects.make("work after the outcome", "run")
      const action = route.auditAction
      // A plugin route's transaction and audit row are its plugin's (its role, its client); a core route's the core's.
      const unit = route.transaction ?? coreTransaction
      // On an audited core route, the handler's last write may carry the success row (AuditLog.RequestAudit).
      let auditCarried = false
      const requestAudit: AuditLog.RequestAudit["Type"] | undefined =
        action !== null && route.transaction === undefined
          ? {
              take: (target) =>
                Effect.sync(() => {
                  if (auditCarried) return undefined
                  auditCarried = true
                  return AuditLog.auditColumns({
                    actor,
                    action,
                    target,
                    ip: info.ip,
                    userAgent: info.userAgent,
                    result: "success",
                    requestId: info.requestId,
                    plugin: null
                  })
                })
            }
          : undefined
      // Everything the handler learns about its request, provided at once.
      const requestContext = Context.make(Actor.CurrentActor, actor).pipe(
        Context.add(Actor.RequestContext, info),
        Context.add(Actor.FailureEffects, { add: onFailure.add }),
        Context.add(Actor.CommitEffects, { add: onCommit.add }),
        Context.add(Actor.OutcomeEffects, { add: onOutcome.add }),
        requestAudit ? Context.add(AuditLog.RequestAudit, requestAudit) : (context) => context
      )
      const handled = Effect.provide(route.handle(raw), requestContext)
      const withAudit =
        action === null
          ? handled
          : Effect.tap(handled, (result) =>
              auditCarried
                ? Effect.void
                : unit.audit({
                    actor,
                    action,
                    target: result.auditTarget ?? null,
                    ip: info.ip,
                    userAgent: info.userAgent,
                    result: "success",
                    requestId: info.requestId,
                    plugin: route.plugin ?? null
                  })
            )
      const run = route.transactional ? unit.withTransaction(withAudit) : withAudit
      return run.pipe(
        Effect.catchSomeDefect(databaseFailed(route, info)),
        Effect.tapErrorCause((cause) =>
          Effect.zipRight(
            onFailure.run,
            action === null ? Effect.void : auditFailure(route, raw, actor, info, action, cause)
          )
        ),
        // Also when the client went away and interrupted the request: what it queued still runs.
        Effect.onExit((exit) =>
          Effect.zipRight(
            Exit.isSuccess(exit)
              ? Effect.zipRight(onCommit.run, onFailure.close)
              : Effect.zipRight(onFailure.run, onCommit.close),
            onOutcome.run
          )
        )
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
    const requestId = requestIdOf(request)
    const info: Actor.RequestInfo = { requestId, ip, userAgent: request.headers.get("user-agent") ?? "" }
    const url = new URL(request.url)
    const query = queryOf(url)
    // Only routes with a JSON body Schema read the body; uploads (`"binary"`) stream it themselves.
    const program =
      typeof route.openapi.body === "object"
        ? Effect.flatMap(RequestBody.readJson(request), (body) =>
            execute(route, { params, query, body, request }, info)
          )
        : execute(route, { params, query, body: undefined, request }, info)
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
        runtime.runFork(
          Effect.logError("request failed", mapped.logDetail).pipe(Effect.annotateLogs(annotationsOf(route, requestId)))
        )
      }
    }
    if (logRequests) {
      const ms = Math.round((performance.now() - started) * 100) / 100
      runtime.runFork(
        Effect.logDebug("request").pipe(
          Effect.annotateLogs({
            ...annotationsOf(route, requestId),
            method: request.method,
            path: url.pathname,
            status: res.status,
            ms
          })
        )
      )
    }
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
      { "x-request-id": requestIdOf(request) }
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
      { allow: allowed.join(", "), "x-request-id": requestIdOf(request) }
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

  /** The route params of a path, for naming the one that holds a NUL character. */
  const paramsOf = (method: string, pathname: string): Record<string, string> | undefined => {
    const table = options.dynamic
    if (table && pathname.startsWith(`${table.prefix}/`)) {
      const match = table.resolve(method, pathname)
      return match._tag === "Found" ? match.params : undefined
    }
    for (const route of options.routes) {
      if (route.method !== method) continue
      const params = HttpRoute.matchPath(route.path, pathname)
      if (params) return params
    }
    return undefined
  }

  /** Where a URL holds a NUL character (`query.name`, `params.id`, or `path` on other routes), if it does. */
  const nulInUrl = (method: string, url: URL): string | undefined => {
    for (const [key, value] of url.searchParams) {
      const field = RequestBody.nulField("query", { [key]: value })
      if (field) return field
    }
    if (!/%00/i.test(url.pathname)) return undefined
    return RequestBody.nulField("params", paramsOf(method, url.pathname) ?? {}) ?? "path"
  }

  /**
   * Before routing, for every route (raw handlers and WebSockets included):
   * a URL longer than `maxUrlLength` is 414, a NUL character anywhere in it 400.
   */
  app.onRequest(({ request }) => {
    // The request id is only needed for a refusal: no UUID is made for a request that passes.
    if (request.url.length > maxUrlLength)
      return Problem.response(
        Problem.problem(414, "uri_too_long", `the URL is longer than ${maxUrlLength} characters`, {
          limit: maxUrlLength
        }),
        { "x-request-id": requestIdOf(request) }
      )
    const field = nulInUrl(request.method, new URL(request.url))
    if (field === undefined) return undefined
    const message = "must not contain NUL characters"
    return Problem.response(
      Problem.problem(400, "validation_failed", `${field}: ${message}`, { errors: [{ path: field, message }] }),
      { "x-request-id": requestIdOf(request) }
    )
  })

  app.onError(({ code, request, error }) => {
    if (code === "NOT_FOUND") {
      const page = options.fallback?.(request)
      if (page) return page
      const allowed = allowedMethods(request.method, new URL(request.url).pathname)
      return allowed.length > 0 ? methodNotAllowed(request, allowed) : notFound(request)
    }
    if (code === "PARSE")
      return Problem.response(Problem.problem(400, "invalid_body", "request body could not be parsed"))
    runtime.runFork(Effect.logError("unhandled HTTP error", String(error)))
    return Problem.response(Problem.problem(500, "internal_error", "internal server error"))
  })

  options.extend?.(app)

  const clientIp = options.clientIp ?? ClientIp.make([])
  const ipOf = (server: { requestIP: (r: Request) => { address: string } | null } | null, request: Request) =>
    clientIp.resolve(server?.requestIP(request)?.address ?? "", request.headers.get("x-forwarded-for"))

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
