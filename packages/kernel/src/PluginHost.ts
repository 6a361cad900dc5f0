/**
 * The plugin host. It knows the plugins of the running edition, and runs
 * their lifecycle with every step persisted in `plugins`:
 *
 * - install: a database role and schema `plugin_<id>` owned by it, the
 *   plugin's key-value table and migrations (run as that role), its
 *   permissions registered;
 * - enable: the plugin's layer built in a Scope of its own, with only the
 *   plugin-scoped services; disable closes that Scope (routes, subscriptions,
 *   jobs, hooks and UI entries go with it);
 * - configure: validated by the plugin's Schema, stored, layer rebuilt;
 * - uninstall: disabled, schema and role dropped unless `keepData`.
 *
 * Dependencies are enabled first and checked by version range; a plugin
 * that fails to enable is marked failed with its error while the rest of
 * the platform keeps running.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { HttpClient } from "@effect/platform"
import { Conflict, Directory, EventOutbox, type IntegrationDeliveries, type IntegrationDispatcher, type Integrations, NotFound, Permissions, SecretBox, ServerConfig, Timestamps, ValidationError } from "@streamspace/core"
import { Database, Migrations, PgliteClient } from "@streamspace/db"
import { Clock, Context, Duration, Effect, Exit, Layer, Option, ParseResult, Schema, Scope } from "effect"
import { randomBytes } from "node:crypto"
import { EventDelivery } from "./EventDelivery.ts"
import { PluginFailed } from "./PluginErrors.ts"
import { Events } from "./Events.ts"
import { HookRegistry } from "./HookRegistry.ts"
import { IntegrationProvider } from "./IntegrationProvider.ts"
import * as IntegrationProviderLive from "./internal/IntegrationProviderLive.ts"
import { Hooks } from "./Hooks.ts"
import { JobScheduler } from "./JobScheduler.ts"
import * as Semver from "./internal/Semver.ts"
import * as Manifest from "./Manifest.ts"
import type { PluginDefinition, PluginServices } from "./Plugin.ts"
import { normalize, secretKeys } from "./internal/ConfigSchema.ts"
import { PluginConfig, PluginInfo } from "./PluginContext.ts"
import { PluginCallError, Plugins, PluginUnavailable } from "./Plugins.ts"
import { PluginSql } from "./PluginSql.ts"
import { PluginStorage } from "./PluginStorage.ts"
import { RouteRegistry } from "./RouteRegistry.ts"
import { Routes } from "./Routes.ts"
import { Scheduler } from "./Scheduler.ts"
import { Ui } from "./Ui.ts"
import { UiRegistry } from "./UiRegistry.ts"

const { now } = Timestamps

export { PluginFailed }

export type PluginStatus = "available" | "installed" | "enabled" | "disabled" | "failed"

export interface PluginState {
  readonly id: string
  readonly name: string
  readonly version: string
  readonly installedVersion: string | null
  readonly type: string
  readonly category: string
  readonly description: string
  readonly status: PluginStatus
  readonly lastError: string | null
  readonly dependsOn: ReadonlyArray<{ readonly id: string; readonly version: string }>
  readonly hookFailures: number
}

export interface StartupEntry {
  readonly plugin: string
  readonly ms: number
  readonly outcome: "enabled" | "failed"
  readonly error: string | null
}

type HostError = NotFound | Conflict | ValidationError | PluginFailed | SqlError

export class PluginHost extends Context.Tag("@streamspace/kernel/PluginHost")<PluginHost, {
  readonly list: Effect.Effect<ReadonlyArray<PluginState>, SqlError>
  readonly get: (id: string) => Effect.Effect<PluginState, NotFound | SqlError>
  readonly install: (id: string) => Effect.Effect<PluginState, HostError>
  readonly enable: (id: string) => Effect.Effect<PluginState, HostError>
  readonly disable: (id: string, force?: boolean) => Effect.Effect<PluginState, HostError>
  readonly configure: (id: string, input: unknown) => Effect.Effect<PluginState, HostError>
  readonly config: (id: string) => Effect.Effect<{ readonly value: unknown; readonly schema: unknown }, NotFound | SqlError>
  readonly uninstall: (id: string, options: { readonly keepData: boolean; readonly force?: boolean }) => Effect.Effect<void, HostError>
  readonly startup: () => ReadonlyArray<StartupEntry>
  readonly isEnabled: (id: string) => boolean
}>() {}

interface Row {
  readonly id: string
  readonly version: string
  readonly enabled: boolean
  readonly status: "installed" | "enabled" | "disabled" | "failed"
  readonly last_error: string | null
  readonly config: Record<string, unknown>
  readonly secrets: string | null
  readonly role_password: string
}

interface Running {
  readonly def: PluginDefinition
  readonly scope: Scope.CloseableScope
  readonly context: Context.Context<PluginServices>
}

const { MASK } = SecretBox

const defaultConfig = (def: PluginDefinition) =>
  def.config ? Schema.encodeSync(def.config as Schema.Schema<unknown, unknown>)(Schema.decodeUnknownSync(def.config as Schema.Schema<unknown, unknown>)({})) : {}

export const layer = (catalog: ReadonlyArray<PluginDefinition>) =>
  Layer.scoped(
    PluginHost,
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const dbInfo = yield* Database.DatabaseInfo
      const dbLayer = Layer.succeed(Database.DatabaseInfo, dbInfo)
      const pglite = yield* Effect.serviceOption(PgliteClient.PgliteClient)
      const box = yield* SecretBox.SecretBox
      const permissions = yield* Permissions.Permissions
      const outbox = yield* EventOutbox.EventOutbox
      const routes = yield* RouteRegistry
      const ui = yield* UiRegistry
      const hooks = yield* HookRegistry
      const delivery = yield* EventDelivery
      const jobs = yield* JobScheduler
      const serverConfig = yield* ServerConfig.ServerConfig
      /** Core services that plugins reach through plugin-scoped or read-only interfaces. */
      const coreContext = yield* Effect.context<
        Integrations.Integrations | IntegrationDeliveries.IntegrationDeliveries | IntegrationDispatcher.IntegrationDispatcher | Directory.Directory | HttpClient.HttpClient
      >()
      const available = new Map(catalog.map((d) => [d.id, d]))
      const running = new Map<string, Running>()
      const report: Array<StartupEntry> = []
      const database = (yield* sql<{ db: string }>`SELECT current_database() AS db`)[0]!.db

      for (const def of catalog) {
        const problems = Manifest.validate(def)
        if (problems.length > 0) return yield* Effect.dieMessage(`invalid plugin manifest: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`)
      }
      yield* routes.setKnown([...available.keys()])

      const row = (id: string) => Effect.map(sql<Row>`SELECT * FROM plugins WHERE id = ${id}`, (rows) => Option.fromNullable(rows[0]))
      const definition = (id: string) =>
        Option.match(Option.fromNullable(available.get(id)), {
          onNone: () => Effect.fail(new NotFound({ resource: "plugin", id })),
          onSome: Effect.succeed
        })
      const fullConfig = (r: Row) => ({ ...r.config, ...(r.secrets ? (JSON.parse(box.open(r.secrets)) as Record<string, unknown>) : {}) })
      /** Splits an encoded config into the plain part and the sealed secrets. */
      const storeConfig = (def: PluginDefinition, encoded: Record<string, unknown>) => {
        const keys = secretKeys(def.config)
        const plain = Object.fromEntries(Object.entries(encoded).filter(([k]) => !keys.includes(k)))
        const secrets = Object.fromEntries(Object.entries(encoded).filter(([k]) => keys.includes(k) && encoded[k] !== undefined))
        return { config: JSON.stringify(plain), secrets: Object.keys(secrets).length > 0 ? box.seal(JSON.stringify(secrets)) : null }
      }
      const installed = (id: string) =>
        Effect.flatMap(row(id), Option.match({ onNone: () => Effect.fail(new NotFound({ resource: "installed plugin", id, detail: `plugin ${id} is not installed` })), onSome: Effect.succeed }))
      const setStatus = (id: string, status: Row["status"], enabled: boolean, error: string | null) =>
        Effect.flatMap(now, (at) =>
          sql`UPDATE plugins SET status = ${status}, enabled = ${enabled}, last_error = ${error}, updated_at = ${at}
            WHERE id = ${id} AND (status, enabled, last_error) IS DISTINCT FROM (${status}, ${enabled}, ${error}::text)`)

      const stateOf = (def: PluginDefinition, r: Option.Option<Row>): PluginState => ({
        id: def.id,
        name: def.name,
        version: def.version,
        installedVersion: Option.match(r, { onNone: () => null, onSome: (x) => x.version }),
        type: def.type,
        category: def.category,
        description: def.description ?? "",
        status: Option.match(r, { onNone: () => "available" as const, onSome: (x) => (running.has(def.id) ? "enabled" as const : x.status === "enabled" ? "failed" as const : x.status) }),
        lastError: Option.match(r, { onNone: () => null, onSome: (x) => x.last_error }),
        dependsOn: def.dependsOn ?? [],
        hookFailures: hooks.failures(def.id)
      })
      const state = (id: string) => Effect.flatMap(definition(id), (def) => Effect.map(row(id), (r) => stateOf(def, r)))

      const session = (id: string, password: string): Database.RoleSession => ({
        role: Manifest.roleOf(id, database),
        password,
        searchPath: Manifest.schemaOf(id)
      })
      const roleClient = (s: Database.RoleSession) => {
        const client = Database.roleClient(s).pipe(Effect.provide(dbLayer))
        return Option.isSome(pglite) ? Effect.provideService(client, PgliteClient.PgliteClient, pglite.value) : client
      }

      const pluginSqlContext = (id: string, password: string, scope: Scope.Scope) =>
        Effect.gen(function*() {
          const client = yield* roleClient(session(id, password)).pipe(Scope.extend(scope))
          const storage: PluginStorage["Type"] = {
            get: (key) => Effect.map(client<{ value: unknown }>`SELECT value FROM kv WHERE key = ${key}`, (rows) => Option.fromNullable(rows[0]?.value)),
            set: (key, value) => client`INSERT INTO kv (key, value) VALUES (${key}, ${JSON.stringify(value)}) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`.pipe(Effect.asVoid),
            delete: (key) => client`DELETE FROM kv WHERE key = ${key}`.pipe(Effect.asVoid),
            list: (prefix) => client<{ key: string; value: unknown }>`SELECT key, value FROM kv WHERE key LIKE ${`${prefix.replace(/[%_\\]/g, "\\$&")}%`} ORDER BY key`
          }
          return { client, storage }
        })

      const pluginsService = (self: string): Plugins["Type"] => ({
        get: (id) =>
          Effect.gen(function*() {
            const def = available.get(id)
            if (!def) return yield* new PluginUnavailable({ plugin: id, reason: "unknown" })
            const r = yield* row(id).pipe(Effect.orDie)
            if (Option.isNone(r)) return yield* new PluginUnavailable({ plugin: id, reason: "not_installed" })
            return { id, version: r.value.version, enabled: running.has(id) }
          }),
        isEnabled: (id) => Effect.sync(() => running.has(id)),
        call: (id, method, input) =>
          Effect.gen(function*() {
            const target = running.get(id)
            if (!target) return yield* new PluginUnavailable({ plugin: id, reason: available.has(id) ? "disabled" : "unknown" })
            const m = target.def.methods?.[method]
            if (!m) return yield* new PluginCallError({ plugin: id, method, message: `plugin ${id} has no method ${method}` })
            return yield* m.call(input).pipe(
              Effect.provide(target.context),
              Effect.mapError((e) => new PluginCallError({ plugin: id, method, message: e instanceof ParseResult.ParseError ? e.message : String(e) })),
              Effect.annotateLogs({ caller: self })
            )
          })
      })

      const build = (def: PluginDefinition, r: Row) =>
        Effect.gen(function*() {
          const scope = yield* Scope.make()
          const exit = yield* Effect.exit(Effect.gen(function*() {
            const { client, storage } = yield* pluginSqlContext(def.id, box.open(r.role_password), scope)
            const id = def.id
            const context = Context.empty().pipe(
              Context.add(PluginInfo, { id, version: def.version }),
              Context.add(PluginConfig, fullConfig(r)),
              Context.add(PluginSql, client),
              Context.add(PluginStorage, storage),
              Context.add(Routes, { add: (route) => routes.add(id, route) }),
              Context.add(Ui, { add: (ext) => ui.add(id, ext) }),
              Context.add(Events, {
                subscribe: (options, handler) => delivery.subscribe(id, options, handler),
                subscribeBatch: (options, handler) => delivery.subscribeBatch(id, options, handler),
                publish: (type, schema, payload) =>
                  Effect.gen(function*() {
                    if (!type.startsWith(`${id}.`)) return yield* Effect.dieMessage(`plugin ${id} may publish only ${id}.* events, not ${type}`)
                    const encoded = yield* Schema.encode(schema)(payload).pipe(Effect.orDie)
                    return yield* outbox.publishRaw({ type, source: id, payload: encoded, actorId: null }).pipe(Effect.orDie)
                  })
              }),
              Context.add(Hooks, { intercept: (point, handler, options) => hooks.add(id, point, handler, { order: options?.order ?? 100, timeoutMs: options?.timeoutMs ?? 2000 }) }),
              Context.add(Scheduler, { schedule: (name, schedule, job) => jobs.schedule(id, name, schedule, job) }),
              Context.add(Plugins, pluginsService(id)),
              Context.add(IntegrationProvider, yield* IntegrationProviderLive.make(id).pipe(Effect.provide(coreContext))),
              Context.add(Directory.Directory, Context.get(coreContext, Directory.Directory)),
              Context.add(HttpClient.HttpClient, Context.get(coreContext, HttpClient.HttpClient))
            )
            for (const ext of def.ui ?? []) yield* ui.add(id, ext).pipe(Scope.extend(scope))
            yield* Layer.buildWithScope(def.layer, scope).pipe(
              Effect.provide(context),
              Effect.annotateLogs({ plugin: id }),
              Effect.timeoutFail({
                duration: Duration.millis(def.enable?.timeoutMs ?? serverConfig.plugins.enableTimeoutMs),
                onTimeout: () => new PluginFailed({ plugin: id, message: `enabling took longer than ${def.enable?.timeoutMs ?? serverConfig.plugins.enableTimeoutMs} ms` })
              })
            )
            return context
          }))
          if (Exit.isFailure(exit)) {
            yield* Scope.close(scope, exit)
            const failure = exit.cause
            const message = failure._tag === "Fail" && failure.error instanceof PluginFailed ? failure.error.message : String(failure).slice(0, 2000)
            return yield* new PluginFailed({ plugin: def.id, message })
          }
          running.set(def.id, { def, scope, context: exit.value })
        })

      const dependents = (id: string) => [...available.values()].filter((d) => (d.dependsOn ?? []).some((x) => x.id === id))

      const checkDependencies = (def: PluginDefinition, seen: ReadonlyArray<string> = []): Effect.Effect<void, Conflict | SqlError> =>
        Effect.gen(function*() {
          for (const dep of def.dependsOn ?? []) {
            if (seen.includes(dep.id) || dep.id === def.id) return yield* new Conflict({ message: `dependency cycle: ${[...seen, def.id, dep.id].join(" → ")}`, code: "dependency_cycle" })
            const target = available.get(dep.id)
            if (!target) return yield* new Conflict({ message: `${def.id} needs plugin ${dep.id}, which this edition does not have`, code: "dependency_missing" })
            if (!running.has(dep.id)) return yield* new Conflict({ message: `${def.id} needs plugin ${dep.id} enabled first`, code: "dependency_disabled" })
            const installedVersion = Option.getOrUndefined(yield* row(dep.id))?.version ?? target.version
            if (!Semver.satisfies(installedVersion, dep.version)) {
              return yield* new Conflict({ message: `${def.id} needs ${dep.id} ${dep.version}, but ${installedVersion} is installed`, code: "dependency_version" })
            }
            yield* checkDependencies(target, [...seen, def.id])
          }
        })

      const install = (id: string) =>
        Effect.gen(function*() {
          const def = yield* definition(id)
          if (Option.isSome(yield* row(id))) return yield* new Conflict({ message: `plugin ${id} is already installed`, code: "already_installed" })
          const password = randomBytes(24).toString("base64url")
          const s = session(id, password)
          yield* Database.createRole(s, dbInfo.dialect).pipe(Effect.provideService(SqlClient.SqlClient, sql))
          yield* Effect.scoped(Effect.gen(function*() {
            const client = yield* roleClient(s)
            yield* client`CREATE TABLE IF NOT EXISTS kv (key text PRIMARY KEY, value jsonb NOT NULL)`
            if (def.migrations?.length) {
              yield* Migrations.run({ migrations: def.migrations, table: `${s.searchPath}.migrations` }).pipe(Effect.provideService(SqlClient.SqlClient, client))
            }
          })).pipe(Effect.mapError((e) => new PluginFailed({ plugin: id, message: `install: ${e instanceof Error ? e.message : String(e)}` })))
          yield* permissions.register(id, (def.permissions ?? []).map((p) => (typeof p === "string" ? { name: p, description: p } : p)))
          const at = yield* now
          yield* sql`INSERT INTO plugins ${
            sql.insert({ id, version: def.version, enabled: false, status: "installed", ...storeConfig(def, defaultConfig(def) as Record<string, unknown>), role_password: box.seal(password), installed_at: at, updated_at: at })
          }`
          return yield* state(id)
        })

      /** A new version of an installed plugin: its new migrations run (as its role) before it starts. */
      const upgrade = (def: PluginDefinition, r: Row) =>
        Effect.gen(function*() {
          const order = Semver.compare(def.version, r.version)
          if (order === undefined || order < 0) {
            return yield* new Conflict({ message: `plugin ${def.id} ${def.version} is older than the installed ${r.version}; downgrades are not supported`, code: "downgrade" })
          }
          const s = session(def.id, box.open(r.role_password))
          const applied = yield* Effect.scoped(Effect.flatMap(roleClient(s), (client) =>
            Migrations.run({ migrations: def.migrations ?? [], table: `${s.searchPath}.migrations` }).pipe(Effect.provideService(SqlClient.SqlClient, client))
          )).pipe(Effect.mapError((e) => new PluginFailed({ plugin: def.id, message: `upgrade to ${def.version}: ${e instanceof Error ? e.message : String(e)}` })))
          yield* sql`UPDATE plugins SET version = ${def.version}, updated_at = ${yield* now} WHERE id = ${def.id}`
          yield* Effect.logInfo(`plugin ${def.id} upgraded ${r.version} → ${def.version} (${applied.length} migration(s))`)
        })

      const enable = (id: string): Effect.Effect<PluginState, HostError> =>
        Effect.gen(function*() {
          const def = yield* definition(id)
          const r = yield* installed(id)
          if (running.has(id)) return yield* state(id)
          if (r.version !== def.version) yield* upgrade(def, r).pipe(Effect.tapError((e) => setStatus(id, "failed", true, e.message)))
          yield* checkDependencies(def)
          yield* build(def, r).pipe(Effect.tapError((e) => setStatus(id, "failed", true, e.message)))
          yield* setStatus(id, "enabled", true, null)
          return yield* state(id)
        })

      const stop = (id: string) =>
        Effect.gen(function*() {
          const r = running.get(id)
          if (!r) return
          running.delete(id)
          yield* Scope.close(r.scope, Exit.void)
        })

      const disable = (id: string, force = false): Effect.Effect<PluginState, HostError> =>
        Effect.gen(function*() {
          yield* definition(id)
          yield* installed(id)
          const active = dependents(id).filter((d) => running.has(d.id))
          if (active.length > 0 && !force) {
            return yield* new Conflict({ message: `${active.map((d) => d.id).join(", ")} depend(s) on ${id}; disable them first or force`, code: "has_dependents" })
          }
          for (const d of active) yield* disable(d.id, true)
          yield* stop(id)
          yield* setStatus(id, "disabled", false, null)
          return yield* state(id)
        })

      const decodeConfig = (def: PluginDefinition, input: unknown) =>
        def.config
          ? normalize(def.config, input).pipe(Effect.mapError((issues) => {
            const errors = issues.map((i) => ({ path: i.path ? `body.${i.path}` : "body", message: i.message }))
            return new ValidationError({ message: errors.map((x) => `${x.path}: ${x.message}`).join("; "), errors })
          }))
          : Effect.succeed({})

      const boot = Effect.gen(function*() {
        const rows = yield* sql<Row>`SELECT * FROM plugins`
        const wanted = new Set(rows.filter((r) => r.enabled).map((r) => r.id))
        for (const id of serverConfig.plugins.enabled) {
          if (!available.has(id)) {
            yield* Effect.logWarning(`plugins.enabled names ${id}, which this edition does not have`)
            continue
          }
          if (!rows.some((r) => r.id === id)) {
            yield* install(id).pipe(Effect.catchAll((e) => Effect.logError(`first boot: installing plugin ${id} failed: ${e.message}`)))
            wanted.add(id)
          }
        }
        // Plugins are enabled level by level: a plugin's dependencies are in earlier levels, and the
        // plugins of one level are enabled side by side (each builds its own scope and role pool).
        const levels = new Map<string, number>()
        const levelOf = (id: string, path: ReadonlyArray<string>): number => {
          const known = levels.get(id)
          if (known !== undefined) return known
          if (path.includes(id)) return 0
          const deps = (available.get(id)?.dependsOn ?? []).filter((d) => wanted.has(d.id) && available.has(d.id))
          const level = deps.length === 0 ? 0 : 1 + Math.max(...deps.map((d) => levelOf(d.id, [...path, id])))
          levels.set(id, level)
          return level
        }
        for (const id of wanted) if (available.has(id)) levelOf(id, [])
        const byLevel = [...levels.entries()].reduce<Array<Array<string>>>((acc, [id, level]) => {
          ;(acc[level] ??= []).push(id)
          return acc
        }, [])
        for (const level of byLevel) {
          const outcomes = yield* Effect.forEach(level ?? [], (id) =>
            Effect.gen(function*() {
              const started = yield* Clock.currentTimeMillis
              const exit = yield* Effect.exit(enable(id))
              const ms = (yield* Clock.currentTimeMillis) - started
              const error = Exit.isFailure(exit) ? (exit.cause._tag === "Fail" ? exit.cause.error.message : String(exit.cause)) : null
              report.push({ plugin: id, ms, outcome: error ? "failed" : "enabled", error })
              if (error) yield* Effect.logError(`plugin ${id} failed to enable: ${error}`)
              return { id, error }
            }), { concurrency: 16 })
          const fatal = outcomes.find((o) => o.error !== null && available.get(o.id)?.enable?.onFailure === "abort")
          if (fatal) return yield* Effect.dieMessage(`plugin ${fatal.id} failed to enable and its policy is abort: ${fatal.error}`)
        }
      })

      yield* Effect.addFinalizer(() => Effect.forEach([...running.keys()].reverse(), stop, { discard: true }))
      yield* boot.pipe(Effect.ensuring(delivery.start))

      return {
        list: Effect.gen(function*() {
          const rows = yield* sql<Row>`SELECT * FROM plugins`
          return [...available.values()].map((def) => stateOf(def, Option.fromNullable(rows.find((r) => r.id === def.id))))
        }),
        get: (id) => state(id),
        install,
        enable,
        disable,
        configure: (id, input) =>
          Effect.gen(function*() {
            const def = yield* definition(id)
            const r = yield* installed(id)
            // Secrets left out, or sent back masked as read, keep their stored value.
            const previous = fullConfig(r)
            const given = typeof input === "object" && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined
            const kept = secretKeys(def.config).filter((k) => previous[k] !== undefined && (given?.[k] === undefined || given[k] === MASK))
            const merged = given ? { ...given, ...Object.fromEntries(kept.map((k) => [k, previous[k]])) } : input
            const encoded = yield* decodeConfig(def, merged)
            const stored = storeConfig(def, encoded as Record<string, unknown>)
            yield* sql`UPDATE plugins SET config = ${stored.config}, secrets = ${stored.secrets}, updated_at = ${yield* now} WHERE id = ${id}`
            if (running.has(id)) {
              yield* stop(id)
              yield* enable(id)
            }
            return yield* state(id)
          }),
        config: (id) =>
          Effect.gen(function*() {
            const def = yield* definition(id)
            const r = yield* installed(id)
            const { JSONSchema } = yield* Effect.promise(() => import("effect"))
            const masked = Object.fromEntries(secretKeys(def.config).filter((k) => fullConfig(r)[k] !== undefined).map((k) => [k, MASK]))
            return { value: { ...r.config, ...masked }, schema: def.config ? JSONSchema.make(def.config as Schema.Schema<unknown, unknown>) : {} }
          }),
        uninstall: (id, options) =>
          Effect.gen(function*() {
            yield* definition(id)
            yield* installed(id)
            const installedDependents = dependents(id)
            for (const d of installedDependents) {
              if (Option.isSome(yield* row(d.id))) {
                if (!options.force) return yield* new Conflict({ message: `${d.id} depends on ${id}; uninstall it first or force`, code: "has_dependents" })
              }
            }
            yield* disable(id, options.force ?? false)
            const s = session(id, "")
            yield* sql`DELETE FROM plugins WHERE id = ${id}`
            yield* permissions.unregister(id)
            if (!options.keepData) {
              yield* Database.dropRole(s).pipe(Effect.provideService(SqlClient.SqlClient, sql))
            }
          }),
        startup: () => report,
        isEnabled: (id) => running.has(id)
      }
    })
  )
