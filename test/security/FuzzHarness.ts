/**
 * What the fuzz suite needs around a running platform: real resources to
 * point path parameters at (one of each kind, owned by the admin, plus a
 * plain user and a scoped API key), a sender over the platform's real
 * socket, the checks every answer must pass (no 5xx; a 4xx is a problem
 * document naming the field), a digest of the main tables to prove a
 * rejected request changed nothing, and the error log lines of each request
 * (by request id) so a 5xx is reported with its cause.
 */
import type { TestPlatform } from "@streamspace/testing"
import { HashMap, Logger } from "effect"
import type { FuzzCase } from "./FuzzCases.ts"
import type { Operation } from "./FuzzOperations.ts"

interface LogLine {
  readonly level: string
  readonly message: string
  readonly requestId: string | undefined
}

/** Every warning-or-worse line the platform logs, with the request id it was annotated with. */
export const makeLogCapture = () => {
  const lines: Array<LogLine> = []
  const logger = Logger.make(({ annotations, logLevel, message, cause }) => {
    const requestId = HashMap.get(annotations, "requestId")
    const text = (Array.isArray(message) ? message : [message]).map(String).join(" ")
    const pretty = cause._tag === "Empty" ? "" : ` ${String(cause)}`
    lines.push({
      level: logLevel.label,
      message: (text + pretty).slice(0, 4000),
      requestId: requestId._tag === "Some" ? String(requestId.value) : undefined
    })
  })
  return { lines, layer: Logger.add(logger) }
}

export interface Fixtures {
  readonly admin: string
  readonly plain: string
  /** An API key of the admin's scoped to `templates:read`. */
  readonly scopedKey: string
  readonly ids: {
    readonly adminUser: string
    readonly plainUser: string
    /** A user the suite may modify and delete (never one it logs in as). */
    readonly targetUser: string
    readonly group: string
    readonly template: string
    readonly session: string
    readonly file: string
    readonly webhook: string
    /** A key the suite may revoke (not the one it authenticates with). */
    readonly apiKey: string
    readonly integration: string
    /** The plain user's own session, file in it, and API key (for its self-service walk). */
    readonly plainSession: string
    readonly plainFile: string
    readonly plainApiKey: string
  }
}

/** A password any strength policy accepts. */
export const strongPassword = "Fuzz-Correct-Horse-Battery-Staple-47!"

const created = async <T>(
  p: TestPlatform.TestPlatform,
  path: string,
  token: string,
  body: unknown,
  init: { raw?: Uint8Array; headers?: Record<string, string> } = {}
): Promise<T> => {
  const res = await p.http<T>("POST", path, {
    token,
    ...(init.raw === undefined ? { body } : { raw: init.raw }),
    ...(init.headers ? { headers: init.headers } : {})
  })
  if (res.status < 200 || res.status > 204) throw new Error(`fixture POST ${path}: ${res.status} ${res.text}`)
  return res.body
}

export const makeFixtures = async (p: TestPlatform.TestPlatform): Promise<Fixtures> => {
  const admin = await p.login("admin", p.adminPassword)
  const me = await p.http<{ id: string }>("GET", "/api/auth/me", { token: admin })
  const user = (username: string) =>
    created<{ id: string }>(p, "/api/users", admin, { username, password: strongPassword, roles: ["user"] })
  const plainUser = await user("fuzz-plain")
  const targetUser = await user("fuzz-target")
  const plain = await p.login("fuzz-plain", strongPassword)
  const group = await created<{ id: string }>(p, "/api/groups", admin, { name: "fuzz-group" })
  await created(p, `/api/groups/${group.id}/members`, admin, { userId: targetUser.id })
  const template = await created<{ id: string }>(p, "/api/templates", admin, {
    name: "fuzz-app",
    displayName: "Fuzz",
    image: "example/fuzz:1"
  })
  const session = await created<{ id: string }>(p, "/api/sessions", admin, { templateId: template.id })
  const file = await created<{ id: string }>(p, `/api/sessions/${session.id}/files?name=fuzz.txt`, admin, undefined, {
    raw: new TextEncoder().encode("fuzz"),
    headers: { "content-type": "text/plain" }
  })
  await created(p, `/api/sessions/${session.id}/shares`, admin, { userId: targetUser.id, access: "view" })
  const webhook = await created<{ id: string }>(p, "/api/webhooks", admin, {
    name: "fuzz-hook",
    url: "https://hooks.example.com/fuzz",
    eventTypes: ["fuzz.never-happens"],
    enabled: false
  })
  const integration = await created<{ id: string }>(p, "/api/integrations", admin, {
    provider: "slack",
    name: "fuzz-slack",
    enabled: false,
    config: { channel: "#fuzz", webhookUrl: "https://hooks.example.com/T0/B0/X" }
  })
  const scoped = await created<{ key: string }>(p, "/api/api-keys", admin, {
    name: "fuzz-scoped",
    scopes: ["templates:read"]
  })
  const victimKey = await created<{ id: string }>(p, "/api/api-keys", admin, {
    name: "fuzz-victim",
    scopes: ["sessions:read"]
  })
  const plainSession = await created<{ id: string }>(p, "/api/sessions", plain, { templateId: template.id })
  const plainFile = await created<{ id: string }>(
    p,
    `/api/sessions/${plainSession.id}/files?name=own.txt`,
    plain,
    undefined,
    { raw: new TextEncoder().encode("own"), headers: { "content-type": "text/plain" } }
  )
  const plainApiKey = await created<{ id: string }>(p, "/api/api-keys", plain, {
    name: "fuzz-plain-key",
    scopes: ["sessions:read"]
  })
  return {
    admin,
    plain,
    scopedKey: scoped.key,
    ids: {
      adminUser: me.body.id,
      plainUser: plainUser.id,
      targetUser: targetUser.id,
      group: group.id,
      template: template.id,
      session: session.id,
      file: file.id,
      webhook: webhook.id,
      apiKey: victimKey.id,
      integration: integration.id,
      plainSession: plainSession.id,
      plainFile: plainFile.id,
      plainApiKey: plainApiKey.id
    }
  }
}

const unknownId = "00000000-0000-4000-8000-000000000000"

/** Real ids for an operation's path parameters, by the resource its path names. */
export const pathParamsOf = (op: Operation, f: Fixtures): Record<string, string> => {
  const { ids } = f
  const byPrefix: ReadonlyArray<readonly [RegExp, string]> = [
    [/^\/api\/users\//, ids.targetUser],
    [/^\/api\/groups\//, ids.group],
    [/^\/api\/api-keys\//, ids.apiKey],
    [/^\/api\/templates\//, ids.template],
    [/^\/api\/sessions\//, ids.session],
    [/^\/api\/quotas\/users\//, ids.targetUser],
    [/^\/api\/quotas\/groups\//, ids.group],
    [/^\/api\/webhooks\//, ids.webhook],
    [/^\/api\/integrations\//, ids.integration],
    [/^\/api\/admin\/plugins\//, "hello"]
  ]
  const id = byPrefix.find(([re]) => re.test(op.path))?.[1] ?? unknownId
  return {
    id,
    userId: ids.targetUser,
    fileId: ids.file,
    deliveryId: unknownId,
    letterId: unknownId,
    name: "fuzz-job"
  }
}

/** Names the fixtures took, by the resource an operation's path names. */
export const takenNamesOf = (op: Operation): ReadonlyArray<string> => {
  const byPrefix: ReadonlyArray<readonly [RegExp, ReadonlyArray<string>]> = [
    [/^\/api\/users/, ["fuzz-plain", "admin"]],
    [/^\/api\/groups/, ["fuzz-group"]],
    [/^\/api\/templates/, ["fuzz-app"]],
    [/^\/api\/webhooks/, ["fuzz-hook"]],
    [/^\/api\/integrations/, ["fuzz-slack"]],
    [/^\/api\/api-keys/, ["fuzz-scoped"]]
  ]
  return byPrefix.find(([re]) => re.test(op.path))?.[1] ?? []
}

/** Well-formed bodies where a schema sample would be refused before the handler runs. */
export const bodyOf = (
  op: Operation,
  f: Fixtures,
  as: "admin" | "plain" = "admin"
): Record<string, unknown> | undefined => {
  const bodies: Record<string, Record<string, unknown>> = {
    "POST /api/auth/login": { username: "fuzz-nobody", password: "wrong-password" },
    "POST /api/auth/refresh": { refreshToken: "not-a-refresh-token" },
    "POST /api/auth/logout": {},
    "POST /api/auth/mfa/totp/verify": { code: "000000" },
    "POST /api/auth/mfa/totp/disable": { code: "000000" },
    "POST /api/users": { username: "fuzz-created", password: strongPassword },
    "PATCH /api/users/{id}": { displayName: as === "admin" ? "Fuzz Target" : "Fuzz Plain" },
    "POST /api/groups": { name: "fuzz-group-2" },
    "PATCH /api/groups/{id}": { description: "fuzzed" },
    "POST /api/groups/{id}/members": { userId: f.ids.targetUser },
    "POST /api/api-keys": { name: "fuzz-key", scopes: ["templates:read"] },
    "POST /api/templates": { name: "fuzz-app-2", displayName: "Fuzz 2", image: "example/fuzz:2" },
    "PATCH /api/templates/{id}": { description: "fuzzed" },
    "POST /api/sessions": { templateId: f.ids.template },
    "POST /api/sessions/{id}/shares": { userId: f.ids.targetUser, access: "view" },
    "PUT /api/quotas/users/{id}": { maxSessions: 5 },
    "PUT /api/quotas/groups/{id}": { maxSessions: 5 },
    "POST /api/webhooks": {
      name: "fuzz-hook-2",
      url: "https://hooks.example.com/fuzz2",
      eventTypes: ["fuzz.never-happens"],
      enabled: false
    },
    "PATCH /api/webhooks/{id}": { name: "fuzz-hook" },
    "POST /api/integrations": {
      provider: "slack",
      name: "fuzz-slack-2",
      enabled: false,
      config: { channel: "#fuzz", webhookUrl: "https://hooks.example.com/T0/B0/Y" }
    },
    "PATCH /api/integrations/{id}": { name: "fuzz-slack" },
    "POST /api/plugins/hello/echo": { name: "fuzz" }
  }
  return bodies[op.key]
}

export interface Sent {
  readonly status: number
  readonly contentType: string
  readonly text: string
  readonly requestId: string
}

let counter = 0

/** Sends one case over the platform's socket (what a client would send, byte for byte). */
export const send = async (baseUrl: string, c: FuzzCase, token: string | undefined): Promise<Sent> => {
  // The case's own request id if it brings one (an odd one, on purpose); a countable one otherwise.
  const requestId = c.headers["x-request-id"] ?? `fuzz-${++counter}`
  const headers: Record<string, string> = { "x-request-id": requestId, ...c.headers }
  if (token !== undefined) headers["authorization"] = `Bearer ${token}`
  const res = await fetch(baseUrl + c.target, {
    method: c.method,
    headers,
    redirect: "manual",
    ...(c.body === undefined ? {} : { body: c.body })
  })
  const text = await res.text()
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, requestId }
}

/** Largest problem document accepted: an echo of a 1 MB input is a finding. */
const maxProblemBytes = 16_384

/** What is wrong with an answer, or undefined when it is acceptable. */
export const violationOf = (c: FuzzCase, res: Sent): string | undefined => {
  if (res.status >= 500) return `${res.status}`
  if (res.status < 400) return c.mustReject ? `accepted (${res.status})` : undefined
  if (!res.contentType.startsWith("application/problem+json"))
    return `${res.status} not a problem document (content-type "${res.contentType}")`
  if (res.text.length > maxProblemBytes) return `${res.status} problem document of ${res.text.length} bytes`
  let doc: { status?: unknown; code?: unknown; detail?: unknown; errors?: unknown }
  try {
    doc = JSON.parse(res.text) as typeof doc
  } catch {
    return `${res.status} problem document is not JSON`
  }
  if (doc.status !== res.status) return `${res.status} problem status ${String(doc.status)}`
  if (typeof doc.code !== "string" || doc.code.length === 0) return `${res.status} problem without code`
  if (typeof doc.detail !== "string" || doc.detail.length === 0) return `${res.status} problem without detail`
  if (doc.code === "validation_failed") {
    const errors = doc.errors
    if (
      !Array.isArray(errors) ||
      errors.length === 0 ||
      !errors.every(
        (e: { path?: unknown; message?: unknown }) =>
          typeof e.path === "string" && e.path.length > 0 && typeof e.message === "string"
      )
    )
      return `${res.status} validation problem without errors[] naming a field`
    // A case that broke one named field (not the body as a whole) is refused naming that field.
    const field = /^(body|query|path)\.([^:]+):(wrong-type|missing|nul|items-nul|items-wrong-type)/.exec(c.kind)
    if (field && c.mustReject) {
      const where = `${field[1] === "path" ? "params" : field[1]}.${field[2]}`
      const named = (errors as ReadonlyArray<{ path: string }>).some(
        (e) => e.path === where || e.path.startsWith(`${where}.`)
      )
      if (!named) return `${res.status} errors[] does not name ${where}`
    }
  }
  return undefined
}

/**
 * Tables whose rows a refused request must not touch. `sessions` counts only
 * inserts and deletes: the simulated runtime moves session states in the
 * background.
 */
const watchedTables = [
  "users",
  "user_roles",
  "groups",
  "group_members",
  "api_keys",
  "templates",
  "session_shares",
  "quotas",
  "webhooks",
  "integrations",
  "files",
  "plugins",
  "recovery_codes",
  "refresh_tokens",
  "settings"
]

/**
 * Counts every row change of the main tables (per table and operation) in a
 * table of the test database, so a request's effect is one cheap read: a
 * statement rolled back with its request leaves no count behind.
 */
export const watchChanges = async (p: TestPlatform.TestPlatform) => {
  await p.query(`CREATE TABLE fuzz_changes (change text PRIMARY KEY, n bigint NOT NULL)`)
  await p.query(`CREATE FUNCTION fuzz_count_change() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
    BEGIN
      INSERT INTO fuzz_changes VALUES (TG_TABLE_NAME || ' ' || TG_OP, 1)
        ON CONFLICT (change) DO UPDATE SET n = fuzz_changes.n + 1;
      RETURN NULL;
    END $$`)
  for (const table of watchedTables)
    await p.query(
      `CREATE TRIGGER fuzz_watch AFTER INSERT OR UPDATE OR DELETE ON ${table} FOR EACH ROW EXECUTE FUNCTION fuzz_count_change()`
    )
  await p.query(
    `CREATE TRIGGER fuzz_watch AFTER INSERT OR DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION fuzz_count_change()`
  )
}

/** Row changes counted so far, by `table OPERATION`. */
export const changesOf = async (p: TestPlatform.TestPlatform): Promise<Record<string, string>> => {
  const rows = await p.query<{ change: string; n: string }>(`SELECT change, n::text AS n FROM fuzz_changes`)
  return Object.fromEntries(rows.map((r) => [r.change, r.n]))
}

/** Row counts of the main tables. */
export const countsOf = async (p: TestPlatform.TestPlatform): Promise<Record<string, string>> => {
  const rows = await p.query<Record<string, string>>(
    `SELECT ${[...watchedTables, "sessions"].map((t) => `(SELECT count(*)::text FROM ${t}) AS "${t}"`).join(", ")}`
  )
  return rows[0] ?? {}
}

export const changedBetween = (before: Record<string, string>, after: Record<string, string>) =>
  Object.keys(after).filter((k) => before[k] !== after[k])

/** The input a case kind names, without field or actor: `plain:body.username:nul-inside` → `body:nul`. */
const inputOf = (kind: string) => {
  const parts = kind.split(":")
  if (["anonymous", "plain", "plain-own", "api-key"].includes(parts[0]!)) parts.shift()
  const where = (parts.shift() ?? "").split(".")[0]
  return `${where}:${parts.join(":").replace(/^nul-inside$/, "nul")}`
}

/** A log line without what varies between requests (ids, numbers, file positions). */
const signatureOf = (message: string) =>
  message
    .replace(/^request failed\s*/, "")
    .split("\n")[0]!
    .replace(/\s+at\s.*$/, "")
    .replace(/"[^"]{24,}"/g, '"…"')
    .replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "<id>")
    .slice(0, 200)

interface Finding {
  count: number
  example: string
  requestId: string
}

/** Findings by operation, case kind and outcome, with one example request each, and grouped by likely cause. */
export class Findings {
  private readonly classes = new Map<string, Finding & { op: string; kind: string; outcome: string }>()

  add(op: string, kind: string, outcome: string, example: string, requestId: string) {
    const key = `${op} | ${kind} | ${outcome}`
    const found = this.classes.get(key)
    if (found) found.count++
    else this.classes.set(key, { count: 1, example, requestId, op, kind, outcome })
  }

  get size() {
    return this.classes.size
  }

  entries() {
    return [...this.classes.entries()]
  }

  /**
   * One line per cause: the error the server logged (or the outcome, for
   * answers without a log line) and the kind of input, with the operations
   * it hit. A cause is what a fix addresses; the per-operation classes follow.
   */
  report(title: string, logs: ReadonlyArray<LogLine>, detailLimit = 25): string {
    if (this.classes.size === 0) return `${title}: none`
    const logOf = new Map<string, string>()
    for (const l of logs) if (l.requestId !== undefined && !logOf.has(l.requestId)) logOf.set(l.requestId, l.message)
    const causes = new Map<string, { ops: Set<string>; count: number; example: string }>()
    for (const f of this.classes.values()) {
      const log = logOf.get(f.requestId)
      const outcome = f.outcome.replace(/\d{5,}/g, "N").replace(/\(\d{3}\)/, "")
      const cause = `${log === undefined ? outcome : signatureOf(log)} ← ${inputOf(f.kind)}`
      const entry = causes.get(cause) ?? { ops: new Set<string>(), count: 0, example: f.example }
      entry.ops.add(f.op)
      entry.count += f.count
      causes.set(cause, entry)
    }
    const lines = [`${title}: ${this.classes.size} classes, ${causes.size} causes`]
    for (const [cause, { ops, count }] of [...causes].sort((a, b) => b[1].count - a[1].count)) {
      const list = [...ops]
      lines.push(
        `  ${cause} ×${count} in ${list.length} ops: ${list.slice(0, 5).join(", ")}${list.length > 5 ? ", …" : ""}`
      )
    }
    const detailed = [...this.classes.values()].slice(0, detailLimit)
    lines.push(`  first ${detailed.length} of ${this.classes.size} classes:`)
    for (const f of detailed) {
      lines.push(`    ${f.op} | ${f.kind} | ${f.outcome} ×${f.count}`)
      lines.push(`      answer: ${f.example.slice(0, 240)}`)
      const log = logOf.get(f.requestId)
      if (log) lines.push(`      log: ${log.replace(/\s+/g, " ").slice(0, 400)}`)
    }
    return lines.join("\n")
  }
}
