/**
 * Starts and stops the HTTP server around one ManagedRuntime. Start-up awaits
 * the runtime (config, database, migrations, core, plugins) before listening,
 * so a bad config or a failed migration stops the process before it serves.
 */
import { SqlClient } from "@effect/sql"
import type { HttpRoute, ServerConfig } from "@streamspace/core"
import { RouteRegistry } from "@streamspace/kernel"
import { CoreMigrations } from "@streamspace/core"
import { Effect, Layer, ManagedRuntime } from "effect"
import type { Elysia } from "elysia"
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
  /** Stops accepting, lets in-flight requests finish up to the deadline, then disposes the runtime. */
  readonly stop: () => Promise<void>
}

const readiness = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const expected = Math.max(...CoreMigrations.coreMigrations.map((m) => m.id))
  const rows = yield* sql<{ id: number | string | null }>`SELECT max(migration_id) AS id FROM ${sql(CoreMigrations.table)}`
  const applied = Number(rows[0]?.id ?? 0)
  return { database: "ok", migrations: applied >= expected ? "ok" : `pending (at ${applied}, want ${expected})`, ready: applied >= expected }
})

export const makeApp = (
  runtime: ManagedRuntime.ManagedRuntime<Platform.Services, unknown>,
  routes: ReadonlyArray<HttpRoute.Route<Platform.Services>>,
  config: ServerConfig.ServerConfigShape,
  publicUrl: string,
  dynamic?: HttpRoute.RouteTable
) => {
  const allRoutes = () => [...routes, ...(dynamic?.routes() ?? [])] as ReadonlyArray<HttpRoute.Route<unknown>>
  return HttpApp.make<Platform.Services>({
    routes,
    runtime,
    ...(dynamic ? { dynamic } : {}),
    rateLimiter: RateLimiter.make(config.rateLimit),
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
        .get("/api/docs", () => new Response(OpenApi.docsPage, { headers: { "content-type": "text/html; charset=utf-8" } }))
      VncProxy.mount(app, runtime)
    }
  })
}

export interface StartOptions<E> {
  readonly config: ServerConfig.ServerConfigShape
  readonly layer: Layer.Layer<Platform.Services, E>
  readonly routes: ReadonlyArray<HttpRoute.Route<Platform.Services>>
}

export const start = async <E>(options: StartOptions<E>): Promise<RunningServer> => {
  const { config } = options
  const runtime = ManagedRuntime.make(options.layer as Layer.Layer<Platform.Services, unknown>)
  try {
    await runtime.runtime()
  } catch (e) {
    await runtime.dispose().catch(() => undefined)
    throw e
  }
  const publicUrl = config.publicUrl ?? `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${config.port}`
  const registry = await runtime.runPromise(RouteRegistry.RouteRegistry)
  const app = makeApp(runtime, options.routes, config, publicUrl, registry.table)
  app.listen({ hostname: config.host, port: config.port })
  const port = app.server?.port ?? config.port
  const url = config.publicUrl ?? `http://${config.host === "0.0.0.0" ? "127.0.0.1" : config.host}:${port}`
  let stopping: Promise<void> | undefined
  const stop = () =>
    (stopping ??= (async () => {
      const graceful = app.stop(false).then(() => true)
      const deadline = new Promise<false>((resolve) => setTimeout(() => resolve(false), config.shutdownTimeoutMs).unref())
      if (!(await Promise.race([graceful, deadline]))) await app.stop(true).catch(() => undefined)
      await runtime.dispose()
    })())
  return { url, app, runtime, stop }
}
