/** The server's RFC 9457 problem documents, as the console shows them. */
export interface Problem {
  readonly status: number
  readonly title: string
  readonly detail: string
  readonly code: string
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

export class ApiError extends Error {
  override readonly name = "ApiError"
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title)
  }
}

export const isProblem = (value: unknown): value is Problem =>
  typeof value === "object" && value !== null && "status" in value && "detail" in value

/** A problem from a failed response body (a JSON problem document, or a generic one for anything else). */
export const problemOf = (status: number, body: unknown): Problem =>
  isProblem(body)
    ? body
    : { status, title: `HTTP ${status}`, detail: `the server answered ${status}`, code: "http_error" }

/**
 * Field errors keyed by path (`body.name` → `name`), for forms: the server
 * names the field in `errors[].path`.
 */
export const fieldErrors = (problem: Problem | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const e of problem?.errors ?? []) out[e.path.replace(/^(body|query|params)\./, "")] ??= e.message
  return out
}
