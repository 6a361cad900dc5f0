/**
 * `bun start`: read config, compose the platform, serve, and shut down
 * gracefully on SIGINT/SIGTERM. Invalid config exits 2, one line per problem.
 */
import * as Editions from "@streamspace/editions"
import { PluginLoader } from "@streamspace/kernel"
import { Effect, Either } from "effect"
import * as ConfigSources from "./ConfigSources.ts"
import * as Platform from "./Platform.ts"
import * as Server from "./Server.ts"

const main = async () => {
  const loaded = await Effect.runPromise(Effect.either(ConfigSources.load()))
  if (Either.isLeft(loaded)) {
    for (const line of loaded.left.problems) console.error(`config error: ${line}`)
    process.exit(2)
  }
  const config = loaded.right
  let server: Server.RunningServer
  try {
    const external = config.plugins.dir ? await PluginLoader.loadDirectory(config.plugins.dir) : []
    server = await Server.start({
      config,
      layer: Platform.make(config, Platform.databaseLayer(config), [...Editions.selected(), ...external]),
      routes: Platform.routes
    })
  } catch (e) {
    console.error(`startup failed: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  }
  console.log(`StreamSpace listening on ${server.url} (database: ${config.databaseUrl ? "PostgreSQL" : `embedded PGlite in ${config.dataDir}`})`)
  const shutdown = (signal: string) => {
    console.log(`${signal} received, shutting down`)
    server.stop().then(
      () => process.exit(0),
      (e) => {
        console.error(`shutdown failed: ${String(e)}`)
        process.exit(1)
      }
    )
  }
  process.once("SIGINT", () => shutdown("SIGINT"))
  process.once("SIGTERM", () => shutdown("SIGTERM"))
}

void main()
