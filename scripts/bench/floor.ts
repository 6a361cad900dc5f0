/**
 * The FLOOR that `bun run bench api` measures our server against: the three
 * benchmarked routes hand-written on `Bun.serve` and one PostgreSQL pool,
 * doing the same observable work as the real server (adapted from
 * ../shared/bench/floor.ts; run it on a database migrated with our schema):
 *
 *   every route  HS256 JWT verify + the user's current principal (exists, not
 *                disabled, permissions from roles) read from the database
 *   POST   /api/sessions      sessions:write; template exists+enabled, cpu/memory
 *                             within its max; quota check (user + groups; the
 *                             usage query only runs when a quota row exists, as
 *                             in Quotas.check); INSERT session + outbox event
 *                             (session.created) + audit row in ONE transaction;
 *                             201 with the Session JSON
 *   GET    /api/sessions      sessions:read (sessions:admin sees all); same list
 *                             query (own + shared, newest first, limit+1 for
 *                             the cursor); 200 {items,nextCursor}
 *   DELETE /api/sessions/:id  sessions:write; owner or sessions:admin (share →
 *                             403, other → 404); conditional desired=terminated
 *                             + audit row in ONE transaction; 409 when already
 *                             ending; 202 with the Session JSON
 *
 *   background   after commit, like the orchestrator with the simulated runtime:
 *                created → 'running' + session.started event after
 *                SIMULATED_DELAY_MS (500); deleted → 'terminated' +
 *                session.deleted event at once; each one conditional
 *                statement (replica-safe: only one applier wins)
 *
 * Not done: webhook fan-out transactions when no webhook exists, pg_notify
 * wake-ups, Effect fibers, Schema decode/encode.
 *
 * Deviations from ../shared/bench/floor.ts, none on the benchmarked requests:
 * a JSON body that is not an object answers 400 (the original threw on
 * `null` and answered 500), a malformed cursor answers 400 (was 500), and the
 * process exits when `STREAMSPACE_PARENT_PID` is set and that parent is gone
 * (as our server does, so a killed bench leaves no server behind).
 *
 * Env: DATABASE_URL, PORT, JWT_SECRET, FLOOR_DRIVER=pg|bun (default pg),
 * FLOOR_POOL (10), SIMULATED_DELAY_MS (500).
 */
import { createHmac, timingSafeEqual } from "node:crypto"
import Pg from "pg"

const url = process.env["DATABASE_URL"] ?? "postgres://postgres@127.0.0.1:5432/perf_floor"
const port = Number(process.env["PORT"] ?? 0)
const secret = process.env["JWT_SECRET"] ?? ""
const driver = process.env["FLOOR_DRIVER"] ?? "pg"
const poolSize = Number(process.env["FLOOR_POOL"] ?? 10)
const delayMs = Number(process.env["SIMULATED_DELAY_MS"] ?? 500)
if (!secret) throw new Error("JWT_SECRET is required")

// ---------------------------------------------------------------- rows
type Access = "owner" | "admin" | "view" | "control"

type PrincipalRow = {
  readonly username: string | null
  readonly disabled: boolean
  readonly permissions: ReadonlyArray<string> | null
}

type CreateContextRow = PrincipalRow & {
  readonly t_id: string | null
  readonly t_name: string | null
  readonly t_enabled: boolean | null
  readonly default_cpu: number
  readonly default_memory: number
  readonly max_cpu: number
  readonly max_memory: number
  readonly vnc_port: number
  readonly has_quota: boolean
}

type QuotaRow = {
  readonly max_sessions: number | null
  readonly max_cpu: number | null
  readonly max_memory: number | null
}

type UsageRow = { readonly sessions: number; readonly cpu: number; readonly memory: number }

type DeleteContextRow = PrincipalRow & {
  readonly owner: string | null
  readonly state: string | null
  readonly desired: string | null
  readonly share_access: Access | null
}

type SessionRow = {
  readonly id: string
  readonly user_id: string
  readonly template_id: string
  readonly template_name: string
  readonly state: string
  readonly desired: string
  readonly reason: string | null
  readonly runtime: string
  readonly cpu: number
  readonly memory: number
  readonly persistent_home: boolean
  readonly last_activity_at: Date | string
  readonly created_at: Date | string
  readonly updated_at: Date | string
}

type ListRow = SessionRow & { readonly share_access: Access | null }

// ---------------------------------------------------------------- database
type Query = <R>(name: string, text: string, params: ReadonlyArray<unknown>) => Promise<Array<R>>

interface Db {
  readonly q: Query
  readonly tx: <A>(fn: (q: Query) => Promise<A>) => Promise<A>
}

const pgDb = (): Db => {
  const pool = new Pg.Pool({ connectionString: url, max: poolSize, application_name: "floor" })
  pool.on("error", () => undefined)
  const run =
    (c: Pg.Pool | Pg.PoolClient): Query =>
    async <R>(name: string, text: string, values: ReadonlyArray<unknown>) =>
      (await c.query({ name, text, values: [...values] })).rows as Array<R>
  return {
    q: run(pool),
    tx: async (fn) => {
      const c = await pool.connect()
      try {
        await c.query("BEGIN")
        const out = await fn(run(c))
        await c.query("COMMIT")
        return out
      } catch (e) {
        await c.query("ROLLBACK").catch(() => undefined)
        throw e
      } finally {
        c.release()
      }
    }
  }
}

const bunDb = (): Db => {
  const sql = new Bun.SQL({ url, max: poolSize })
  const run =
    (c: Bun.SQL | Bun.TransactionSQL): Query =>
    async <R>(_name: string, text: string, params: ReadonlyArray<unknown>) => [
      ...((await c.unsafe(text, [...params])) as Iterable<R>)
    ]
  return {
    q: run(sql),
    tx: <A>(fn: (q: Query) => Promise<A>) => sql.begin((tx) => fn(run(tx))) as Promise<A>
  }
}

const db = driver === "bun" ? bunDb() : pgDb()

// ---------------------------------------------------------------- auth
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url")
const jwtHeader = b64({ alg: "HS256", typ: "JWT" })

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string
  ) {
    super(message)
  }
}

const verify = (req: Request): string => {
  const h = req.headers.get("authorization")
  if (!h || !h.startsWith("Bearer ")) throw new HttpError(401, "unauthorized", "authentication required")
  const token = h.slice(7).trim()
  const parts = token.split(".")
  if (parts.length !== 3 || parts[0] !== jwtHeader) throw new HttpError(401, "unauthorized", "invalid access token")
  const expected = Buffer.from(createHmac("sha256", secret).update(`${parts[0]}.${parts[1]}`).digest("base64url"))
  const got = Buffer.from(parts[2]!)
  if (expected.length !== got.length || !timingSafeEqual(expected, got))
    throw new HttpError(401, "unauthorized", "invalid access token")
  const claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")) as { sub?: unknown; exp?: unknown }
  if (typeof claims.sub !== "string" || typeof claims.exp !== "number")
    throw new HttpError(401, "unauthorized", "invalid access token")
  if (claims.exp <= Math.floor(Date.now() / 1000)) throw new HttpError(401, "unauthorized", "access token expired")
  return claims.sub
}

const PERMS = `(SELECT array_agg(DISTINCT rp.permission) FROM user_roles ur JOIN role_permissions rp ON rp.role = ur.role WHERE ur.user_id = u.id)`

const has = (perms: ReadonlyArray<string> | null, p: string) => {
  if (!perms) return false
  if (perms.includes("*") || perms.includes(p)) return true
  return perms.includes(`${p.split(":")[0]}:*`)
}

/** The principal row when it exists, is enabled and holds `permission`. */
const principalOk = <R extends PrincipalRow>(row: R | undefined, permission: string): R & { username: string } => {
  if (!row || row.username === null || row.disabled)
    throw new HttpError(401, "unauthorized", "account disabled or deleted")
  if (!has(row.permissions, permission)) throw new HttpError(403, "forbidden", `missing permission ${permission}`)
  return row as R & { username: string }
}

// ---------------------------------------------------------------- helpers
const problem = (status: number, code: string, detail: string, requestId: string) =>
  new Response(JSON.stringify({ type: `/problems/${code}`, title: String(status), status, detail, code, requestId }), {
    status,
    headers: { "content-type": "application/problem+json", "x-request-id": requestId }
  })

const json = (status: number, body: unknown, requestId: string) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "x-request-id": requestId }
  })

const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString())

const sessionJson = (r: SessionRow, access: Access) => ({
  id: r.id,
  userId: r.user_id,
  templateId: r.template_id,
  templateName: r.template_name,
  state: r.state,
  desired: r.desired,
  reason: r.reason ?? null,
  runtime: r.runtime,
  cpu: r.cpu,
  memory: r.memory,
  persistentHome: r.persistent_home,
  lastActivityAt: iso(r.last_activity_at),
  createdAt: iso(r.created_at),
  updatedAt: iso(r.updated_at),
  access
})

interface RequestInfo {
  readonly requestId: string
  readonly ip: string
  readonly ua: string
}

const infoOf = (req: Request, server: Bun.Server<undefined>): RequestInfo => ({
  requestId: crypto.randomUUID(),
  ip: server.requestIP(req)?.address ?? "",
  ua: req.headers.get("user-agent") ?? ""
})

const auditFailure = (
  userId: string | null,
  actor: string,
  action: string,
  target: string | null,
  info: RequestInfo,
  e: HttpError
) =>
  db
    .q(
      "floor_audit_fail",
      `INSERT INTO audit_log (actor_id, actor, action, target, ip, user_agent, result, detail, request_id)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [
        userId,
        actor,
        action,
        target,
        info.ip,
        info.ua,
        e.status === 401 || e.status === 403 ? "denied" : "failure",
        `${e.status} ${e.message}`,
        info.requestId
      ]
    )
    .catch(() => undefined)

/** The answer to a failed request: a problem document, the failure audited where the original audits it. */
const failed = (e: unknown, info: RequestInfo, audit?: (e: HttpError) => Promise<unknown>) => {
  if (e instanceof HttpError) {
    if (audit) void audit(e)
    return problem(e.status, e.code, e.message, info.requestId)
  }
  console.error(e)
  return problem(500, "internal_error", "internal server error", info.requestId)
}

// ---------------------------------------------------------------- background (orchestrator stand-in)
const timers = new Map<string, ReturnType<typeof setTimeout>>()
const startLater = (id: string, vncPort: number) => {
  timers.set(
    id,
    setTimeout(() => {
      timers.delete(id)
      db.q(
        "floor_started",
        `WITH s AS (
        UPDATE sessions SET state = 'running', endpoint = $2, submitted = false, attempts = 0, next_attempt_at = NULL, lease_until = NULL, updated_at = now(), reason = NULL
        WHERE id = $1 AND state = 'pending' AND desired = 'running' RETURNING id, user_id, template_id)
      INSERT INTO events (id, type, source, payload, actor_id)
      SELECT gen_random_uuid(), 'session.started', 'core', jsonb_build_object('sessionId', id, 'userId', user_id, 'templateId', template_id, 'state', 'running'), NULL FROM s`,
        [id, `127.0.0.1:${vncPort}`]
      ).catch((e) => console.error("start failed", e))
    }, delayMs)
  )
}
const terminate = (id: string) => {
  const t = timers.get(id)
  if (t) {
    clearTimeout(t)
    timers.delete(id)
  }
  db.q(
    "floor_terminated",
    `WITH s AS (
      UPDATE sessions SET state = 'terminated', endpoint = NULL, submitted = false, attempts = 0, next_attempt_at = NULL, lease_until = NULL, updated_at = now(), reason = NULL
      WHERE id = $1 AND state IN ('pending', 'running', 'hibernated') AND desired = 'terminated' RETURNING id, user_id, template_id)
    INSERT INTO events (id, type, source, payload, actor_id)
    SELECT gen_random_uuid(), 'session.deleted', 'core', jsonb_build_object('sessionId', id, 'userId', user_id, 'templateId', template_id, 'state', 'terminated'), NULL FROM s`,
    [id]
  ).catch((e) => console.error("terminate failed", e))
}

// ---------------------------------------------------------------- routes
const LIST = `SELECT s.*, t.name AS template_name,
    (SELECT access FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = $1) AS share_access
  FROM sessions s JOIN templates t ON t.id = s.template_id`

const decodeCursor = (raw: string): readonly [number, string] => {
  try {
    const c: unknown = JSON.parse(Buffer.from(raw, "base64url").toString("utf8"))
    if (Array.isArray(c) && typeof c[0] === "number" && typeof c[1] === "string") return [c[0], c[1]]
  } catch {}
  throw new HttpError(400, "validation", "query.cursor: invalid cursor")
}

const list = async (req: Request, server: Bun.Server<undefined>) => {
  const info = infoOf(req, server)
  try {
    const userId = verify(req)
    const u = new URL(req.url)
    const limitRaw = u.searchParams.get("limit")
    const limit = limitRaw === null ? 50 : Number(limitRaw)
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new HttpError(400, "validation", "query.limit: must be an integer between 1 and 500")
    const state = u.searchParams.get("state")
    const cursorRaw = u.searchParams.get("cursor")
    const p = principalOk(
      (
        await db.q<PrincipalRow>(
          "floor_principal",
          `SELECT u.username, u.disabled, ${PERMS} AS permissions FROM users u WHERE u.id = $1`,
          [userId]
        )
      )[0],
      "sessions:read"
    )
    const all = has(p.permissions, "sessions:admin")
    const params: Array<unknown> = [userId]
    const cond: Array<string> = []
    if (!all)
      cond.push(
        `(s.user_id = $1 OR EXISTS (SELECT 1 FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = $1))`
      )
    if (state) {
      params.push(state)
      cond.push(`s.state = $${params.length}`)
    }
    if (cursorRaw) {
      const c = decodeCursor(cursorRaw)
      params.push(new Date(c[0]), c[1])
      cond.push(`(s.created_at, s.id) < ($${params.length - 1}, $${params.length})`)
    }
    params.push(limit + 1)
    const text = `${LIST} ${cond.length ? `WHERE ${cond.join(" AND ")}` : ""} ORDER BY s.created_at DESC, s.id DESC LIMIT $${params.length}`
    const rows = await db.q<ListRow>(
      `floor_list_${all ? "a" : "u"}${state ? "s" : ""}${cursorRaw ? "c" : ""}`,
      text,
      params
    )
    const items = rows.slice(0, limit)
    const last = items[items.length - 1]
    const nextCursor =
      rows.length > limit && last
        ? Buffer.from(JSON.stringify([new Date(last.created_at).getTime(), last.id])).toString("base64url")
        : null
    return json(
      200,
      {
        items: items.map((r) =>
          sessionJson(r, r.user_id === userId ? "owner" : all ? "admin" : (r.share_access ?? "view"))
        ),
        nextCursor
      },
      info.requestId
    )
  } catch (e) {
    return failed(e, info)
  }
}

const CREATE_FIELDS = ["templateId", "cpu", "memory", "persistentHome"]

const positiveInt = (v: unknown, field: string) => {
  if (v === undefined) return undefined
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
    throw new HttpError(400, "validation", `body.${field}: must be a positive integer`)
  return v
}

const create = async (req: Request, server: Bun.Server<undefined>) => {
  const info = infoOf(req, server)
  let userId: string | null = null
  let username = "anonymous"
  try {
    userId = verify(req)
    let parsed: unknown
    try {
      parsed = await req.json()
    } catch {
      throw new HttpError(400, "validation", "body: invalid JSON")
    }
    if (typeof parsed !== "object" || parsed === null) throw new HttpError(400, "validation", "body: must be an object")
    const body = parsed as { templateId?: unknown; cpu?: unknown; memory?: unknown; persistentHome?: unknown }
    if (typeof body.templateId !== "string") throw new HttpError(400, "validation", "body.templateId: is missing")
    for (const k of Object.keys(body))
      if (!CREATE_FIELDS.includes(k)) throw new HttpError(400, "validation", `body.${k}: is unexpected`)
    const cpuIn = positiveInt(body.cpu, "cpu")
    const memIn = positiveInt(body.memory, "memory")
    if (body.persistentHome !== undefined && typeof body.persistentHome !== "boolean")
      throw new HttpError(400, "validation", "body.persistentHome: must be a boolean")
    const persistentHome = body.persistentHome ?? true
    const templateId = body.templateId
    const uid = userId
    const out = await db.tx(async (q) => {
      const r = principalOk(
        (
          await q<CreateContextRow>(
            "floor_create_ctx",
            `SELECT u.username, u.disabled, ${PERMS} AS permissions,
          t.id AS t_id, t.name AS t_name, t.enabled AS t_enabled, t.default_cpu, t.default_memory, t.max_cpu, t.max_memory, t.vnc_port,
          EXISTS (SELECT 1 FROM quotas WHERE (scope = 'user' AND scope_id = $1)
            OR (scope = 'group' AND scope_id IN (SELECT group_id FROM group_members WHERE user_id = $1))) AS has_quota
        FROM users u LEFT JOIN templates t ON t.id = $2 WHERE u.id = $1`,
            [uid, templateId]
          )
        )[0],
        "sessions:write"
      )
      username = r.username
      if (!r.t_id || !r.t_enabled) throw new HttpError(404, "not_found", `template ${templateId} not found`)
      const cpu = cpuIn ?? r.default_cpu
      const memory = memIn ?? r.default_memory
      if (cpu > r.max_cpu) throw new HttpError(400, "validation", `body.cpu: at most ${r.max_cpu} millicores`)
      if (memory > r.max_memory) throw new HttpError(400, "validation", `body.memory: at most ${r.max_memory} MiB`)
      if (r.has_quota) {
        const quotas = await q<QuotaRow>(
          "floor_quotas",
          `SELECT * FROM quotas WHERE (scope = 'user' AND scope_id = $1)
            OR (scope = 'group' AND scope_id IN (SELECT group_id FROM group_members WHERE user_id = $1))`,
          [uid]
        )
        const used = (
          await q<UsageRow>(
            "floor_usage",
            `SELECT count(*)::int AS sessions,
            COALESCE(sum(cpu) FILTER (WHERE state <> 'hibernated' OR desired = 'running'), 0)::int AS cpu,
            COALESCE(sum(memory) FILTER (WHERE state <> 'hibernated' OR desired = 'running'), 0)::int AS memory
          FROM sessions WHERE user_id = $1 AND state NOT IN ('terminated', 'failed') AND desired <> 'terminated'`,
            [uid]
          )
        )[0]!
        for (const qr of quotas) {
          if (qr.max_sessions !== null && used.sessions + 1 > qr.max_sessions)
            throw new HttpError(403, "quota_exceeded", "sessions quota exceeded")
          if (qr.max_cpu !== null && used.cpu + cpu > qr.max_cpu)
            throw new HttpError(403, "quota_exceeded", "cpu quota exceeded")
          if (qr.max_memory !== null && used.memory + memory > qr.max_memory)
            throw new HttpError(403, "quota_exceeded", "memory quota exceeded")
        }
      }
      const id = crypto.randomUUID()
      const at = new Date()
      const payload = JSON.stringify({ sessionId: id, userId: uid, templateId, state: "pending" })
      await q(
        "floor_create_write",
        `WITH s AS (
          INSERT INTO sessions (id, user_id, template_id, state, desired, runtime, cpu, memory, persistent_home, last_activity_at, created_at, updated_at)
          VALUES ($1, $2, $3, 'pending', 'running', 'simulated', $4, $5, $6, $7, $7, $7) RETURNING id),
        e AS (INSERT INTO events (id, type, source, payload, actor_id) VALUES ($8, 'session.created', 'core', $9, $2))
        INSERT INTO audit_log (actor_id, actor, action, target, ip, user_agent, result, request_id)
        SELECT $2, $10, 'session.create', s.id, $11, $12, 'success', $13 FROM s`,
        [
          id,
          uid,
          templateId,
          cpu,
          memory,
          persistentHome,
          at,
          crypto.randomUUID(),
          payload,
          username,
          info.ip,
          info.ua,
          info.requestId
        ]
      )
      return { id, at, cpu, memory, templateName: r.t_name, vncPort: r.vnc_port }
    })
    startLater(out.id, out.vncPort)
    const at = out.at.toISOString()
    return json(
      201,
      {
        id: out.id,
        userId,
        templateId,
        templateName: out.templateName,
        state: "pending",
        desired: "running",
        reason: null,
        runtime: "simulated",
        cpu: out.cpu,
        memory: out.memory,
        persistentHome,
        lastActivityAt: at,
        createdAt: at,
        updatedAt: at,
        access: "owner"
      },
      info.requestId
    )
  } catch (e) {
    return failed(e, info, (err) => auditFailure(userId, username, "session.create", null, info, err))
  }
}

const remove = async (req: Bun.BunRequest<"/api/sessions/:id">, server: Bun.Server<undefined>) => {
  const info = infoOf(req, server)
  const id = decodeURIComponent(req.params.id)
  let userId: string | null = null
  let username = "anonymous"
  try {
    userId = verify(req)
    const uid = userId
    const row = await db.tx(async (q) => {
      const r = principalOk(
        (
          await q<DeleteContextRow>(
            "floor_delete_ctx",
            `SELECT u.username, u.disabled, ${PERMS} AS permissions, s.user_id AS owner, s.state, s.desired,
          (SELECT access FROM session_shares sh WHERE sh.session_id = s.id AND sh.user_id = $1) AS share_access
        FROM users u LEFT JOIN sessions s ON s.id = $2 WHERE u.id = $1`,
            [uid, id]
          )
        )[0],
        "sessions:write"
      )
      username = r.username
      const access: Access | undefined =
        r.owner === null
          ? undefined
          : r.owner === uid
            ? "owner"
            : has(r.permissions, "sessions:admin")
              ? "admin"
              : (r.share_access ?? undefined)
      if (access === undefined) throw new HttpError(404, "not_found", `session ${id} not found`)
      if (access !== "owner" && access !== "admin")
        throw new HttpError(403, "forbidden", `a ${access} share cannot manage this session`)
      const rows = await q<SessionRow>(
        "floor_delete_write",
        `WITH s AS (
          UPDATE sessions SET desired = 'terminated', submitted = false, attempts = 0, next_attempt_at = NULL, updated_at = $2
          WHERE id = $1 AND state IN ('pending', 'running', 'hibernated') AND desired <> 'terminated' RETURNING *),
        a AS (INSERT INTO audit_log (actor_id, actor, action, target, ip, user_agent, result, request_id)
          SELECT $3, $4, 'session.delete', s.id, $5, $6, 'success', $7 FROM s)
        SELECT s.*, t.name AS template_name FROM s JOIN templates t ON t.id = s.template_id`,
        [id, new Date(), uid, username, info.ip, info.ua, info.requestId]
      )
      const updated = rows[0]
      if (updated === undefined) throw new HttpError(409, "invalid_state", `session is ${r.state}`)
      return { updated, access }
    })
    terminate(id)
    return json(202, sessionJson(row.updated, row.access), info.requestId)
  } catch (e) {
    return failed(e, info, (err) => auditFailure(userId, username, "session.delete", id, info, err))
  }
}

const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  routes: {
    "/healthz": () => new Response("ok"),
    "/api/sessions": { GET: list, POST: create },
    "/api/sessions/:id": { DELETE: remove }
  },
  fetch: () => new Response("not found", { status: 404 })
})
console.log(`FLOOR listening on http://127.0.0.1:${server.port} (driver ${driver}, pool ${poolSize})`)
const stop = async () => {
  await server.stop()
  process.exit(0)
}
process.once("SIGINT", stop)
process.once("SIGTERM", stop)
const parentPid = Number(process.env["STREAMSPACE_PARENT_PID"] ?? 0)
if (parentPid > 0)
  setInterval(() => {
    if (process.ppid !== parentPid) void stop()
  }, 500).unref()
