/**
 * `bun start`: read config, compose the platform, serve, and shut down
 * gracefully on SIGINT/SIGTERM. Invalid config exits 2, one line per problem.
 *
 * Shutdown has a hard deadline: whatever the platform is doing, the process
 * exits within `shutdownTimeoutMs` of the signal (0 when everything closed,
 * 1 when the deadline cut it short); a second signal exits at once. When
 * the embedded database fails for good (its data directory removed, PGlite
 * aborted) the process prints one `fatal:` line and exits 1 rather than
 * answering every request with an error. With `STREAMSPACE_PARENT_PID` set
 * (the test kit sets it) the server also exits when that process is no
 * longer its parent, so a killed test run leaves no server behind.
 *
 * The web console: from source it is built (or found up to date) in
 * packages/web/dist; an edition executable (`bun run build:edition`) has it
 * embedded and passes it to `main` from its generated entry, since there is
 * no source tree to build from. External plugins' UI modules are bundled
 * when they are loaded.
 *
 * Which plugins the process carries is passed in: from source, the
 * `@streamspace/editions` list (imported only here, at `bun start`); from an
 * edition executable, the generated entry imports just that edition's
 * plugins, so a `core` build holds none of them.
 *
 * `healthcheck` (`<executable> healthcheck`, `bun …/main.ts healthcheck`):
 * exits 0 when this server answers `/readyz` with 200, 1 otherwise — for a
 * container `HEALTHCHECK` in an image that has no curl.
 */
import { ConsoleAssets, ConsoleBuild } from "@streamspace/web"
import type { PluginDefinition } from "@streamspace/kernel/host"
import { ClusterConnect, PluginLoader } from "@streamspace/kernel/host"
import { PlatformHttp } from "@streamspace/core"
import { Effect, Either, Layer } from "effect"
import * as ConfigSources from "./ConfigSources.ts"
import * as Platform from "./Platform.ts"
import * as Server from "./Server.ts"

/** Exits within `ms` even if nothing else gets to run: the timer is the last word. */
const exitBy = (ms: number, code: number, message?: string) => {
  setTimeout(
    () => {
      if (message) console.error(message)
      process.exit(code)
    },
    Math.max(0, ms)
  )
}

/** Calls `onGone` once `pid` is no longer this process's parent (it died, and the process was re-parented). */
const watchParent = (pid: number, onGone: () => void) => {
  const timer = setInterval(() => {
    if (process.ppid === pid) return
    clearInterval(timer)
    onGone()
  }, 500)
  timer.unref()
}

/** A console built ahead of time and embedded in the executable: its manifest and its files by path. */
export interface EmbeddedConsole {
  readonly manifest: ConsoleBuild.ConsoleManifest
  readonly files: Readonly<Record<string, Blob>>
}

const webConsoleOf = async (
  embedded: EmbeddedConsole | undefined,
  external: ReadonlyArray<PluginDefinition>
): Promise<ConsoleAssets.ConsoleAssets> => {
  const webConsole = embedded
    ? ConsoleAssets.make(embedded.manifest, ConsoleAssets.embeddedSource(embedded.files))
    : ConsoleAssets.make(await ConsoleBuild.ensureBuilt(), ConsoleAssets.directorySource(ConsoleBuild.defaultOutDir))
  // A broken UI module does not stop the server: the console shows the error where the page would be.
  await webConsole.modules
    .prepare(external.map((p) => ({ id: p.id, root: p.root })))
    .catch((e: unknown) => console.error(`plugin UI: ${e instanceof Error ? e.message : String(e)}`))
  return webConsole
}

/** The edition this process runs as, and the plugin modules it carries. */
export interface Edition {
  readonly name: string
  readonly plugins: ReadonlyArray<PluginDefinition>
}

export const main = async (edition: Edition, embedded?: EmbeddedConsole) => {
  // Until the server runs, a vanished parent just ends the process; afterwards it shuts down like a signal.
  let onParentGone = (): void => process.exit(1)
  const parent = Number(process.env["STREAMSPACE_PARENT_PID"])
  if (Number.isInteger(parent) && parent > 0) watchParent(parent, () => onParentGone())
  const loaded = await Effect.runPromise(Effect.either(ConfigSources.load()))
  if (Either.isLeft(loaded)) {
    for (const line of loaded.left.problems) console.error(`config error: ${line}`)
    process.exit(2)
  }
  const config = loaded.right
  let server: Server.RunningServer | undefined
  let failed: string | undefined
  const fatal = (reason: string) => {
    if (failed !== undefined) return
    failed = reason
    console.error(`fatal: ${reason}; exiting`)
    // Nothing can be flushed to a database that is gone: stop serving and leave.
    void server?.app.stop(true).catch(() => undefined)
    exitBy(0, 1)
  }
  try {
    const external = config.plugins.dir ? await PluginLoader.loadDirectory(config.plugins.dir) : []
    server = await Server.start({
      config,
      webConsole: await webConsoleOf(embedded, external),
      layer: Platform.make(config, Platform.databaseLayer(config), [...edition.plugins, ...external]).pipe(
        Layer.provideMerge(Layer.succeed(PlatformHttp.PlatformInfo, { edition: edition.name, version: Server.version }))
      ),
      routes: Platform.routes,
      onFatal: fatal
    })
  } catch (e) {
    console.error(`startup failed: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  }
  const running = server
  console.log(
    `StreamSpace listening on ${running.url} (database: ${config.databaseUrl ? "PostgreSQL" : `embedded PGlite in ${config.dataDir}`})`
  )
  // The startup report: plugin roles that can reach other databases of the cluster (PostgreSQL).
  await running.runtime.runPromise(ClusterConnect.report)
  let shuttingDown = false
  const shutdown = (why: string) => {
    if (failed !== undefined) return
    if (shuttingDown) {
      console.error(`${why} again: exiting now`)
      process.exit(1)
    }
    shuttingDown = true
    console.log(`${why}, shutting down`)
    exitBy(
      config.shutdownTimeoutMs,
      1,
      `shutdown did not finish within shutdownTimeoutMs (${config.shutdownTimeoutMs} ms); exiting`
    )
    running.stop().then(
      () => process.exit(0),
      (e) => {
        console.error(`shutdown failed: ${e instanceof Error ? e.message : String(e)}`)
        process.exit(1)
      }
    )
  }
  process.on("SIGINT", () => shutdown("SIGINT received"))
  process.on("SIGTERM", () => shutdown("SIGTERM received"))
  onParentGone = () => shutdown(`parent process ${parent} is gone`)
}

/** Asks this server's own `/readyz` (its configured port, on loopback) and exits 0 on 200, 1 otherwise. */
export const healthcheck = async (): Promise<never> => {
  const loaded = await Effect.runPromise(Effect.either(ConfigSources.load()))
  if (Either.isLeft(loaded)) {
    for (const line of loaded.left.problems) console.error(`config error: ${line}`)
    process.exit(2)
  }
  const host = ["0.0.0.0", "::", ""].includes(loaded.right.host) ? "127.0.0.1" : loaded.right.host
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${loaded.right.port}/readyz`
  const status = await fetch(url, { signal: AbortSignal.timeout(5000) }).then(
    (res) => res.status,
    (e: unknown) => `${e instanceof Error ? e.message : String(e)}`
  )
  if (status === 200) process.exit(0)
  console.error(`healthcheck: ${url} answered ${status}`)
  process.exit(1)
}

if (import.meta.main) {
  if (process.argv[2] === "healthcheck") void healthcheck()
  else {
    const Editions = await import("@streamspace/editions")
    void main({ name: Editions.selectedName(), plugins: Editions.selected() })
  }
}
