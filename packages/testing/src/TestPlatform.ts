/**
 * A running platform for tests: the same Layer graph and HTTP app as the
 * server, on a fresh database (PGlite in memory, or a fresh database on
 * `TEST_DATABASE_URL`), with an in-process HTTP client, the bootstrap admin's
 * password, and optionally the test clock.
 *
 *     let p: TestPlatform.TestPlatform
 *     beforeAll(async () => { p = await TestPlatform.make() })
 *     afterAll(() => p.close())
 *     const token = await p.login("admin", p.adminPassword)
 *     const res = await p.http("GET", "/api/auth/me", { token })
 */
import { SqlClient } from "@effect/sql"
import { EventOutbox, type HttpRoute, ServerConfig } from "@streamspace/core"
import { type PluginDefinition, RouteRegistry } from "@streamspace/kernel"
import { SQL } from "bun"
import { TestDatabase } from "@streamspace/db"
import { Platform, Server } from "@streamspace/server"
import { Chunk, type Duration, Effect, Layer, ManagedRuntime, TestClock, TestContext, TestServices } from "effect"
import type { Elysia } from "elysia"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as OutgoingHttp from "./OutgoingHttp.ts"
import * as ServerDatabase from "./ServerDatabase.ts"

export interface TestPlatformOptions {
  /** Partial server config merged over the test defaults. */
  readonly config?: ServerConfig.ServerConfigInput
  /** Extra services built on top of the platform (they may use its services). */
  readonly layer?: Layer.Layer<never, unknown, Platform.Services>
  /** Extra routes mounted next to the core routes. */
  readonly routes?: ReadonlyArray<HttpRoute.Route<Platform.Services>>
  /**
   * `"test"`: Effect's TestClock drives every Clock/sleep/Schedule in the
   * platform (start at the real current time); move it with `adjustClock`.
   * Default `"live"`.
   */
  readonly clock?: "live" | "test"
  /** Plugins available to the host (installed and enabled through the admin API or `config.plugins.enabled`). */
  readonly plugins?: ReadonlyArray<PluginDefinition>
  /** Also listen on 127.0.0.1 (random port) for clients that need a socket (WebSocket, child processes). */
  readonly listen?: boolean
}

export interface HttpOptions {
  readonly body?: unknown
  readonly token?: string
  readonly headers?: Record<string, string>
  /** Send this exact body (e.g. a stream or bytes) instead of JSON. */
  readonly raw?: RequestInit["body"]
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
  readonly run: <A, E>(effect: Effect.Effect<A, E, Platform.Services>) => Promise<A>
  /**
   * Polls `check` (real time) until it returns something other than
   * undefined/false, for effects that land in background fibers.
   */
  readonly eventually: <A>(check: () => Promise<A | undefined | false>, timeoutMs?: number) => Promise<A>
  /** Runs one SQL statement as the platform's own database user (for looking behind the API). */
  readonly query: <A extends object = Record<string, unknown>>(text: string, params?: ReadonlyArray<unknown>) => Promise<ReadonlyArray<A>>
  /** Publishes an event into the outbox, as the core or a plugin would. */
  readonly emit: (type: string, payload: unknown) => Promise<string>
  /** Resolves when every subscription of an enabled plugin has caught up with the outbox. */
  readonly awaitDelivered: (timeoutMs?: number) => Promise<void>
  /** Moves the test clock (only with `clock: "test"`). */
  readonly adjustClock: (duration: Duration.DurationInput) => Promise<void>
  /** Every HTTP request the platform sent (webhooks, plugins), in order, with its response status. */
  readonly outgoing: ReadonlyArray<OutgoingHttp.CapturedRequest>
  readonly close: () => Promise<void>
}

export const adminPassword = "admin-test-password-1"

/** Plugin roles are cluster-wide on PostgreSQL and outlive the test database: drop this database's. */
const dropPluginRoles = async (serverUrl: string, database: string) => {
  const admin = new SQL(serverUrl)
  try {
    await ServerDatabase.dropPluginRoles(admin, database)
  } finally {
    await admin.close()
  }
}

const testClockLayer = () =>
  TestClock.live(TestClock.makeData(Date.now(), Chunk.empty())).pipe(
    Layer.provideMerge(Layer.merge(TestServices.liveLayer(), TestServices.annotationsLayer())),
    Layer.provide(TestContext.LiveContext)
  )

export const engine = (): "pglite" | "postgres" => (process.env["TEST_DATABASE_URL"] ? "postgres" : "pglite")

const parse = (text: string): unknown => {
  if (text.length === 0) return null
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

export const make = async (options: TestPlatformOptions = {}): Promise<TestPlatform> => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamspace-test-"))
  const input = options.config ?? {}
  const config = ServerConfig.make({
    ...input,
    host: "127.0.0.1",
    port: input.port ?? 1,
    dataDir: input.dataDir ?? dataDir,
    log: input.log ?? { level: "warning", format: "json" },
    // In-process requests share one caller; suites that test limits turn it on.
    rateLimit: input.rateLimit ?? false,
    auth: { adminPassword: adminPassword, jwtSecret: "test-jwt-secret-0123456789abcdef", ...input.auth },
    secretsKey: input.secretsKey ?? "test-secrets-key-0123456789abcdef"
  })
  const database = TestDatabase.layer({ key: "core", prepare: Platform.migrateCore.pipe(Effect.asVoid) })
  const outgoing: Array<OutgoingHttp.CapturedRequest> = []
  let layer: Layer.Layer<Platform.Services, unknown> = Platform.make(config, database, options.plugins ?? [], OutgoingHttp.layer(outgoing))
  if (options.layer) layer = Layer.provideMerge(options.layer, layer)
  if (options.clock === "test") layer = layer.pipe(Layer.provideMerge(testClockLayer()))
  const runtime = ManagedRuntime.make(layer)
  await runtime.runtime()
  const routes: ReadonlyArray<HttpRoute.Route<Platform.Services>> = [...Platform.routes, ...(options.routes ?? [])]
  const registry = await runtime.runPromise(RouteRegistry.RouteRegistry)
  const app = Server.makeApp(runtime, routes, config, "http://127.0.0.1", registry.table)
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
    const res = await app.handle(new Request(`http://127.0.0.1${path}`, { method, headers, ...(body === undefined ? {} : { body }) }))
    const text = await res.text()
    return { status: res.status, body: parse(text) as T, headers: res.headers, text }
  }

  const login = async (username: string, password: string) => {
    const res = await http<{ accessToken?: unknown } | null>("POST", "/api/auth/login", { body: { username, password } })
    const token = res.body?.accessToken
    if (res.status !== 200 || typeof token !== "string") throw new Error(`login as ${username} failed: ${res.status} ${res.text}`)
    return token
  }

  return {
    engine: engine(),
    config,
    adminPassword,
    runtime,
    app,
    url,
    http,
    login,
    run: (effect) => runtime.runPromise(effect),
    query: <A extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
      runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(text, params))),
    eventually: async <A>(check: () => Promise<A | undefined | false>, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const value = await check()
        if (value !== undefined && value !== false) return value
        if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`)
        await Bun.sleep(20)
      }
    },
    adjustClock: (duration) => runtime.runPromise(TestClock.adjust(duration)),
    outgoing,
    emit: (type, payload) =>
      runtime.runPromise(Effect.flatMap(EventOutbox.EventOutbox, (o) => o.publishRaw({ type, source: "test", payload, actorId: null }))),
    awaitDelivered: async (timeoutMs = 10_000) => {
      const behind = Effect.flatMap(SqlClient.SqlClient, (sql) =>
        sql<{ n: string }>`
          SELECT count(*) AS n FROM plugin_subscriptions s JOIN plugins p ON p.id = s.plugin_id AND p.enabled
          WHERE EXISTS (SELECT 1 FROM events e WHERE (e.tx_id, e.position) > (s.tx_id, s.position)
                          AND (e.type = ANY(s.event_types) OR '*' = ANY(s.event_types)))`)
      const deadline = Date.now() + timeoutMs
      while ((await runtime.runPromise(behind))[0]?.n !== "0") {
        if (Date.now() > deadline) throw new Error(`events not delivered within ${timeoutMs} ms`)
        await Bun.sleep(20)
      }
    },
    close: async () => {
      if (options.listen) await app.stop(true)
      const database = await runtime.runPromise(Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ db: string }>`SELECT current_database() AS db`))
      await runtime.dispose()
      const serverUrl = process.env["TEST_DATABASE_URL"]
      if (serverUrl) await dropPluginRoles(serverUrl, database[0]!.db)
      Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

