/**
 * The hot queries' plans with history: 100k sessions (most of them ended),
 * audit rows, events and webhook deliveries, analysed, then each query
 * planned with EXPLAIN (FORMAT JSON). No plan may read a table that grows
 * with history (sessions, audit_log, events, webhook_deliveries) with a
 * sequential scan: a page of the session list, a session by id, the
 * orchestrator's claim and the outbox read stay index scans however long the
 * platform has run. The session queries are the repository's own statements
 * (`SessionRepo.readStatements`); the others mirror their services' SQL.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import type { Statement } from "@effect/sql/Statement"
import { SessionRepo } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"

const ROWS = 100_000
const USERS = 1_000
const growing = new Set(["sessions", "audit_log", "events", "webhook_deliveries"])

interface PlanNode {
  readonly "Node Type": string
  readonly "Relation Name"?: string
  readonly "Index Name"?: string
  readonly Plans?: ReadonlyArray<PlanNode>
}

let p: TestPlatform.TestPlatform

beforeAll(async () => {
  p = await TestPlatform.make()
  const seed = [
    `INSERT INTO users (id, username, password_hash, created_at, updated_at)
       SELECT 'u' || i, 'user' || i, 'x', now(), now() FROM generate_series(1, ${USERS}) i`,
    `INSERT INTO templates (id, name, display_name, image, default_cpu, default_memory, max_cpu, max_memory, created_at, updated_at)
       VALUES ('t1', 'seeded', 'Seeded', 'example/seeded:1', 500, 1024, 2000, 4096, now(), now())`,
    // One session in fifty is live; the rest is history.
    `INSERT INTO sessions (id, user_id, template_id, state, desired, runtime, cpu, memory, persistent_home,
         submitted, last_activity_at, created_at, updated_at)
       SELECT 's' || i, 'u' || (i % ${USERS} + 1), 't1',
         CASE WHEN i % 50 = 0 THEN 'running' ELSE 'terminated' END,
         CASE WHEN i % 50 = 0 THEN 'running' ELSE 'terminated' END,
         'simulated', 500, 1024, true, i % 50 = 0,
         now() - make_interval(secs => ${ROWS} - i), now() - make_interval(secs => ${ROWS} - i), now() - make_interval(secs => ${ROWS} - i)
       FROM generate_series(1, ${ROWS}) i`,
    `INSERT INTO session_shares (session_id, user_id, access, created_at)
       SELECT 's' || i, 'u' || ((i + 7) % ${USERS} + 1), 'view', now() FROM generate_series(1, ${ROWS}, 10) i`,
    `INSERT INTO audit_log (actor_id, actor, action, target, result, at)
       SELECT 'u' || (i % ${USERS} + 1), 'user', 'session.create', 's' || i, 'success', now() - make_interval(secs => ${ROWS} - i)
       FROM generate_series(1, ${ROWS}) i`,
    `INSERT INTO events (id, type, source, payload, actor_id)
       SELECT gen_random_uuid(), 'session.created', 'core', jsonb_build_object('sessionId', 's' || i), NULL
       FROM generate_series(1, ${ROWS}) i`,
    `INSERT INTO webhooks (id, name, url, event_types, secret_encrypted, created_at, updated_at)
       VALUES ('w1', 'seeded', 'http://127.0.0.1:1/', '{*}', 'x', now(), now())`,
    `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, status, next_attempt_at, created_at, updated_at)
       SELECT 'd' || i, 'w1', gen_random_uuid(), 'session.created', '{}',
         CASE WHEN i % 100 = 0 THEN 'pending' ELSE 'delivered' END, now(), now(), now()
       FROM generate_series(1, ${ROWS}) i`,
    "ANALYZE"
  ]
  for (const statement of seed) await p.query(statement)
}, 120_000)
afterAll(() => p.close())

const nodesOf = (node: PlanNode): ReadonlyArray<PlanNode> => [node, ...(node.Plans ?? []).flatMap(nodesOf)]

/** The plan of `statement`, as its nodes. */
const plan = (statement: (sql: SqlClient.SqlClient) => Statement<unknown>) =>
  p.run(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const [text, params] = statement(sql).compile()
      const rows = yield* sql.unsafe<{ "QUERY PLAN": unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, params)
      const raw = rows[0]!["QUERY PLAN"]
      const json = (typeof raw === "string" ? JSON.parse(raw) : raw) as ReadonlyArray<{ Plan: PlanNode }>
      return nodesOf(json[0]!.Plan)
    })
  )

const shape = (nodes: ReadonlyArray<PlanNode>) =>
  nodes.map((n) => [n["Node Type"], n["Relation Name"], n["Index Name"]].filter(Boolean).join(" ")).join(" | ")

/** Sequential scans of tables that grow with history. */
const seqScans = (nodes: ReadonlyArray<PlanNode>) =>
  nodes
    .filter((n) => n["Node Type"] === "Seq Scan" && growing.has(n["Relation Name"] ?? ""))
    .map((n) => n["Relation Name"])

const queries: ReadonlyArray<readonly [string, (sql: SqlClient.SqlClient) => Statement<unknown>]> = [
  [
    "session list (own and shared)",
    (sql) => SessionRepo.readStatements(sql).list({ viewer: "u42", all: false, limit: 50 })
  ],
  [
    "session list by state",
    (sql) => SessionRepo.readStatements(sql).list({ viewer: "u42", all: false, state: "running", limit: 50 })
  ],
  [
    "session list (sessions:admin)",
    (sql) => SessionRepo.readStatements(sql).list({ viewer: "u42", all: true, limit: 50 })
  ],
  ["session by id", (sql) => SessionRepo.readStatements(sql).find("s4242", "u42")],
  ["orchestrator claim", (sql) => SessionRepo.readStatements(sql).claim(new Date(), new Date(Date.now() + 60_000), 20)],
  [
    "outbox read after a cursor",
    (sql) => sql`SELECT tx_id::text AS tx_id, position, id, type, source, payload, actor_id, occurred_at FROM events
      WHERE (tx_id, position) > (${"0"}::xid8, ${99_000}::bigint) AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY events.tx_id, events.position LIMIT 200`
  ],
  ["audit page", (sql) => sql`SELECT * FROM audit_log ORDER BY id DESC LIMIT ${51}`],
  ["audit by actor", (sql) => sql`SELECT * FROM audit_log WHERE actor_id = ${"u42"} ORDER BY id DESC LIMIT ${51}`],
  [
    "due webhook deliveries",
    (
      sql
    ) => sql`SELECT id FROM webhook_deliveries WHERE status IN ('pending', 'failed') AND next_attempt_at <= ${new Date()}
      ORDER BY next_attempt_at LIMIT 50`
  ]
]

describe(`hot queries at ${ROWS} rows (${TestPlatform.engine()})`, () => {
  for (const [name, statement] of queries) {
    test(`${name}: no sequential scan of a table that grows`, async () => {
      const nodes = await plan(statement)
      console.log(`${name}: ${shape(nodes)}`)
      expect({ name, seqScans: seqScans(nodes) }).toEqual({ name, seqScans: [] })
    })
  }

  test("the session list is two index scans in page order joined by UNION ALL, not a scan of every session", async () => {
    const nodes = await plan((sql) => SessionRepo.readStatements(sql).list({ viewer: "u42", all: false, limit: 50 }))
    expect(nodes.some((n) => n["Node Type"] === "Append" || n["Node Type"] === "Merge Append")).toBe(true)
    expect(nodes.filter((n) => n["Index Name"] === "sessions_user_idx").length).toBe(1)
    expect(nodes.some((n) => n["Index Name"] === "session_shares_user_idx")).toBe(true)
  })
})
