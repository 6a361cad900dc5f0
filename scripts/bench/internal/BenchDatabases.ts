/**
 * Throw-away databases on one PostgreSQL server for the api bench, the
 * transaction counter of pg_stat_database, and the session history seeded
 * straight into a server's database for the list-scaling phase.
 */
import { SQL } from "bun"

export interface BenchDatabases {
  /** The URL of a new empty database on the server, its name prefixed with `label`. */
  readonly create: (label: string) => Promise<string>
  /** xact_commit + xact_rollback of a database, as the statistics collector last saw it. */
  readonly transactions: (url: string) => Promise<number>
  /** A client on one of the databases made here (for seeding). */
  readonly client: (url: string) => SQL
  readonly dropAll: () => Promise<void>
}

const nameOf = (url: string) => new URL(url).pathname.slice(1)

/** Undefined when the server cannot be reached (the reason is printed). */
export const connect = async (serverUrl: string): Promise<BenchDatabases | undefined> => {
  const admin = new SQL(serverUrl)
  try {
    await admin.unsafe("SELECT 1")
  } catch (e) {
    console.log(
      `postgres: skipped, cannot reach ${serverUrl.replace(/\/\/[^@]*@/, "//")} (${e instanceof Error ? e.message : String(e)})`
    )
    await admin.close()
    return undefined
  }
  const made: Array<string> = []
  const clients: Array<SQL> = []
  return {
    create: async (label) => {
      const name = `ss_bench_${label}_${crypto.randomUUID().replaceAll("-", "").slice(0, 8)}`
      await admin.unsafe(`CREATE DATABASE ${name}`)
      made.push(name)
      const url = new URL(serverUrl)
      url.pathname = `/${name}`
      return url.toString()
    },
    transactions: async (url) => {
      const rows = (await admin.unsafe(
        "SELECT (xact_commit + xact_rollback)::float8 AS n FROM pg_stat_database WHERE datname = $1",
        [nameOf(url)]
      )) as Array<{ n: number }>
      return rows[0]?.n ?? Number.NaN
    },
    client: (url) => {
      const client = new SQL(url)
      clients.push(client)
      return client
    },
    dropAll: async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)))
      for (const name of made) await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined)
      await admin.close()
    }
  }
}

/** Users who own the seeded history; never log in. */
const HISTORY_USERS = 1000

/**
 * Seeds `others` sessions of history users and `ownEach` sessions of each
 * bench user, all ended (92 % terminated, 8 % failed) and spread over the
 * last 180 days, then VACUUM ANALYZE. The first call also creates the history users
 * and shares two of their sessions with each bench user. Ids start with
 * `seed-<tag>-` so a tag can be removed again (`removeSeeded`).
 */
export const seedHistory = async (
  sql: SQL,
  options: {
    readonly tag: string
    readonly templateId: string
    readonly benchUserIds: ReadonlyArray<string>
    readonly others: number
    readonly ownEach: number
  }
) => {
  await sql.unsafe(
    `INSERT INTO users (id, username, password_hash, created_at, updated_at)
     SELECT 'history-' || g, 'history-' || g, '!', now(), now() FROM generate_series(0, $1) g
     ON CONFLICT DO NOTHING`,
    [HISTORY_USERS - 1]
  )
  const insert = `INSERT INTO sessions (id, user_id, template_id, state, desired, runtime, cpu, memory, persistent_home,
      last_activity_at, created_at, updated_at)
    SELECT 'seed-' || $1 || '-' || g, %USER%, $2, CASE WHEN g % 13 = 0 THEN 'failed' ELSE 'terminated' END,
      'terminated', 'simulated', 1000, 2048, g % 3 = 0, at, at, at + interval '1 hour'
    FROM (SELECT g, now() - random() * interval '180 days' AS at FROM generate_series(1, $3) g) t`
  await sql.unsafe(insert.replace("%USER%", `'history-' || (g % ${HISTORY_USERS})`), [
    `${options.tag}-o`,
    options.templateId,
    options.others
  ])
  for (const [i, userId] of options.benchUserIds.entries()) {
    if (options.ownEach > 0)
      await sql.unsafe(insert.replace("%USER%", "$4"), [
        `${options.tag}-u${i}`,
        options.templateId,
        options.ownEach,
        userId
      ])
    await sql.unsafe(
      `INSERT INTO session_shares (session_id, user_id, access, created_at)
       SELECT id, $1, 'view', now() FROM sessions WHERE id IN ($2, $3) ON CONFLICT DO NOTHING`,
      [userId, `seed-${options.tag}-o-${2 * i + 1}`, `seed-${options.tag}-o-${2 * i + 2}`]
    )
  }
  // As autovacuum would have left a table that grew over months.
  await sql.unsafe("VACUUM ANALYZE sessions")
  await sql.unsafe("VACUUM ANALYZE session_shares")
}

/** Removes the sessions seeded under `tag`, or every session when `tag` is undefined. */
export const removeSessions = async (sql: SQL, tag?: string) => {
  if (tag === undefined) await sql.unsafe("DELETE FROM sessions")
  else await sql.unsafe("DELETE FROM sessions WHERE id LIKE $1", [`seed-${tag}-%`])
  await sql.unsafe("VACUUM ANALYZE sessions")
}

export const countSessions = async (sql: SQL) =>
  Number(((await sql.unsafe("SELECT count(*)::int AS n FROM sessions")) as Array<{ n: number }>)[0]?.n ?? 0)

/** Sessions still on their way to their desired state (the orchestrator's backlog). */
export const unsettledSessions = async (sql: SQL) =>
  Number(
    (
      (await sql.unsafe(
        "SELECT count(*)::int AS n FROM sessions WHERE state NOT IN ('terminated', 'failed') AND state <> desired"
      )) as Array<{ n: number }>
    )[0]?.n ?? 0
  )
