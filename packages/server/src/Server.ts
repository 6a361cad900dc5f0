/**
 * Starts and stops the HTTP server around one ManagedRuntime. Start-up awaits
 * the runtime (config, database, migrations, core, plugins) before listening,
 * so a bad config or a failed migration stops the process before it serves.
 * Stopping takes at most `shutdownTimeoutMs`, whatever state the platform is
 * in: in-flight requests get most of it, closing the runtime the rest, and
 * what has not finished by then is abandoned. On embedded PGlite a watchdog
 * reports a database that has failed for good (its data directory gone, or
 * every statement failing) through `onFatal`, instead of serving errors.
 */
import { SqlClient } from "@effect/sql"
import type { HttpRoute, ServerConfig } from "@streamspace/core"
import { RouteRegistry, UiRegistry } from "@streamspace/kernel/host"
import { CoreMigrations } from "@streamspace/core"
import { Database } from "@streamspace/db"
import type { ConsoleAssets } from "@streamspace/web"
import { Cause, Effect, Exit, Layer, ManagedRuntime } from "effect"
import type { Elysia } from "elysia"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as ClientIp from "./ClientIp.ts"
import * as EventStream from "./EventStream.ts"
import * as HttpApp from "./HttpApp.ts"
import * as OpenApi from "./OpenApi.ts"
import type * as Platform from "./Platform.ts"
import * as Problem from "./Problem.ts"
import * as RateLimiter from "./RateLimiter.ts"
import * as VncProxy from "./VncProxy.ts"

export const version = "0.1.0"

export interface RunningServer {
  readonly url: string
  readonly app: Elysia
  readonly runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>
  /**
   * Stops accepting, lets in-flight requests finish, then disposes the
   * runtime, all within `shutdownTimeoutMs`; rejects when the deadline cut
   * it short.
   */
  readonly stop: () => Promise<void>
}

const readiness = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const expected = Math.max(...CoreMigrations.coreMigrations.map((m) => m.id))
  const rows = yield* sql<{
    id: number | string | null
  }>`SELECT max(migration_id) AS id FROM ${sql(CoreMigrations.table)}`
  const applied = Number(rows[0]?.id ?? 0)
  return {
    database: "ok",
    migrations: applied >= expected ? "ok" : `pending (at ${applied}, want ${expected})`,
    ready: applied >= expected
  }
})

export const makeApp = (
  runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>,
  routes: ReadonlyArray<HttpRoute.Route<Platform.Services>>,
  config: ServerConfig.ServerConfigShape,
  publicUrl: string,
  dynamic?: HttpRoute.RouteTable,
  webConsole?: ConsoleAssets.ConsoleAssets
) => {
  const allRoutes = () => [...routes, ...(dynamic?.routes() ?? [])] as ReadonlyArray<HttpRoute.Route<unknown>>
  // The console serves plugins' UI modules: `GET /api/ui/extensions` names their URLs.
  if (webConsole) runtime.runSync(UiRegistry.UiRegistry).useModules(webConsole.modules.resolve)
  return HttpApp.make<Platform.Services>({
    routes,
    runtime,
    ...(dynamic ? { dynamic } : {}),
    rateLimiter: runtime.runSync(RateLimiter.RateLimiter),
    clientIp: ClientIp.make(config.trustedProxies),
    ...(webConsole ? { fallback: webConsole.handle } : {}),
    extend: (app) => {
      app
        .get("/healthz", () => Response.json({ status: "ok" }))
        .get("/readyz", async () => {
          const exit = await runtime.runPromiseExit(readiness.pipe(Effect.timeout("5 seconds")))
          if (exit._tag === "Success" && exit.value.ready) return Response.json({ status: "ready", ...exit.value })
          const detail = exit._tag === "Success" ? `migrations ${exit.value.migrations}` : "database unreachable"
          return Problem.response(Problem.problem(503, "not_ready", detail))
        })
        .get("/api/openapi.json", () => Response.json(OpenApi.document(allRoutes(), { version, serverUrl: publicUrl })))
        .get(
          "/api/docs",
          () => new Response(OpenApi.docsPage, { headers: { "content-type": "text/html; charset=utf-8" } })
        )
      VncProxy.mount(app, runtime)
      EventStream.mount(app, runtime)
    }
  })
}

export interface StartOptions<E> {
  readonly config: ServerConfig.ServerConfigShape
  readonly layer: Layer.Layer<Platform.Services, E>
  readonly routes: ReadonlyArray<HttpRoute.Route<Platform.Services>>
  /** The web console served at `/` (none: the API only). */
  readonly webConsole?: ConsoleAssets.ConsoleAssets
  /** Called once when the embedded database has failed for good (the process should exit). */
  readonly onFatal?: (reason: string) => void
}

/** How often the embedded database is checked, and how many failed checks in a row are fatal. */
const WATCH_EVERY_MS = 1000
const FAILED_CHECKS = 3

/**
 * Checks the embedded database every second: its data directory must still
 * hold PG_VERSION, and a trivial statement must not fail three times in a
 * row (a statement that is merely slow is a busy database, not a broken
 * one). Returns the function that stops watching.
 */
export const watchEmbeddedDatabase = (
  config: ServerConfig.ServerConfigShape,
  runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>,
  onFatal: (reason: string) => void
): (() => void) => {
  const dir = Database.pgliteDataDir(config.dataDir)
  if (config.databaseUrl || dir === "memory://") return () => undefined
  const probe = Effect.flatMap(SqlClient.SqlClient, (sql) => sql`SELECT 1`).pipe(Effect.timeoutOption("5 seconds"))
  let failures = 0
  let checking = false
  let done = false
  const fatal = (reason: string) => {
    if (done) return
    done = true
    clearInterval(timer)
    onFatal(reason)
  }
  const timer = setInterval(() => {
    if (checking || done) return
    if (!Fs.existsSync(Path.join(dir, "PG_VERSION")))
      return fatal(`the embedded database's data directory ${dir} is gone`)
    checking = true
    runtime.runPromiseExit(probe).then(
      (exit) => {
        checking = false
        if (Exit.isSuccess(exit)) return void (failures = 0)
        if (++failures >= FAILED_CHECKS)
          fatal(`the embedded database in ${dir} fails every statement: ${Cause.pretty(exit.cause).split("\n")[0]}`)
      },
      () => (checking = false)
    )
  }, WATCH_EVERY_MS)
  timer.unref()
  return () => {
    done = true
    clearInterval(timer)
  }
}

/** Resolves true when `promise` settles within `ms`, false otherwise. */
const within = (promise: Promise<unknown>, ms: number) =>
  new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, ms))
    timer.unref()
    promise
      .then(
        () => resolve(true),
        () => resolve(true)
      )
      .finally(() => clearTimeout(timer))
  })

export const start = async <E>(options: StartOptions<E>): Promise<RunningServer> => {
  const { config } = options
  // A malformed trusted-proxy entry stops start-up before anything is built.
  ClientIp.make(config.trustedProxies)
  const runtime = ManagedRuntime.make(options.layer as Layer.Layer<Platform.Services, unknown>)
  try {
    await runtime.runtime()
  } catch (e) {
    await runtime.dispose().catch(() => undefined)
    throw e
  }
  const publicUrl = config.publicUrl ?? `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.port}`
  const registry = await runtime.runPromise(RouteRegistry.RouteRegistry)
  const app = makeApp(runtime, options.routes, config, publicUrl, registry.table, options.webConsole)
  app.listen({ hostname: config.host, port: config.port })
  const port = app.server?.port ?? config.port
  const url = config.publicUrl ?? `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`
  const unwatch = options.onFatal ? watchEmbeddedDatabase(config, runtime, options.onFatal) : () => undefined
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      unwatch()
      const deadline = Date.now() + config.shutdownTimeoutMs
      // Requests may use most of the time; closing the runtime (fibers, pools, PGlite) gets the rest.
      const reserve = Math.min(2000, config.shutdownTimeoutMs / 4)
      // Event streams never finish by themselves: end them so that waiting for requests can.
      EventStream.handleOf(app)?.close()
      if (!(await within(app.stop(false), deadline - reserve - Date.now()))) await within(app.stop(true), 500)
      const disposing = runtime.dispose()
      if (!(await within(disposing, deadline - Date.now()))) {
        throw new Error(
          `shutdown did not finish within shutdownTimeoutMs (${config.shutdownTimeoutMs} ms): resources still closing were abandoned`
        )
      }
      await disposing
    })())
  return { url, app, runtime, stop }
}
