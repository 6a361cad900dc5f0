/**
 * `bun run bench api`: our server against the hand-written FLOOR
 * (scripts/bench/floor.ts: the same three routes on Bun.serve and one `pg`
 * pool), each a real process, 32 clients each logged in as its own user.
 * Rate limiting is off for the run. One run prints:
 *
 * 1. PostgreSQL, create → list → delete loop: ours and the floor on separate
 *    databases of one server (both migrated with our schema: the floor's by
 *    starting our server on it once), interleaved in rounds (ours/floor,
 *    floor/ours, …) after a warm-up; req/s, p50/p99 per route, ours/floor.
 *    After each round the bench waits for that server's backlog (sessions
 *    short of their desired state) to drain, or to stop moving, so that one
 *    contender's background work does not run into the other's round.
 * 2. Statements and transactions per request, route by route, through a
 *    counting proxy that reads the PostgreSQL protocol (Query and Execute
 *    messages; ReadyForQuery back to idle after work), net of the idle rate,
 *    background work the requests triggered included; the proxy's
 *    transaction total is cross-checked against pg_stat_database.
 * 3. GET list p50 with 1k sessions in the table (our first server's database)
 *    and with 100k (a second server of ours on a third database), listing
 *    interleaved in rounds; history seeded with SQL: other users' and the
 *    bench users' own ended sessions (92 % terminated, 8 % failed, over 180
 *    days), two shares per bench user.
 * 4. PGlite: our POST-only req/s; with `BENCH_BASELINE=<git rev>` the same
 *    for that revision (checked out into a temporary git worktree under the
 *    OS tmpdir, `bun install --frozen-lockfile`), interleaved with ours.
 * 5. The "Done when" targets with PASS/FAIL.
 *
 * Env: BENCH_CLIENTS (32), BENCH_SECONDS per round (12), BENCH_ROUNDS (3), BENCH_WARMUP_SECONDS before
 * the PostgreSQL throughput rounds (30: until the JIT settles; the other phases warm up 3 s),
 * BENCH_LIST_SECONDS per list round (4), BENCH_PGLITE_SECONDS (8), BENCH_COUNT_PER_CLIENT
 * (4 requests per client and route in part 2), BENCH_BASELINE (none),
 * BENCH_FLOOR_DRIVER (pg, or bun for Bun.SQL), BENCH_VERBOSE=1 (the statements
 * of each route), BENCH_DATABASE_URL / TEST_DATABASE_URL (PostgreSQL server,
 * default postgres://postgres@127.0.0.1:5432/postgres).
 */
import { PgWireCounter, ServerProcess } from "@streamspace/testing"
import type { SQL } from "bun"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as BaselineWorktree from "./internal/BaselineWorktree.ts"
import * as BenchDatabases from "./internal/BenchDatabases.ts"
import * as CpuTime from "./internal/CpuTime.ts"
import { fixed, printTable, printTargets, progress, type Target } from "./internal/BenchReport.ts"
import {
  type BenchUsers,
  createListDelete,
  forDuration,
  pendingSessions,
  percentile,
  prepareUsers,
  ROUTES,
  Recorder,
  type Route,
  sessionRoutes,
  sleep
} from "./internal/LoadClient.ts"
import * as StatementCount from "./internal/StatementCount.ts"

const intEnv = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback)
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`)
  return n
}

const CLIENTS = intEnv("BENCH_CLIENTS", 32)
const SECONDS = intEnv("BENCH_SECONDS", 12)
const ROUNDS = intEnv("BENCH_ROUNDS", 3)
const LIST_SECONDS = intEnv("BENCH_LIST_SECONDS", 4)
const PGLITE_SECONDS = intEnv("BENCH_PGLITE_SECONDS", 8)
const COUNT_PER_CLIENT = intEnv("BENCH_COUNT_PER_CLIENT", 4)
/**
 * Warm-up of each server before the PostgreSQL throughput rounds: long enough for JavaScriptCore's JIT to settle
 * (its worker threads compile for a minute or more under load, most of the server CPU the first seconds), so that
 * the rounds measure a server as it runs for days. The other phases warm up for a few seconds.
 */
const WARMUP_SECONDS = intEnv("BENCH_WARMUP_SECONDS", 30)
const SHORT_WARMUP_SECONDS = Math.min(3, SECONDS)
const BASELINE = process.env["BENCH_BASELINE"]
const FLOOR_DRIVER = process.env["BENCH_FLOOR_DRIVER"] ?? "pg"
const VERBOSE = process.env["BENCH_VERBOSE"] === "1"
const PASSWORD = "Bench-root-pass-4Xq8-walrus"
const JWT_SECRET = crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "")
const floorPath = Path.join(import.meta.dir, "floor.ts")

const oursEnv = {
  // The default (auto) would start a real Xvnc desktop per session wherever Xvnc is installed.
  SESSION_RUNTIME: "simulated",
  STREAMSPACE_ADMIN_PASSWORD: PASSWORD,
  STREAMSPACE_RATE_LIMIT: "false",
  STREAMSPACE_LOG_LEVEL: "warning",
  STREAMSPACE_JWT_SECRET: JWT_SECRET,
  STREAMSPACE_ACCESS_TOKEN_TTL_SECONDS: "7200"
}

const startOurs = (databaseUrl: string) => ServerProcess.start({ ...oursEnv, DATABASE_URL: databaseUrl })
const startFloor = (databaseUrl: string) =>
  ServerProcess.start(
    { DATABASE_URL: databaseUrl, JWT_SECRET, FLOOR_DRIVER, STREAMSPACE_LOG_LEVEL: "warning" },
    { command: ["bun", floorPath] }
  )
/** Prepares the bench users; on failure the error carries the end of the server's log. */
const usersOn = (server: ServerProcess.ServerProcess) =>
  prepareUsers(server.url, PASSWORD, CLIENTS).catch((e: unknown) => {
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nserver log:\n${server.output().slice(-3000)}`)
  })
const stopQuietly = (server: ServerProcess.ServerProcess | undefined) =>
  server?.stop().catch((e) => console.log(`  (stopping a server: ${e instanceof Error ? e.message : String(e)})`))

// ------------------------------------------------------------------ interleaved load

interface Contender {
  readonly name: string
  readonly base: string
  readonly users: BenchUsers
  /** The server's process, whose CPU time is sampled around each round. */
  readonly pid: number
  /** Resolves once the background work of the contender's last round is done. */
  readonly settle: () => Promise<void>
}

/**
 * Polls `backlog` (sessions not yet in their desired state) until it is 0 or
 * has not moved for a second (what is left waits for a lease or a sweep and
 * costs nothing meanwhile), at most `maxMs`; then lets trailing work (events,
 * deliveries) finish.
 */
const settleBacklog = async (backlog: () => Promise<number>, maxMs = 20_000) => {
  const started = performance.now()
  let last = -1
  let still = 0
  while (performance.now() < started + maxMs) {
    const n = await backlog()
    if (n === 0) break
    still = n === last ? still + 1 : 0
    if (still >= 5) {
      progress(`  (${n} sessions stay short of their desired state; not waiting for them)`)
      break
    }
    last = n
    await sleep(200)
  }
  const waited = performance.now() - started
  if (waited > 3000) progress(`  (waited ${fixed(waited / 1000)} s for the background work to settle)`)
  await sleep(300)
}

interface RoundsResult {
  readonly perRound: ReadonlyArray<number>
  readonly requestsPerSecond: number
  readonly recorder: Recorder
  /** CPU milliseconds per request of the server and of PostgreSQL over the rounds (not the settling after them). */
  readonly cpu: CpuTime.PerRequest
}

/** Warms each contender up, then runs `rounds` rounds, alternating which goes first. */
const interleaved = async (
  contenders: ReadonlyArray<Contender>,
  rounds: number,
  seconds: number,
  warmupSeconds: number,
  stepOf: (routes: ReturnType<typeof sessionRoutes>) => (token: string) => Promise<unknown>
): Promise<Map<string, RoundsResult>> => {
  for (const c of contenders) {
    await forDuration(c.users.tokens, warmupSeconds, stepOf(sessionRoutes(c.base, c.users.templateId, new Recorder())))
    await c.settle()
  }
  const results = new Map(
    contenders.map((c) => [
      c.name,
      { perRound: [] as Array<number>, seconds: 0, all: new Recorder(), cpu: { server: 0, jit: 0, postgres: 0 } }
    ])
  )
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? contenders : [...contenders].reverse()
    for (const c of order) {
      const recorder = new Recorder()
      const before = CpuTime.sample(c.pid)
      const elapsed = await forDuration(
        c.users.tokens,
        seconds,
        stepOf(sessionRoutes(c.base, c.users.templateId, recorder))
      )
      const used = CpuTime.between(before, CpuTime.sample(c.pid))
      const result = results.get(c.name)!
      result.cpu = {
        server: result.cpu.server + used.server,
        jit: result.cpu.jit + used.jit,
        postgres: result.cpu.postgres + used.postgres
      }
      result.perRound.push(recorder.requests / elapsed)
      result.seconds += elapsed
      result.all.merge(recorder)
      progress(
        `  round ${r + 1}/${rounds} ${c.name.padEnd(8)} ${fixed(recorder.requests / elapsed, 0).padStart(5)} req/s, ${recorder.errors} errors`
      )
      await c.settle()
    }
  }
  return new Map(
    [...results].map(([name, r]) => [
      name,
      {
        perRound: r.perRound,
        requestsPerSecond: r.all.requests / r.seconds,
        recorder: r.all,
        cpu: {
          server: r.cpu.server / r.all.requests,
          jit: r.cpu.jit / r.all.requests,
          postgres: r.cpu.postgres / r.all.requests
        }
      }
    ])
  )
}

const p50 = (r: RoundsResult, route: Route) => percentile(r.recorder.latencies.get(route) ?? [], 0.5)
const p99 = (r: RoundsResult, route: Route) => percentile(r.recorder.latencies.get(route) ?? [], 0.99)

const printErrors = (name: string, r: RoundsResult) => {
  for (const e of r.recorder.firstErrors) console.log(`  first errors of ${name}: ${e}`)
}

// ------------------------------------------------------------------ PostgreSQL

interface PostgresFigures {
  readonly throughput: { readonly ours: RoundsResult; readonly floor: RoundsResult }
  readonly counts: { readonly ours: StatementCount.CountResult; readonly floor: StatementCount.CountResult }
  readonly list: { readonly small: RoundsResult; readonly big: RoundsResult }
}

const printCounts = (ours: StatementCount.CountResult, floor: StatementCount.CountResult) => {
  printTable(
    ["route", "statements ours", "floor", "transactions ours", "floor", "requests ours/floor", "errors"],
    ROUTES.map((route, i) => {
      const o = ours.routes[i]!
      const f = floor.routes[i]!
      return [
        route,
        fixed(o.perRequest.statements, 2),
        fixed(f.perRequest.statements, 2),
        fixed(o.perRequest.transactions, 2),
        fixed(f.perRequest.transactions, 2),
        `${o.requests}/${f.requests}`,
        String(o.errors + f.errors)
      ]
    })
  )
  console.log(
    `  idle rate subtracted: ours ${fixed(ours.idle.statements, 1)} statements/s, ${fixed(ours.idle.transactions, 1)} transactions/s; floor ${fixed(floor.idle.statements, 1)}/${fixed(floor.idle.transactions, 1)}`
  )
  if (!VERBOSE) return
  for (const [name, result] of [
    ["ours", ours],
    ["floor", floor]
  ] as const) {
    for (const r of result.routes) {
      console.log(`  ${name} ${r.route}: statements per request (idle work included)`)
      for (const [text, n] of r.texts.slice(0, 12)) console.log(`    ${fixed(n, 2).padStart(6)}  ${text.slice(0, 150)}`)
    }
  }
}

/** Statements and transactions per route through the counting proxy; cross-checks the proxy's transaction total. */
const countThroughProxy = async (
  dbs: BenchDatabases.BenchDatabases,
  name: string,
  databaseUrl: string,
  users: BenchUsers,
  start: (url: string) => Promise<ServerProcess.ServerProcess>
) => {
  const proxy = PgWireCounter.start(databaseUrl)
  const pgBefore = await dbs.transactions(databaseUrl)
  const before = proxy.snapshot()
  let server: ServerProcess.ServerProcess | undefined
  try {
    server = await start(proxy.url(databaseUrl))
    const result = await StatementCount.count(proxy, server.url, users, COUNT_PER_CLIENT)
    await stopQuietly(server)
    server = undefined
    // Backends report their statistics when they exit; the collector needs a moment.
    await sleep(1000)
    const proxied = PgWireCounter.between(before, proxy.snapshot()).transactions
    const pgStat = (await dbs.transactions(databaseUrl)) - pgBefore
    progress(
      `  ${name}: cross-check over the server's life: proxy counted ${proxied} transactions, pg_stat_database ${pgStat} (it also counts autovacuum on that database)`
    )
    return result
  } finally {
    await stopQuietly(server)
    proxy.close()
  }
}

const postgres = async (dbs: BenchDatabases.BenchDatabases): Promise<PostgresFigures> => {
  const oursUrl = await dbs.create("ours")
  const floorUrl = await dbs.create("floor")
  const listUrl = await dbs.create("list")
  const oursSql = dbs.client(oursUrl)
  const floorSql = dbs.client(floorUrl)
  const listSql = dbs.client(listUrl)
  let ours: ServerProcess.ServerProcess | undefined
  let floor: ServerProcess.ServerProcess | undefined
  let big: ServerProcess.ServerProcess | undefined
  let migrator: ServerProcess.ServerProcess | undefined
  try {
    progress(
      "postgres: three databases; our server on each (the floor's only to migrate it and create its users), then the floor"
    )
    // Settled all before going on, so that a failure leaves no server starting unseen.
    const setup = await Promise.allSettled([
      startOurs(floorUrl).then((server) => {
        migrator = server
        return usersOn(server)
      }),
      startOurs(oursUrl).then((server) => {
        ours = server
        return usersOn(server)
      }),
      startOurs(listUrl).then((server) => {
        big = server
        return usersOn(server)
      })
    ])
    const failure = setup.find((r) => r.status === "rejected")
    if (failure) throw failure.reason
    const [floorUsers, oursUsers, bigUsers] = setup.map((r) => (r as PromiseFulfilledResult<BenchUsers>).value) as [
      BenchUsers,
      BenchUsers,
      BenchUsers
    ]
    await stopQuietly(migrator)
    migrator = undefined
    floor = await startFloor(floorUrl)
    if (!ours || !big) throw new Error("unreachable: servers started above")
    progress("postgres: seeding 100k sessions of history into the third database")
    await BenchDatabases.seedHistory(listSql, {
      tag: "big",
      templateId: bigUsers.templateId,
      benchUserIds: bigUsers.userIds,
      others: 100_000 - CLIENTS * 50,
      ownEach: 50
    })
    const settled = (sql: SQL) => () => settleBacklog(() => BenchDatabases.unsettledSessions(sql))

    progress(
      `postgres: ${CLIENTS} clients, create → list → delete, warm-up ${WARMUP_SECONDS} s each, ${ROUNDS} interleaved rounds of ${SECONDS} s`
    )
    const rounds = await interleaved(
      [
        { name: "ours", base: ours.url, users: oursUsers, pid: ours.proc.pid, settle: settled(oursSql) },
        { name: "floor", base: floor.url, users: floorUsers, pid: floor.proc.pid, settle: settled(floorSql) }
      ],
      ROUNDS,
      SECONDS,
      WARMUP_SECONDS,
      createListDelete
    )
    const o = rounds.get("ours")!
    const f = rounds.get("floor")!
    printTable(
      ["", "ours", "floor", "ours/floor"],
      [
        [
          `req/s (${CLIENTS} clients, all rounds)`,
          fixed(o.requestsPerSecond, 0),
          fixed(f.requestsPerSecond, 0),
          fixed(o.requestsPerSecond / f.requestsPerSecond, 2)
        ],
        [
          "req/s per round",
          o.perRound.map((x) => fixed(x, 0)).join(" "),
          f.perRound.map((x) => fixed(x, 0)).join(" "),
          o.perRound.map((x, i) => fixed(x / f.perRound[i]!, 2)).join(" ")
        ],
        ...ROUTES.flatMap((route) => [
          [`p50 ${route} ms`, fixed(p50(o, route)), fixed(p50(f, route)), fixed(p50(o, route) / p50(f, route), 2)],
          [`p99 ${route} ms`, fixed(p99(o, route)), fixed(p99(f, route)), fixed(p99(o, route) / p99(f, route), 2)]
        ]),
        [
          "server CPU per request ms",
          fixed(o.cpu.server, 2),
          fixed(f.cpu.server, 2),
          fixed(o.cpu.server / f.cpu.server, 2)
        ],
        ["  of which JIT threads ms", fixed(o.cpu.jit, 2), fixed(f.cpu.jit, 2), ""],
        [
          "PostgreSQL CPU per request ms",
          fixed(o.cpu.postgres, 2),
          fixed(f.cpu.postgres, 2),
          fixed(o.cpu.postgres / f.cpu.postgres, 2)
        ],
        ["requests", String(o.recorder.requests), String(f.recorder.requests), ""],
        ["errors", String(o.recorder.errors), String(f.recorder.errors), ""]
      ]
    )
    printErrors("ours", o)
    printErrors("floor", f)

    await stopQuietly(floor)
    floor = undefined
    progress(
      `postgres: list p50 by table size: ours at 1k sessions and a second server of ours on a database with 100k, ${CLIENTS} clients listing, interleaved`
    )
    await BenchDatabases.removeSessions(oursSql)
    // At least 21 own sessions per user, so both lists answer a full page of 20 and a cursor.
    await BenchDatabases.seedHistory(oursSql, {
      tag: "small",
      templateId: oursUsers.templateId,
      benchUserIds: oursUsers.userIds,
      others: Math.max(0, 1000 - CLIENTS * 21),
      ownEach: 21
    })
    const smallName = `${await BenchDatabases.countSessions(oursSql)} sessions`
    const bigName = `${await BenchDatabases.countSessions(listSql)} sessions`
    const lists = await interleaved(
      [
        { name: smallName, base: ours.url, users: oursUsers, pid: ours.proc.pid, settle: () => sleep(300) },
        { name: bigName, base: big.url, users: bigUsers, pid: big.proc.pid, settle: () => sleep(300) }
      ],
      ROUNDS,
      LIST_SECONDS,
      SHORT_WARMUP_SECONDS,
      (routes) => routes.list
    )
    const listSmall = lists.get(smallName)!
    const listBig = lists.get(bigName)!
    const listP50 = (r: RoundsResult) => p50(r, "GET /api/sessions")
    printTable(
      ["", "GET p50 ms", "GET p99 ms", "requests", "errors"],
      [listSmall, listBig].map((r, i) => [
        i === 0 ? smallName : bigName,
        fixed(listP50(r)),
        fixed(p99(r, "GET /api/sessions")),
        String(r.recorder.requests),
        String(r.recorder.errors)
      ])
    )
    console.log(`  p50 100k/1k: ${fixed(listP50(listBig) / listP50(listSmall), 2)}`)
    printErrors(bigName, listBig)
    await stopQuietly(big)
    big = undefined

    await stopQuietly(ours)
    ours = undefined

    progress(
      `postgres: statements and transactions per request, ${COUNT_PER_CLIENT} requests per client and route, through a counting proxy`
    )
    const oursCounts = await countThroughProxy(dbs, "ours", oursUrl, oursUsers, startOurs)
    const floorCounts = await countThroughProxy(dbs, "floor", floorUrl, floorUsers, startFloor)
    console.log(
      "  method: a TCP proxy reads the protocol: statements = Query ('Q') + Execute ('E') messages (BEGIN/COMMIT included);"
    )
    console.log(
      "  transactions = ReadyForQuery back to idle after a Query or Sync that ran something (as xact_commit + xact_rollback)"
    )
    printCounts(oursCounts, floorCounts)
    return {
      throughput: { ours: o, floor: f },
      counts: { ours: oursCounts, floor: floorCounts },
      list: { small: listSmall, big: listBig }
    }
  } finally {
    await stopQuietly(ours)
    await stopQuietly(floor)
    await stopQuietly(big)
    await stopQuietly(migrator)
  }
}

// ------------------------------------------------------------------ PGlite

interface PgliteFigures {
  readonly ours: RoundsResult
  readonly baseline: RoundsResult | undefined
  readonly baselineRevision: string | undefined
}

const pglite = async (): Promise<PgliteFigures> => {
  const dirs: Array<string> = []
  const servers: Array<ServerProcess.ServerProcess> = []
  let worktree: BaselineWorktree.BaselineWorktree | undefined
  const start = async (command?: ReadonlyArray<string>, cwd?: string) => {
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-bench-api-"))
    dirs.push(dataDir)
    const server = await ServerProcess.start(
      { ...oursEnv, STREAMSPACE_DATA_DIR: dataDir, DATABASE_URL: undefined },
      command ? { command, ...(cwd ? { cwd } : {}) } : {}
    )
    servers.push(server)
    return server
  }
  try {
    progress("pglite: starting our server")
    const ours = await start()
    const contender = async (name: string, server: ServerProcess.ServerProcess): Promise<Contender> => {
      const users = await usersOn(server)
      return {
        name,
        base: server.url,
        users,
        pid: server.proc.pid,
        settle: () => settleBacklog(() => pendingSessions(server.url, users))
      }
    }
    const contenders = [await contender("ours", ours)]
    if (BASELINE) {
      progress(`pglite: checking out ${BASELINE} into a temporary worktree, bun install --frozen-lockfile`)
      worktree = BaselineWorktree.checkout(BASELINE)
      const baseline = await start(worktree.serverCommand, worktree.dir)
      contenders.push(await contender("baseline", baseline))
    }
    const rounds = BASELINE ? ROUNDS : 1
    progress(
      `pglite: ${CLIENTS} clients, POST /api/sessions only, warm-up ${SHORT_WARMUP_SECONDS} s, ${rounds} round(s) of ${PGLITE_SECONDS} s`
    )
    const results = await interleaved(
      contenders,
      rounds,
      PGLITE_SECONDS,
      SHORT_WARMUP_SECONDS,
      (routes) => routes.create
    )
    const o = results.get("ours")!
    const b = results.get("baseline")
    const row = (name: string, r: RoundsResult) => [
      name,
      fixed(r.requestsPerSecond, 0),
      r.perRound.map((x) => fixed(x, 0)).join(" "),
      fixed(p50(r, "POST /api/sessions")),
      fixed(p99(r, "POST /api/sessions")),
      String(r.recorder.errors)
    ]
    printTable(
      ["", "POST req/s", "per round", "p50 ms", "p99 ms", "errors"],
      [row("ours", o), ...(b ? [row(`baseline ${worktree?.revision ?? ""}`, b)] : [])]
    )
    if (b) console.log(`  ours/baseline POST req/s: ${fixed(o.requestsPerSecond / b.requestsPerSecond, 2)}`)
    else
      console.log("  no baseline: BENCH_BASELINE=<git rev> bun run bench api measures that revision beside this tree")
    printErrors("ours", o)
    if (b) printErrors("baseline", b)
    return { ours: o, baseline: b, baselineRevision: worktree?.revision }
  } finally {
    for (const s of servers) await stopQuietly(s)
    for (const d of dirs) Fs.rmSync(d, { recursive: true, force: true })
    worktree?.remove()
  }
}

// ------------------------------------------------------------------ summary

const targets = (pg: PostgresFigures | undefined, lite: PgliteFigures): Array<Target> => {
  const out: Array<Target> = []
  if (pg) {
    const { ours, floor } = pg.throughput
    const rps = ours.requestsPerSecond / floor.requestsPerSecond
    out.push({ name: "PostgreSQL req/s ours/floor ≥ 0.7", measured: fixed(rps, 2), pass: rps >= 0.7 })
    for (const route of ROUTES) {
      const r = p50(ours, route) / p50(floor, route)
      out.push({ name: `p50 ${route} ≤ 1.5× floor`, measured: `${fixed(r, 2)}×`, pass: r <= 1.5 })
    }
    const errors = ours.recorder.errors + floor.recorder.errors
    out.push({ name: "errors in the PostgreSQL rounds = 0", measured: String(errors), pass: errors === 0 })
    const post = pg.counts.ours.routes[0]!
    out.push({
      name: "statements per POST ≤ 7",
      measured: fixed(post.perRequest.statements, 2),
      pass: post.perRequest.statements <= 7
    })
    out.push({
      name: "PostgreSQL transactions per POST ≤ 3",
      measured: fixed(post.perRequest.transactions, 2),
      pass: post.perRequest.transactions <= 3
    })
    const small = p50(pg.list.small, "GET /api/sessions")
    const large = p50(pg.list.big, "GET /api/sessions")
    const listRatio = large / small
    out.push({
      name: "GET list p50 100k/1k sessions ≤ 1.2",
      measured: `${fixed(listRatio, 2)} (${fixed(large)} / ${fixed(small)} ms)`,
      pass: listRatio <= 1.2
    })
  } else {
    out.push({ name: "PostgreSQL targets", measured: "PostgreSQL unreachable", pass: undefined })
  }
  if (lite.baseline) {
    const r = lite.ours.requestsPerSecond / lite.baseline.requestsPerSecond
    out.push({
      name: `PGlite POST req/s ≥ 2× ${lite.baselineRevision ?? "baseline"}`,
      measured: `${fixed(r, 2)}× (${fixed(lite.ours.requestsPerSecond, 0)} / ${fixed(lite.baseline.requestsPerSecond, 0)})`,
      pass: r >= 2
    })
  } else {
    out.push({
      name: "PGlite POST req/s ≥ 2× baseline",
      measured: `${fixed(lite.ours.requestsPerSecond, 0)} req/s; set BENCH_BASELINE`,
      pass: undefined
    })
  }
  return out
}

export const run = async () => {
  const serverUrl =
    process.env["BENCH_DATABASE_URL"] ??
    process.env["TEST_DATABASE_URL"] ??
    "postgres://postgres@127.0.0.1:5432/postgres"
  const dbs = await BenchDatabases.connect(serverUrl)
  let pg: PostgresFigures | undefined
  try {
    if (dbs) pg = await postgres(dbs)
  } finally {
    await dbs?.dropAll()
  }
  const lite = await pglite()
  console.log("\nsummary (targets of issue 12; figures from this run)")
  printTargets(targets(pg, lite))
}

if (import.meta.main) await run()
