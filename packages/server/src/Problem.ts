/**
 * The one place where failures become RFC 9457 problem documents. Typed
 * errors carry their status; interruption is 499; defects are an opaque 500
 * whose detail goes to the log only. Whatever an error says, a document
 * stays small: `detail` and each `errors[]` entry are cut to a bounded
 * length, and `errors[]` to `maxErrors` entries (the messages themselves
 * never show a sensitive value: `ParseIssues`).
 */
import { isHttpProblem } from "@streamspace/core"
import { Cause, Option } from "effect"

export interface ProblemDocument {
  readonly type: string
  readonly title: string
  readonly status: number
  readonly detail: string
  readonly code: string
  readonly requestId?: string
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
  readonly [extra: string]: unknown
}

export const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  409: "Conflict",
  413: "Payload Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  499: "Client Closed Request",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable"
}

const snake = (tag: string) => tag.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase()

export const maxDetail = 1000
export const maxErrors = 100
const maxErrorField = 500

const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text)

/** `errors[]` as sent: at most `maxErrors` entries, each path and message cut short. */
const boundedErrors = (errors: unknown): ProblemDocument["errors"] =>
  Array.isArray(errors)
    ? errors.slice(0, maxErrors).map((e: { readonly path?: unknown; readonly message?: unknown }) => ({
        path: cut(String(e.path ?? ""), maxErrorField),
        message: cut(String(e.message ?? ""), maxErrorField)
      }))
    : undefined

export const problem = (
  status: number,
  code: string,
  detail: string,
  extra: Record<string, unknown> = {}
): ProblemDocument => ({
  type: `/problems/${code}`,
  title: titles[status] ?? "Error",
  status,
  detail: cut(detail, maxDetail),
  code,
  ...extra,
  ...(Array.isArray(extra["errors"]) ? { errors: boundedErrors(extra["errors"]) } : {})
})

/** Fields of a typed error that are safe and useful to show (never `cause`, never secrets). */
const publicFields = [
  "errors",
  "permission",
  "plugin",
  "limit",
  "max",
  "requested",
  "scope",
  "resource",
  "id",
  "retryAfterSeconds"
]

export const fromError = (error: unknown): ProblemDocument | undefined => {
  if (!isHttpProblem(error)) return undefined
  const extra: Record<string, unknown> = {}
  for (const field of publicFields) {
    const value = (error as unknown as Record<string, unknown>)[field]
    if (value !== undefined) extra[field] = value
  }
  return problem(error.status, error.code ?? snake(error._tag), error.message, extra)
}

export interface MappedFailure {
  readonly problem: ProblemDocument
  /** Set for defects and unexpected errors: what to log (never sent to the client). */
  readonly logDetail?: string
}

export const fromCause = (cause: Cause.Cause<unknown>): MappedFailure => {
  const failure = Cause.failureOption(cause)
  if (Option.isSome(failure)) {
    const mapped = fromError(failure.value)
    if (mapped) return { problem: mapped }
    return { problem: problem(500, "internal_error", "internal server error"), logDetail: Cause.pretty(cause) }
  }
  if (Cause.isInterruptedOnly(cause)) return { problem: problem(499, "client_closed_request", "request was cancelled") }
  return { problem: problem(500, "internal_error", "internal server error"), logDetail: Cause.pretty(cause) }
}

export const response = (doc: ProblemDocument, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(doc), {
    status: doc.status,
    headers: { "content-type": "application/problem+json", ...headers }
  })
