/**
 * The error vocabulary shared by the core, the kernel and plugins. Each error
 * carries its HTTP status and a stable snake_case `code`; the server turns
 * any of them into an RFC 9457 problem document in one place. The status is
 * also a static of the class, so a route's declared error list (`errors:
 * [NotFound, Conflict]` in `HttpRoute.make`) documents its statuses in OpenAPI
 * without building an instance.
 */
import { Data } from "effect"

export interface FieldError {
  readonly path: string
  readonly message: string
}

export class ValidationError extends Data.TaggedError("ValidationError")<{
  readonly message: string
  readonly errors: ReadonlyArray<FieldError>
}> {
  static readonly status = 400
  readonly status = 400
  readonly code = "validation_failed"
  static field(path: string, message: string) {
    return new ValidationError({ message: `${path}: ${message}`, errors: [{ path, message }] })
  }
}

export class Unauthorized extends Data.TaggedError("Unauthorized")<{ readonly message: string }> {
  static readonly status = 401
  readonly status = 401
  readonly code = "unauthorized"
}

export class Forbidden extends Data.TaggedError("Forbidden")<{
  readonly message: string
  readonly permission?: string
  /** The plugin that vetoed the action, when a hook did. */
  readonly plugin?: string
}> {
  static readonly status = 403
  readonly status = 403
  readonly code = "forbidden"
}

export class QuotaExceeded extends Data.TaggedError("QuotaExceeded")<{
  readonly message: string
  readonly limit: string
  readonly max: number
  readonly requested: number
  readonly scope: "user" | "group"
}> {
  static readonly status = 403
  readonly status = 403
  readonly code = "quota_exceeded"
}

export class NotFound extends Data.TaggedError("NotFound")<{
  readonly resource: string
  readonly id: string
  readonly code?: string
  readonly detail?: string
}> {
  static readonly status = 404
  readonly status = 404
  override get message() {
    return this.detail ?? `${this.resource} ${this.id} not found`
  }
}

export class Conflict extends Data.TaggedError("Conflict")<{ readonly message: string; readonly code?: string }> {
  static readonly status = 409
  readonly status = 409
}

export class PayloadTooLarge extends Data.TaggedError("PayloadTooLarge")<{
  readonly message: string
  readonly limit: number
}> {
  static readonly status = 413
  readonly status = 413
  readonly code = "payload_too_large"
}

export class TooManyRequests extends Data.TaggedError("TooManyRequests")<{
  readonly message: string
  readonly retryAfterSeconds: number
}> {
  static readonly status = 429
  readonly status = 429
  readonly code = "too_many_requests"
}

/** A feature that exists in the API but is not built yet. Listed in the README status table. */
export class NotImplemented extends Data.TaggedError("NotImplemented")<{ readonly feature: string }> {
  static readonly status = 501
  readonly status = 501
  readonly code = "not_implemented"
  override get message() {
    return `${this.feature} is not implemented yet`
  }
}

/**
 * A dependency (the database) is not answering: the request may succeed if
 * retried later. `retryAfterSeconds` becomes the `Retry-After` header.
 */
export class ServiceUnavailable extends Data.TaggedError("ServiceUnavailable")<{
  readonly message: string
  readonly retryAfterSeconds?: number
}> {
  static readonly status = 503
  readonly status = 503
  readonly code = "service_unavailable"
}

/** Anything the HTTP edge can render as a problem document. */
export interface HttpProblem {
  readonly _tag: string
  readonly status: number
  readonly message: string
  readonly code?: string
}

/**
 * An error class a route may declare: its instances are problems, and the
 * class carries the status (`static readonly status = 404`).
 */
export interface ProblemClass<E extends HttpProblem = HttpProblem> {
  readonly status: number
  new (...args: never): E
}

/** The union of the instance types of a list of problem classes. */
export type ProblemOf<L extends ReadonlyArray<ProblemClass>> = InstanceOfProblem<L[number]>
type InstanceOfProblem<C> = C extends ProblemClass<infer E> ? E : never

export const isHttpProblem = (u: unknown): u is HttpProblem =>
  typeof u === "object" &&
  u !== null &&
  "_tag" in u &&
  "status" in u &&
  typeof u.status === "number" &&
  u.status >= 400 &&
  u.status < 600
