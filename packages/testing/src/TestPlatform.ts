/**
 * A running platform for tests: the same Layer graph and HTTP app as the
 * server, on a fresh database (PGlite in memory, or a fresh database on
 * `TEST_DATABASE_URL`), with an in-process HTTP client, the bootstrap admin's
 * password, and optionally a simulated clock.
 *
 *     let p: TestPlatform.TestPlatform
 *     beforeAll(async () => { p = await TestPlatform.make() })
 *     afterAll(() => p.close())
 *     const token = await p.login("admin", p.adminPassword)
 *     const res = await p.http("GET", "/api/auth/me", { token })
 *
 * Each platform gets its own database. On PGlite it is a copy of a template
 * that has the core migrations and the first-boot admin (whose argon2 hash
 * is what costs): the template is made once per machine and kept on disk
 * until the migrations, the core's code or the PGlite version change
 * (`TestDatabase`), so `make` costs loading a dump plus building the layers.
 *
 * Time, with `clock: "test"`: the platform's clock stands still until
 * `adjustClock` moves it (see `SimulatedClock` for how timers fire on a long
 * move). Access tokens are then valid for ten years unless the test sets
 * `auth.accessTokenTtlSeconds`: tokens from `login` keep working across
 * clock jumps, because verification reads the same simulated clock that
 * would otherwise expire them after 900 s. A test about expiry sets the TTL
 * it wants. With the live clock the production default (900 s) applies.
 */
import { SqlClient } from "@effect/sql"
import {
  CoreMigrations,
  EventOutbox,
  type HttpRoute,
  PrincipalCache,
  ServerConfig,
  UserRepo,
  Users
} from "@streamspace/core"
import { TestDatabase } from "@streamspace/db"
import { JobScheduler, type PluginDefinition, PluginHost, RouteRegistry } from "@streamspace/kernel/host"
import { Platform, Server } from "@streamspace/server"
import { SQL } from "bun"
import { Cause, type Duration, Effect, Exit, Layer, ManagedRuntime } from "effect"
import type { Elysia } from "elysia"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { ConsoleAssets, ConsoleBuild } from "@streamspace/web"
import * as DesktopReaper from "./DesktopReaper.ts"
import * as Eventually from "./Eventually.ts"
import * as OutgoingHttp from "./OutgoingHttp.ts"
import * as ServerDatabase from "./ServerDatabase.ts"
import * as SimulatedClock from "./SimulatedClock.ts"
import * as TestTimeouts from "./TestTimeouts.ts"

export interface TestPlatformOptions {
  /** Partial server config merged over the test defaults. */
  readonly config?: ServerConfig.ServerConfigInput
  /** Extra services built on top of the platform (they may use its services). */
  readonly layer?: Layer.Layer<never, unknown, Platform.Services>
  /** Extra routes mounted next to the core routes. */
  readonly routes?: ReadonlyArray<HttpRoute.Route<Platform.Services>>
  /**
   * `"test"`: a simulated clock drives every Clock/sleep/timeout/Schedule in
   * the platform (starting at the real current time); move it with
   * `adjustClock`. Default `"live"`.
   */
  readonly clock?: "live" | "test"
  /** Plugins available to the host (installed and enabled through the admin API or `config.plugins.enabled`). */
  readonly plugins?: ReadonlyArray<PluginDefinition>
  /** Also listen on 127.0.0.1 (random port) for clients that need a socket (WebSocket, child processes). */
  readonly listen?: boolean
  /** Serve the web console at `/` (built once per machine and source version; see `BrowserKit`). */
  readonly webConsole?: boolean
  /**
   * Layers put in place of core services (`stubLayer(Quotas.Quotas, …)`, `Layer.succeed(…)`): every
   * core service built on one, and every route, uses the replacement (see `CoreLive.make`). It may use
   * the database, the config and the foundation services (EventOutbox, AuditLog, Settings, SecretBox).
   */
  readonly replace?: Platform.Replacement
}

export interface HttpOptions {
  readonly body?: unknown
  readonly token?: string
  readonly headers?: Record<string, string>
  /** Send this exact body (e.g. a stream or bytes) instead of JSON. */
  readonly raw?: RequestInit["body"]
  /** Aborting it is the client going away: the request is interrupted, as a real server's would be. */
  readonly signal?: AbortSignal
}

/** `T` is the shape the test expects the JSON body to have (the assertion, not a guarantee). */
export interface TestResponse<T = unknown> {
  readonly status: number
  readonly body: T
  readonly headers: Headers
  readonly text: string
}

export interface TestPlatform {
  readonly engine: "pglite" | "postgres"
  readonly config: ServerConfig.ServerConfigShape
  readonly adminPassword: string
  readonly runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>
  readonly app: Elysia
  /** Set when `listen: true`. */
  readonly url: string | undefined
  readonly http: <T = unknown>(method: string, path: string, options?: HttpOptions) => Promise<TestResponse<T>>
  readonly login: (username: string, password: string) => Promise<string>
  /**
   * Creates a user through the API as the admin (roles `["user"]` unless given; a password that passes the
   * policy unless given) and logs them in. `adminToken`: create with this token instead of the kit's own admin
   * login (for a test whose policies refuse a new admin sign-in).
   */
  readonly makeUser: (
    username: string,
    options?: { readonly roles?: ReadonlyArray<string>; readonly password?: string; readonly adminToken?: string }
  ) => Promise<{ readonly id: string; readonly token: string; readonly password: string }>
  readonly run: <A, E>(effect: Effect.Effect<A, E, Platform.Services>) => Promise<A>
  /**
   * Checks (in real time) until `check` returns something other than
   * undefined/false, for effects that land in background fibers. `check`
   * may throw (an `expect` inside): at the deadline the last error is
   * rethrown as it was. Default deadline `TestTimeouts.waitMs`.
   */
  readonly eventually: <A>(check: Eventually.Check<A>, options?: number | Eventually.EventuallyOptions) => Promise<A>
  /** Runs one SQL statement as the platform's own database user (for looking behind the API). */
  readonly query: <A extends object = Record<string, unknown>>(
    text: string,
    params?: ReadonlyArray<unknown>
  ) => Promise<ReadonlyArray<A>>
  /** Publishes an event into the outbox, as the core or a plugin would. */
  readonly emit: (type: string, payload: unknown) => Promise<string>
  /** Resolves when every subscription of an enabled plugin has caught up with the outbox. */
  readonly awaitDelivered: (timeoutMs?: number) => Promise<void>
  /**
   * Moves the simulated clock (only with `clock: "test"`), firing the timers
   * due on the way, and resolves when the platform has settled at the new
   * time. A two-hour move takes well under a few seconds.
   */
  readonly adjustClock: (duration: Duration.DurationInput) => Promise<void>
  /**
   * Runs a scheduled job of an enabled plugin now (as the admin route
   * `POST /api/admin/plugins/:id/jobs/:name/run` does) and returns its run;
   * rejects naming the plugin or job when it cannot.
   */
  readonly runJob: (plugin: string, job: string) => Promise<JobScheduler.JobRun>
  /** Every HTTP request the platform sent (webhooks, plugins), in order, with its response status. */
  readonly outgoing: ReadonlyArray<OutgoingHttp.CapturedRequest>
  readonly close: () => Promise<void>
}

export const adminPassword = "kit-boot-password-1"

const consoleRoot = Path.join(Os.tmpdir(), "streamspace-test-console")

/**
 * Where test platforms keep the built console: one directory per source
 * version, shared by test files and never rebuilt under a process serving
 * it (another version goes to a directory of its own). Versions unused for
 * a day are removed.
 */
export const consoleDir = (): string => {
  const hash = ConsoleBuild.sourceHash()
  const cutoff = Date.now() - 24 * 3600_000
  for (const entry of Fs.existsSync(consoleRoot) ? Fs.readdirSync(consoleRoot) : []) {
    const dir = Path.join(consoleRoot, entry)
    if (entry !== hash && Fs.statSync(dir).mtimeMs < cutoff) Fs.rmSync(dir, { recursive: true, force: true })
  }
  return Path.join(consoleRoot, hash)
}

let consoleBuilt: Promise<ConsoleAssets.ConsoleAssets> | undefined
const consoleAssets = () => {
  const outDir = consoleDir()
  return (consoleBuilt ??= ConsoleBuild.ensureBuilt({ outDir, log: () => undefined }).then((manifest) =>
    ConsoleAssets.make(manifest, ConsoleAssets.directorySource(outDir))
  ))
}

/** The kit's default `egress.allow`: loopback, where every test peer listens (a suite about the policy sets its own). */
export const loopbackEgress: ReadonlyArray<string> = ["127.0.0.0/8", "::1"]

/** Access-token lifetime under the simulated clock (ten years), unless the test sets its own. */
export const testClockAccessTokenTtlSeconds = 10 * 365 * 24 * 3600

/** Plugin roles are cluster-wide on PostgreSQL and outlive the test database: drop this database's. */
const dropPluginRoles = async (serverUrl: string, database: string) => {
  const admin = new SQL(serverUrl)
  try {
    await ServerDatabase.dropPluginRoles(admin, database)
  } finally {
    await admin.close()
  }
}

export const engine = (): "pglite" | "postgres" => (process.env["TEST_DATABASE_URL"] ? "postgres" : "pglite")

const parse = (text: string): unknown => {
  if (text.length === 0) return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const hash = (...parts: ReadonlyArray<string>) => createHash("sha256").update(parts.join("\0")).digest("hex")

/** The core's source, for the fingerprint of what the first boot writes. */
const coreSourceHash = (() => {
  let value: string | undefined
  return () => {
    if (value !== undefined) return value
    const root = Path.dirname(Bun.resolveSync("@streamspace/core", import.meta.dir))
    const files = [...new Bun.Glob("**/*.ts").scanSync(root)].sort()
    value = hash(...files.flatMap((f) => [f, Fs.readFileSync(Path.join(root, f), "utf8")]))
    return value
  }
})()

/** The migration runner's source: it also writes its bookkeeping table into the template. */
const migrationRunnerSource = () =>
  Fs.readFileSync(Path.join(Path.dirname(Bun.resolveSync("@streamspace/db", import.meta.dir)), "Migrations.ts"), "utf8")

/** initdb plus the core migrations: changes only with the migrations (and their runner). */
const migratedTemplate: TestDatabase.TestDatabaseOptions = {
  key: "core",
  prepare: Platform.migrateCore.pipe(Effect.asVoid),
  fingerprint: hash(
    CoreMigrations.table,
    migrationRunnerSource(),
    ...CoreMigrations.coreMigrations.flatMap((m) => [String(m.id), m.name, m.sql])
  )
}

/** …plus the first-boot admin with the kit's password (the argon2 hash every platform would otherwise compute). */
const bootstrappedTemplate = (config: ServerConfig.ServerConfigShape): TestDatabase.TestDatabaseOptions => ({
  key: "core-admin",
  from: migratedTemplate,
  prepare: Users.ensureAdmin.pipe(
    Effect.provide(
      Layer.mergeAll(UserRepo.UserRepoLive, EventOutbox.EventOutboxLive).pipe(
        Layer.provide(PrincipalCache.PrincipalCacheLive)
      )
    ),
    Effect.provide(ServerConfig.layer(config))
  ),
  fingerprint: hash(adminPassword, coreSourceHash())
})

/** Data directories of platforms not closed yet: removed when the process exits (a test that timed out never closes). */
const openDataDirs = new Set<string>()
process.on("exit", () => {
  for (const dir of openDataDirs) Fs.rmSync(dir, { recursive: true, force: true })
})

/** Rejects with the failure's own message (not a FiberFailure wrapper). */
const attempt = async <A, E>(
  runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>,
  effect: Effect.Effect<A, E, Platform.Services>
): Promise<A> => {
  const exit = await runtime.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  const error = failure._tag === "Some" ? failure.value : Cause.squash(exit.cause)
  throw error instanceof Error ? new Error(error.message, { cause: error }) : new Error(String(error))
}

export const make = async (options: TestPlatformOptions = {}): Promise<TestPlatform> => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamspace-test-"))
  openDataDirs.add(dataDir)
  const input = options.config ?? {}
  const clock = options.clock === "test" ? SimulatedClock.make(Date.now()) : undefined
  const config = ServerConfig.make({
    ...input,
    host: "127.0.0.1",
    port: input.port ?? 1,
    dataDir: input.dataDir ?? dataDir,
    log: input.log ?? { level: "warning", format: "json" },
    // In-process requests share one caller; suites that test limits turn it on.
    rateLimit: input.rateLimit ?? false,
    // Test peers listen on loopback: the egress policy lets them in through its allow-list, as an operator would.
    egress: input.egress ?? { allow: loopbackEgress },
    // The server's `auto` would pick real Xvnc desktops wherever Xvnc is installed; a test opts in with `runtime: "local"`.
    sessions: { runtime: "simulated", ...input.sessions },
    auth: {
      adminPassword,
      jwtSecret: "test-jwt-secret-0123456789abcdef",
      ...(clock ? { accessTokenTtlSeconds: testClockAccessTokenTtlSeconds } : {}),
      ...input.auth
    },
    secretsKey: input.secretsKey ?? "test-secrets-key-0123456789abcdef"
  })
  // A test with its own admin password gets a first boot of its own.
  const database = TestDatabase.layer(
    input.auth?.adminPassword === undefined ? bootstrappedTemplate(config) : migratedTemplate
  )
  const outgoing: Array<OutgoingHttp.CapturedRequest> = []
  let layer: Layer.Layer<Platform.Services, unknown> = Platform.make(
    config,
    database,
    options.plugins ?? [],
    OutgoingHttp.layer(outgoing),
    options.replace
  )
  if (options.layer) layer = Layer.provideMerge(options.layer, layer)
  if (clock) layer = layer.pipe(Layer.provideMerge(clock.layer))
  DesktopReaper.watch(config.dataDir)
  const runtime = ManagedRuntime.make(layer)
  try {
    await runtime.runtime()
  } catch (e) {
    await runtime.dispose().catch(() => undefined)
    DesktopReaper.reap(config.dataDir)
    Fs.rmSync(dataDir, { recursive: true, force: true })
    openDataDirs.delete(dataDir)
    throw e
  }
  const routes: ReadonlyArray<HttpRoute.Route<Platform.Services>> = [...Platform.routes, ...(options.routes ?? [])]
  const registry = await runtime.runPromise(RouteRegistry.RouteRegistry)
  const webConsole = options.webConsole ? await consoleAssets() : undefined
  const app = Server.makeApp(runtime, routes, config, "http://127.0.0.1", registry.table, webConsole)
  let url: string | undefined
  if (options.listen) {
    app.listen({ hostname: "127.0.0.1", port: 0 })
    url = `http://127.0.0.1:${app.server?.port}`
  }

  const http = async <T = unknown>(method: string, path: string, opts: HttpOptions = {}): Promise<TestResponse<T>> => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.token) headers["authorization"] = `Bearer ${opts.token}`
    let body: RequestInit["body"] | undefined = opts.raw
    if (body === undefined && opts.body !== undefined) {
      body = JSON.stringify(opts.body)
      headers["content-type"] ??= "application/json"
    }
    const res = await app.handle(
      new Request(`http://127.0.0.1${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(opts.signal ? { signal: opts.signal } : {})
      })
    )
    const text = await res.text()
    return { status: res.status, body: parse(text) as T, headers: res.headers, text }
  }

  const login = async (username: string, password: string) => {
    const res = await http<{ accessToken?: unknown } | null>("POST", "/api/auth/login", {
      body: { username, password }
    })
    const token = res.body?.accessToken
    if (res.status !== 200 || typeof token !== "string")
      throw new Error(`login as ${username} failed: ${res.status} ${res.text}`)
    return token
  }

  let adminToken: Promise<string> | undefined
  const makeUser: TestPlatform["makeUser"] = async (username, options = {}) => {
    const password = options.password ?? "quiet-lantern-orbit-7"
    const create = async () =>
      http<{ id?: string }>("POST", "/api/users", {
        token: options.adminToken ?? (await (adminToken ??= login("admin", adminPassword))),
        body: { username, password, roles: options.roles ?? ["user"] }
      })
    let res = await create()
    // The kept admin token expired (live clock) or was revoked: once more with a new one.
    if (res.status === 401 && options.adminToken === undefined) {
      adminToken = undefined
      res = await create()
    }
    if (res.status !== 201 || typeof res.body.id !== "string")
      throw new Error(`creating user ${username} failed: ${res.status} ${res.text}`)
    return { id: res.body.id, token: await login(username, password), password }
  }

  /**
   * After a clock stop: lets woken fibers run until, for two rounds in a
   * row, no timer was armed or fired and no job tick is in flight. A round
   * is a macrotask and a trivial statement (on PGlite it queues behind the
   * statements the woken work has issued). Work that takes longer than
   * `settleMs` of real time is left running.
   */
  const jobs = await runtime.runPromise(JobScheduler.JobScheduler)
  const statement = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(Effect.ignore)
  const settleMs = 5000
  const settle = async () => {
    if (!clock) return
    const until = Date.now() + settleMs
    for (let quiet = 0; quiet < 2 && Date.now() < until; ) {
      const before = clock.changes()
      await new Promise<void>((resolve) => setImmediate(resolve))
      // Bounded in real time (an Effect timeout would arm a timer on the very clock being watched).
      await Eventually.within(runtime.runPromise(statement), until - Date.now())
      quiet = clock.changes() === before && jobs.inFlight() === 0 ? quiet + 1 : 0
    }
  }

  const behind = Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql<{ plugin_id: string; name: string }>`
      SELECT s.plugin_id, s.name FROM plugin_subscriptions s JOIN plugins p ON p.id = s.plugin_id AND p.enabled
      WHERE EXISTS (SELECT 1 FROM events e WHERE (e.tx_id, e.position) > (s.tx_id, s.position)
                      AND (e.type = ANY(s.event_types) OR '*' = ANY(s.event_types)
                           OR EXISTS (SELECT 1 FROM unnest(s.event_types) AS t(pattern)
                                      WHERE right(t.pattern, 2) = '.*' AND starts_with(e.type, left(t.pattern, -1)))))
      ORDER BY 1, 2`
  )

  return {
    engine: engine(),
    config,
    adminPassword,
    runtime,
    app,
    url,
    http,
    login,
    makeUser,
    run: (effect) => runtime.runPromise(effect),
    query: <A extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
      runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(text, params))),
    eventually: (check, opts) => Eventually.eventually(check, opts),
    adjustClock: async (duration) => {
      if (!clock) throw new Error(`adjustClock needs TestPlatform.make({ clock: "test" })`)
      await clock.advance(duration, settle, jobs.waitingFor)
    },
    runJob: (plugin, job) =>
      attempt(
        runtime,
        Effect.gen(function* () {
          const state = yield* Effect.flatMap(PluginHost.PluginHost, (h) => h.get(plugin))
          if (state.status !== "enabled")
            return yield* Effect.fail(
              new Error(`plugin ${plugin} is ${state.status}, not enabled: its jobs do not run`)
            )
          return yield* Effect.flatMap(JobScheduler.JobScheduler, (j) => j.runNow(plugin, job))
        })
      ),
    outgoing,
    emit: (type, payload) =>
      runtime.runPromise(
        Effect.flatMap(EventOutbox.EventOutbox, (o) => o.publishRaw({ type, source: "test", payload, actorId: null }))
      ),
    awaitDelivered: async (timeoutMs = TestTimeouts.waitMs) => {
      await Eventually.eventually(
        async () => {
          const lagging = await runtime.runPromise(behind)
          if (lagging.length === 0) return true
          throw new Error(
            `events not delivered within ${timeoutMs} ms to: ${lagging.map((s) => `${s.plugin_id}/${s.name}`).join(", ")}`
          )
        },
        { timeoutMs, intervalMs: 20 }
      )
    },
    close: async () => {
      if (options.listen) await app.stop(true)
      const database = await runtime.runPromise(
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ db: string }>`SELECT current_database() AS db`)
      )
      await runtime.dispose()
      DesktopReaper.reap(config.dataDir)
      const serverUrl = process.env["TEST_DATABASE_URL"]
      if (serverUrl) await dropPluginRoles(serverUrl, database[0]!.db)
      Fs.rmSync(dataDir, { recursive: true, force: true })
      openDataDirs.delete(dataDir)
    }
  }
}
