/**
 * `bun run migrate` applies pending core migrations without serving;
 * `bun run migrate --status` lists applied and pending ones. Same config
 * sources as `bun start`.
 */
import { CoreMigrations } from "@streamspace/core"
import { Migrations } from "@streamspace/db"
import { Effect, Either } from "effect"
import * as ConfigSources from "../ConfigSources.ts"
import * as Platform from "../Platform.ts"

const statusOnly = process.argv.includes("--status")
const loaded = await Effect.runPromise(Effect.either(ConfigSources.load()))
if (Either.isLeft(loaded)) {
  for (const line of loaded.left.problems) console.error(`config error: ${line}`)
  process.exit(2)
}
const config = loaded.right
const options = { migrations: CoreMigrations.coreMigrations, table: CoreMigrations.table }
const program = statusOnly
  ? Effect.gen(function* () {
      const status = yield* Migrations.status(options)
      for (const m of status.applied) console.log(`applied  ${String(m.id).padStart(4, "0")}_${m.name}`)
      for (const m of status.pending) console.log(`pending  ${String(m.id).padStart(4, "0")}_${m.name}`)
      console.log(`${status.applied.length} applied, ${status.pending.length} pending`)
    })
  : Effect.gen(function* () {
      const applied = yield* Platform.migrateCore
      console.log(applied.length === 0 ? "nothing to migrate" : `applied ${applied.length} core migration(s)`)
    })
const exit = await Effect.runPromiseExit(program.pipe(Effect.provide(Platform.databaseLayer(config))))
if (exit._tag === "Failure") {
  console.error(`migration failed: ${String(exit.cause)}`)
  process.exit(1)
}
