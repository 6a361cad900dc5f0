/**
 * A route described without any HTTP framework: method, path, the permission
 * it requires, Schemas for params/query/body/response, the errors it may
 * answer with, how it is audited, and an Effect handler. Core features and
 * plugins both declare routes this way; the server mounts them on Elysia,
 * builds OpenAPI from the Schemas and the declared errors, and wraps
 * state-changing routes in one transaction together with their audit row.
 *
 * Errors are declared like `HttpApi`'s `.addError(NotFound)`: `errors:
 * [NotFound, Conflict]` lists problem classes (each with a static `status`),
 * and the handler's error channel must be a subtype of their instances plus
 * the implicit ones (`ImplicitError`: Unauthorized and Forbidden from the
 * permission check, ValidationError from decoding, TooManyRequests from rate
 * limiting) plus `InfrastructureError` (SqlError), which `handle` turns into a
 * defect (an opaque 500). A handler that can fail with anything else does not
 * compile; OpenAPI lists one response per declared or implicit status.
 *
 * Why not `@effect/platform`'s `HttpApi`: an `HttpApi` is one value built
 * before the server starts, its groups fixed at build time, while plugins add
 * and remove routes at runtime (enable, disable, uninstall) under
 * `/api/plugins/<id>/…` with their own transaction, role and audit log, and
 * disabled plugins' routes answer 404 `plugin_disabled`. A route here is a
 * plain value a plugin's scope can register and drop; the typing borrows
 * `HttpApi`'s per-endpoint error declaration, not its machinery.
 */
import type { SqlError } from "@effect/sql/SqlError"
import { Effect, JSONSchema, Option, type ParseResult, Schema } from "effect"
import type { Actor, RequestInfo } from "./Actor.ts"
import { CurrentActor, hasPermission, RequestContext } from "./Actor.ts"
import type { AuditEntryInput } from "./audit/AuditLog.ts"
import {
  Forbidden,
  type HttpProblem,
  isHttpProblem,
  type ProblemClass,
  type ProblemOf,
  TooManyRequests,
  Unauthorized,
  ValidationError
} from "./Errors.ts"
import * as JsonEncoder from "./JsonEncoder.ts"
import * as ParseIssues from "./ParseIssues.ts"

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

/**
 * `"public"`: no token needed; `"authenticated"`: any logged-in user (the handler
 * narrows further, e.g. owners only); anything else is a permission string.
 */
export type Permission = "public" | "authenticated" | (string & {})

/**
 * Errors every route may fail with without declaring them (the permission
 * check, decoding, rate limiting); OpenAPI documents them from the route's
 * permission, Schemas and rate-limit class.
 */
export type ImplicitError = Unauthorized | Forbidden | ValidationError | TooManyRequests

/**
 * Failures of the infrastructure rather than of the request: `handle` turns
 * them into defects (500, detail to the log only; 503 with Retry-After when
 * the database went away, see `Infrastructure.isUnavailable`). Services should not
 * surface them at all (repos wrap their methods in
 * `Infrastructure.sqlDefects`); allowing them here lets routes over the
 * services that still do (Auth, AuditLog, Integrations, Settings, …) compile
 * meanwhile.
 */
export type InfrastructureError = SqlError

/**
 * What a handler declaring `Errs` may fail with. A public route has no
 * permission check, so there Unauthorized and Forbidden count only when
 * declared (a login that refuses a password declares `Unauthorized`).
 */
export type AllowedError<Errs extends ReadonlyArray<ProblemClass>, Perm extends Permission = Permission> =
  | ProblemOf<Errs>
  | (Perm extends "public" ? Exclude<ImplicitError, Unauthorized | Forbidden> : ImplicitError)
  | InfrastructureError

export type RateLimitClass = "standard" | "strict" | "none"

export interface RawRequest {
  readonly params: Record<string, string | undefined>
  readonly query: Record<string, string | ReadonlyArray<string> | undefined>
  readonly body: unknown
  readonly request: Request
}

export interface RouteInput<P, Q, B> {
  readonly params: P
  readonly query: Q
  readonly body: B
  readonly actor: Actor
  readonly info: RequestInfo
  /** The raw request, for streamed bodies (uploads) and headers. */
  readonly request: Request
}

export interface RouteResult {
  readonly status: number
  /** Encoded JSON value, or a ready `Response` (downloads, streams). */
  readonly body: unknown
  readonly auditTarget?: string | null
}

export interface AuditSpec<In, A> {
  readonly action: string
  readonly target?: (input: In, output: A) => string | null | undefined
}

/**
 * Where a route's transaction and audit row go. Core routes use the core's
 * SqlClient and AuditLog; the kernel gives each plugin route its plugin's, so
 * the plugin's data, events and audit row commit together as its role.
 */
export interface RouteTransaction {
  readonly withTransaction: <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E | SqlError, R>
  readonly audit: (entry: AuditEntryInput) => Effect.Effect<void, SqlError>
}

export interface Route<R = never> {
  readonly method: Method
  readonly path: string
  readonly summary: string
  readonly tags: ReadonlyArray<string>
  readonly permission: Permission
  readonly rateLimit: RateLimitClass
  /**
   * Runs in one SQL transaction with its audit row (default: every non-GET route). A route whose only write
   * carries the audit row (`AuditLog.takeRequestAudit`) sets it false: one statement is atomic on its own.
   */
  readonly transactional: boolean
  /** Audit action; `null` for routes that are not audited (reads, or routes that audit themselves). */
  readonly auditAction: string | null
  readonly successStatus: number
  /** The problem classes the route declared (implicit ones not included). */
  readonly errors: ReadonlyArray<ProblemClass>
  /** The plugin that added the route (set by the kernel's route registry). */
  readonly plugin?: string
  /** Set for plugin routes by the kernel; core routes use the core's transaction and audit log. */
  readonly transaction?: RouteTransaction
  readonly openapi: {
    readonly params?: JSONSchema.JsonSchema7
    readonly query?: JSONSchema.JsonSchema7
    readonly body?: JSONSchema.JsonSchema7 | "binary"
    readonly response?: JSONSchema.JsonSchema7
  }
  /** The response's Schema (what its body is encoded with). */
  readonly responseSchema?: Schema.Schema.AnyNoContext
  /** Fails only with problems (declared or implicit); anything else has become a defect. */
  readonly handle: (raw: RawRequest) => Effect.Effect<RouteResult, HttpProblem, R | CurrentActor | RequestContext>
}

export interface RouteSpec<
  P,
  PI,
  Q,
  QI,
  B,
  BI,
  A,
  AI,
  Errs extends ReadonlyArray<ProblemClass>,
  E,
  R,
  Perm extends Permission = Permission
> {
  readonly method: Method
  readonly path: string
  readonly summary: string
  readonly tags?: ReadonlyArray<string>
  readonly permission: Perm
  readonly rateLimit?: RateLimitClass
  readonly params?: Schema.Schema<P, PI>
  readonly query?: Schema.Schema<Q, QI>
  /** A Schema for JSON bodies, or `"raw"` to read `request` yourself (streams). */
  readonly body?: Schema.Schema<B, BI> | "raw"
  readonly response?: Schema.Schema<A, AI>
  readonly successStatus?: number
  readonly transactional?: boolean
  readonly audit?: AuditSpec<RouteInput<P, Q, B>, A> | false
  /**
   * The problem classes the handler may fail with besides `ImplicitError`,
   * e.g. `[NotFound, Conflict]`; each becomes a response in OpenAPI.
   */
  readonly errors?: Errs
  readonly handler: (input: RouteInput<P, Q, B>) => Effect.Effect<A, E, R>
}

const jsonSchemaOf = (schema: Schema.Schema.AnyNoContext): JSONSchema.JsonSchema7 => {
  try {
    return JSONSchema.make(schema)
  } catch {
    return {} as JSONSchema.JsonSchema7
  }
}

/**
 * Turns a Schema parse error into a 400 naming each bad field, prefixed with
 * where it was (`body`, `query`, `params`); a value no member of a union
 * accepts is one entry naming the allowed values.
 */
export const validationError = (where: string, error: ParseResult.ParseError): ValidationError => {
  const errors = ParseIssues.issues(error).map((issue) => ({
    path: [where, ...issue.path.map(String)].join("."),
    message: issue.message
  }))
  const first = errors[0]
  return new ValidationError({
    message: first ? `${first.path}: ${first.message}` : `invalid ${where}`,
    errors
  })
}

/**
 * A decoder for one part of the request, compiled once when the route is made: the Schema's parser is
 * built here, so a request only runs it. A part without a Schema decodes to `undefined`.
 */
const decoderOf = <A, I>(
  where: string,
  schema: Schema.Schema<A, I> | undefined
): ((value: unknown) => Effect.Effect<A, ValidationError>) => {
  if (schema === undefined) return () => Effect.succeed(undefined as A)
  const decode = Schema.decodeUnknown(schema, {
    errors: "all",
    onExcessProperty: where === "body" ? "error" : "ignore"
  })
  return (value) => Effect.mapError(decode(value), (e) => validationError(where, e))
}

/**
 * The one gate every route passes: who may call it at all. A request made
 * with an API key carries the key's scopes intersected with its owner's
 * current permissions (`ApiKeyScopes.effectivePermissions`), so "the owner
 * holds the permission and the key is scoped to it" is one `hasPermission`.
 * `"authenticated"` admits any caller with a valid credential, keys of any
 * scope included: it is for harmless reads only. Routes that change the
 * caller's own account declare `ACCOUNT_PERMISSION`, which every logged-in
 * user holds and a key only when scoped to it.
 */
export const checkAccess = (permission: Permission, actor: Actor): Effect.Effect<void, Unauthorized | Forbidden> => {
  if (permission === "public") return Effect.void
  if (actor._tag === "Anonymous") return Effect.fail(new Unauthorized({ message: "authentication required" }))
  if (permission === "authenticated" || hasPermission(actor, permission)) return Effect.void
  const viaKey = actor._tag === "User" && Option.isSome(actor.apiKeyId)
  return Effect.fail(
    new Forbidden({
      message: viaKey
        ? `missing permission ${permission}: this API key is not scoped to it (or its owner no longer holds it)`
        : `missing permission ${permission}`,
      permission
    })
  )
}

export const make = <
  P = undefined,
  PI = unknown,
  Q = undefined,
  QI = unknown,
  B = undefined,
  BI = unknown,
  A = void,
  AI = unknown,
  const Errs extends ReadonlyArray<ProblemClass> = readonly [],
  const Perm extends Permission = Permission,
  E extends AllowedError<Errs, Perm> = never,
  R = never
>(
  spec: RouteSpec<P, PI, Q, QI, B, BI, A, AI, Errs, E, R, Perm>
): Route<Exclude<R, CurrentActor | RequestContext>> => {
  const permission = spec.permission
  const isRead = spec.method === "GET"
  const bodySchema = spec.body === "raw" ? undefined : spec.body
  const responseSchema = spec.response
  const auditAction =
    spec.audit === false || (isRead && spec.audit === undefined)
      ? null
      : (spec.audit?.action ?? `${spec.method} ${spec.path}`)
  const target = spec.audit ? spec.audit.target : undefined
  const successStatus = spec.successStatus ?? (responseSchema === undefined && !isRead ? 204 : 200)
  const decodeParams = decoderOf("params", spec.params)
  const decodeQuery = decoderOf("query", spec.query)
  const decodeBody = decoderOf("body", bodySchema)
  // A response shape the compiled encoder covers is written without re-validating the output; others go through Schema.
  const encodeFast = responseSchema === undefined ? undefined : JsonEncoder.compile(responseSchema)
  const encodeResponse =
    responseSchema === undefined || encodeFast !== undefined ? undefined : Schema.encode(responseSchema)
  return {
    method: spec.method,
    path: spec.path,
    summary: spec.summary,
    tags: spec.tags ?? [],
    permission,
    rateLimit: spec.rateLimit ?? "standard",
    transactional: spec.transactional ?? !isRead,
    auditAction,
    successStatus,
    errors: spec.errors ?? [],
    ...(responseSchema === undefined ? {} : { responseSchema: responseSchema as Schema.Schema.AnyNoContext }),
    openapi: {
      ...(spec.params ? { params: jsonSchemaOf(Schema.encodedSchema(spec.params)) } : {}),
      ...(spec.query ? { query: jsonSchemaOf(Schema.encodedSchema(spec.query)) } : {}),
      ...(spec.body === "raw"
        ? { body: "binary" as const }
        : bodySchema
          ? { body: jsonSchemaOf(Schema.encodedSchema(bodySchema)) }
          : {}),
      ...(responseSchema ? { response: jsonSchemaOf(Schema.encodedSchema(responseSchema)) } : {})
    },
    handle: (raw) =>
      Effect.gen(function* () {
        const actor = yield* CurrentActor
        const info = yield* RequestContext
        yield* checkAccess(permission, actor)
        const params = yield* decodeParams(raw.params)
        const query = yield* decodeQuery(raw.query)
        const body = yield* decodeBody(raw.body ?? (bodySchema ? {} : undefined))
        const input: RouteInput<P, Q, B> = { params, query, body, actor, info, request: raw.request }
        const output = yield* spec
          .handler(input)
          .pipe(Effect.catchAll((e) => (isHttpProblem(e) ? Effect.fail(e) : Effect.die(e))))
        const auditTarget = target?.(input, output) ?? null
        if (output instanceof Response) return { status: output.status, body: output, auditTarget }
        const encoded =
          encodeFast !== undefined
            ? encodeFast(output)
            : encodeResponse === undefined
              ? undefined
              : yield* Effect.orDie(encodeResponse(output))
        return { status: successStatus, body: encoded, auditTarget }
      }) as Effect.Effect<
        RouteResult,
        HttpProblem,
        Exclude<R, CurrentActor | RequestContext> | CurrentActor | RequestContext
      >
  }
}

export type RouteMatch =
  | { readonly _tag: "Found"; readonly route: Route; readonly params: Record<string, string> }
  | { readonly _tag: "Disabled"; readonly plugin: string }
  /** The path exists, but not for this method: answer 405 with `Allow`. */
  | { readonly _tag: "MethodNotAllowed"; readonly allowed: ReadonlyArray<Method> }
  | { readonly _tag: "NotFound" }

/**
 * Routes that come and go at runtime (plugins). Elysia cannot unregister a
 * route, so the server sends `/api/plugins/*` here and dispatches itself.
 */
export interface RouteTable {
  readonly prefix: string
  readonly resolve: (method: string, pathname: string) => RouteMatch
  readonly routes: () => ReadonlyArray<Route>
}

/** Matches `/a/:id/b` against a path; returns the params or undefined (also for a malformed %-escape: a 404, not a throw). */
export const matchPath = (pattern: string, pathname: string): Record<string, string> | undefined => {
  const want = pattern.split("/").filter((s) => s.length > 0)
  const got = pathname.split("/").filter((s) => s.length > 0)
  if (want.length !== got.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < want.length; i++) {
    const w = want[i]!
    const g = got[i]!
    if (w.startsWith(":")) {
      try {
        params[w.slice(1)] = decodeURIComponent(g)
      } catch {
        return undefined
      }
    } else if (w !== g) return undefined
  }
  return params
}
