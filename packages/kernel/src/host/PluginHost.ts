/**
 * The plugin host: the lifecycle of the plugins of the running edition, every
 * step persisted in `plugins`.
 *
 *     available ──install──▶ installed ──enable──▶ enabled ──disable──▶ disabled
 *         ▲                                │  ▲                            │
 *         └──────────uninstall─────────────┘  └──────────enable────────────┘
 *
 * - install (`host/PluginInstaller`): role, schema `plugin_<id>`, host tables,
 *   migrations as the role, kernel functions; permissions registered;
 * - enable: dependencies checked, the plugin's layer built in a Scope of its
 *   own over only plugin-scoped services (`host/PluginServicesContext`);
 *   disable closes that Scope (routes, subscriptions, jobs, hooks, UI go);
 * - configure (`host/PluginConfigStore`): validated, stored, layer rebuilt;
 * - uninstall: disabled, schema and role dropped unless `keepData`.
 *
 * Each step that changes a plugin's row publishes its core event
 * (`plugin.installed`, `.enabled`, `.disabled`, `.configured`,
 * `.uninstalled`) in the same transaction, so the console's live stream
 * hears of it exactly when it happened (a boot re-enabling what was enabled
 * changes nothing and publishes nothing).
 *
 * At start-up the plugins that were enabled are enabled again, level by
 * level of the dependency graph (`host/BootOrder`); one that fails is marked
 * failed with its error while the rest of the platform keeps running.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import {
  Actor,
  BlobStore,
  AuditLog,
  type CoreEvents,
  Conflict,
  EventOutbox,
  NotFound,
  Permissions,
  SecretBox,
  ServerConfig,
  type ValidationError
} from "@streamspace/core"
import { type Cause, Clock, Context, Duration, Effect, Exit, Layer, Option, Scope } from "effect"
import { randomBytes } from "node:crypto"
import { EventDelivery } from "./EventDelivery.ts"
import { HookRegistry } from "./HookRegistry.ts"
import * as BootOrder from "./BootOrder.ts"
import * as PluginCalls from "./PluginCalls.ts"
import * as PluginConfigStore from "./PluginConfigStore.ts"
import * as PluginInstaller from "./PluginInstaller.ts"
import * as PluginRepo from "./PluginRepo.ts"
import * as PluginServicesContext from "./PluginServicesContext.ts"
import * as PluginBlobsAccess from "./PluginBlobsAccess.ts"
import type { RunningPlugins } from "./RunningPlugins.ts"
import * as Semver from "./Semver.ts"
import * as Manifest from "./Manifest.ts"
import type { PluginDefinition } from "../Plugin.ts"
import { PluginFailed } from "./PluginErrors.ts"
import { RouteRegistry } from "./RouteRegistry.ts"
import { UiRegistry } from "./UiRegistry.ts"

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

export class PluginHost extends Context.Tag("@streamspace/kernel/PluginHost")<
  PluginHost,
  {
    readonly list: Effect.Effect<ReadonlyArray<PluginState>, SqlError>
    readonly get: (id: string) => Effect.Effect<PluginState, NotFound | SqlError>
    readonly install: (id: string) => Effect.Effect<PluginState, HostError>
    readonly enable: (id: string) => Effect.Effect<PluginState, HostError>
    readonly disable: (id: string, force?: boolean) => Effect.Effect<PluginState, HostError>
    readonly configure: (id: string, input: unknown) => Effect.Effect<PluginState, HostError>
    readonly config: (
      id: string
    ) => Effect.Effect<{ readonly value: unknown; readonly schema: unknown }, NotFound | SqlError>
    /** `keepData`: schema, role, data, config and secrets stay for a later install. */
    readonly uninstall: (
      id: string,
      options: { readonly keepData: boolean; readonly force?: boolean }
    ) => Effect.Effect<void, HostError>
    readonly startup: () => ReadonlyArray<StartupEntry>
    readonly isEnabled: (id: string) => boolean
    /** The plugins of this edition, installed or not. */
    readonly definitions: () => ReadonlyArray<PluginDefinition>
  }
>() {}

const failureMessage = (cause: Cause.Cause<unknown>) =>
  cause._tag === "Fail" && cause.error instanceof Error ? cause.error.message : String(cause).slice(0, 2000)

export const layer = (catalog: ReadonlyArray<PluginDefinition>) =>
  Layer.scoped(
    PluginHost,
    Effect.gen(function* () {
      const box = yield* SecretBox.SecretBox
      const permissions = yield* Permissions.Permissions
      const routes = yield* RouteRegistry
      const ui = yield* UiRegistry
      const hooks = yield* HookRegistry
      const delivery = yield* EventDelivery
      const serverConfig = yield* ServerConfig.ServerConfig
      const blobs = yield* BlobStore.BlobStore
      const sql = yield* SqlClient.SqlClient
      const outbox = yield* EventOutbox.EventOutbox
      const repo = yield* PluginRepo.make
      const installer = yield* PluginInstaller.make
      const configs = PluginConfigStore.make(box, SecretBox.MASK)
      const servicesOf = yield* PluginServicesContext.make
      const available = new Map(catalog.map((d) => [d.id, d]))
      const running: RunningPlugins = new Map()
      const report: Array<StartupEntry> = []

      for (const def of catalog) {
        const problems = Manifest.validate(def)
        if (problems.length > 0)
          return yield* Effect.dieMessage(
            `invalid plugin manifest: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`
          )
      }
      yield* routes.setKnown([...available.keys()])

      /**
       * Runs a change of plugin `id`'s row and publishes `type` in the same transaction; `change` answers
       * whether it changed anything (nothing changed: no event). The acting user is the request's, or the
       * platform's at boot.
       */
      const recorded = <E>(
        id: string,
        type: CoreEvents.PluginEventType,
        change: Effect.Effect<boolean, E>
      ): Effect.Effect<void, E | SqlError> =>
        Effect.gen(function* () {
          const actor = Option.getOrElse(yield* Effect.serviceOption(Actor.CurrentActor), () => Actor.system("plugins"))
          yield* sql.withTransaction(
            Effect.gen(function* () {
              if (yield* change)
                yield* outbox.publish(type, { plugin: id }).pipe(Effect.provideService(Actor.CurrentActor, actor))
            })
          )
        })

      const definition = (id: string) =>
        Option.match(Option.fromNullable(available.get(id)), {
          onNone: () => Effect.fail(new NotFound({ resource: "plugin", id })),
          onSome: Effect.succeed
        })
      const installed = (id: string) =>
        Effect.flatMap(
          repo.find(id),
          Option.match({
            onNone: () =>
              Effect.fail(new NotFound({ resource: "installed plugin", id, detail: `plugin ${id} is not installed` })),
            onSome: Effect.succeed
          })
        )

      const stateOf = (def: PluginDefinition, r: Option.Option<PluginRepo.PluginRow>): PluginState => ({
        id: def.id,
        name: def.name,
        version: def.version,
        installedVersion: Option.match(r, { onNone: () => null, onSome: (x) => x.version }),
        type: def.type,
        category: def.category,
        description: def.description ?? "",
        status: Option.match(r, {
          onNone: () => "available" as const,
          onSome: (x) =>
            running.has(def.id) ? ("enabled" as const) : x.status === "enabled" ? ("failed" as const) : x.status
        }),
        lastError: Option.match(r, { onNone: () => null, onSome: (x) => x.last_error }),
        dependsOn: def.dependsOn ?? [],
        hookFailures: hooks.failures(def.id)
      })
      const state = (id: string) =>
        Effect.flatMap(definition(id), (def) => Effect.map(repo.find(id), (r) => stateOf(def, r)))

      const directory: PluginCalls.PluginDirectory = {
        known: (id) => available.has(id),
        installedVersion: (id) => repo.find(id).pipe(Effect.orDie, Effect.map(Option.map((r) => r.version))),
        running: (id) => running.get(id)
      }

      /** Builds the plugin's layer in a new Scope; on failure the Scope is closed and the plugin stays off. */
      const start = (def: PluginDefinition, r: PluginRepo.PluginRow) =>
        Effect.gen(function* () {
          const scope = yield* Scope.make()
          const timeoutMs = def.enable?.timeoutMs ?? serverConfig.plugins.enableTimeoutMs
          const exit = yield* Effect.exit(
            Effect.gen(function* () {
              const client = yield* installer.client(def.id, box.open(r.role_password)).pipe(Scope.extend(scope))
              const context = yield* servicesOf(def, client, configs.open(r), PluginCalls.make(def.id, directory))
              for (const ext of def.ui ?? []) yield* ui.add(def.id, ext, def.root).pipe(Scope.extend(scope))
              yield* Layer.buildWithScope(def.layer, scope).pipe(
                Effect.provide(context),
                // Enabled from a request (an admin's config change), the plugin's fibers outlive it: not its actor or commit hooks.
                Effect.mapInputContext((outer: Context.Context<never>) =>
                  Context.omit(
                    Actor.CurrentActor,
                    Actor.RequestContext,
                    Actor.CommitEffects,
                    Actor.FailureEffects,
                    Actor.OutcomeEffects,
                    AuditLog.RequestAudit
                  )(outer)
                ),
                Effect.annotateLogs({ plugin: def.id }),
                Effect.timeoutFail({
                  duration: Duration.millis(timeoutMs),
                  onTimeout: () =>
                    new PluginFailed({ plugin: def.id, message: `enabling took longer than ${timeoutMs} ms` })
                })
              )
              return context
            })
          )
          if (Exit.isFailure(exit)) {
            yield* Scope.close(scope, exit)
            return yield* new PluginFailed({ plugin: def.id, message: failureMessage(exit.cause) })
          }
          running.set(def.id, { def, scope, context: exit.value })
        })

      const stop = (id: string) =>
        Effect.gen(function* () {
          const r = running.get(id)
          if (!r) return
          running.delete(id)
          yield* Scope.close(r.scope, Exit.void)
        })

      const dependents = (id: string) =>
        [...available.values()].filter((d) => (d.dependsOn ?? []).some((x) => x.id === id))

      const checkDependencies = (
        def: PluginDefinition,
        seen: ReadonlyArray<string> = []
      ): Effect.Effect<void, Conflict | SqlError> =>
        Effect.gen(function* () {
          for (const dep of def.dependsOn ?? []) {
            if (seen.includes(dep.id) || dep.id === def.id)
              return yield* new Conflict({
                message: `dependency cycle: ${[...seen, def.id, dep.id].join(" → ")}`,
                code: "dependency_cycle"
              })
            const target = available.get(dep.id)
            if (!target)
              return yield* new Conflict({
                message: `${def.id} needs plugin ${dep.id}, which this edition does not have`,
                code: "dependency_missing"
              })
            if (!running.has(dep.id))
              return yield* new Conflict({
                message: `${def.id} needs plugin ${dep.id} enabled first`,
                code: "dependency_disabled"
              })
            const installedVersion = Option.getOrUndefined(yield* repo.find(dep.id))?.version ?? target.version
            if (!Semver.satisfies(installedVersion, dep.version)) {
              return yield* new Conflict({
                message: `${def.id} needs ${dep.id} ${dep.version}, but ${installedVersion} is installed`,
                code: "dependency_version"
              })
            }
            yield* checkDependencies(target, [...seen, def.id])
          }
        })

      const install = (id: string) =>
        Effect.gen(function* () {
          const def = yield* definition(id)
          if (Option.isSome(yield* repo.find(id)))
            return yield* new Conflict({ message: `plugin ${id} is already installed`, code: "already_installed" })
          const password = randomBytes(24).toString("base64url")
          yield* installer.install(def, password)
          yield* permissions.register(
            id,
            (def.permissions ?? []).map((p) => (typeof p === "string" ? { name: p, description: p } : p))
          )
          const kept = yield* repo.takeKeptConfig(id)
          const stored = Option.match(kept, {
            onNone: () => configs.seal(def, configs.defaults(def)),
            onSome: (k) => ({ config: JSON.stringify(k.config), secrets: k.secrets })
          })
          yield* recorded(
            id,
            "plugin.installed",
            Effect.as(repo.insert({ id, version: def.version, ...stored, rolePassword: box.seal(password) }), true)
          )
          if (Option.isSome(kept))
            yield* Effect.logInfo(`plugin ${id} installed again with the config kept at its uninstall`)
          return yield* state(id)
        })

      const enable = (id: string): Effect.Effect<PluginState, HostError> =>
        Effect.gen(function* () {
          const def = yield* definition(id)
          const r = yield* installed(id)
          if (running.has(id)) return yield* state(id)
          const markFailed = (e: { readonly message: string }) => repo.setStatus(id, "failed", true, e.message)
          const upgraded = yield* installer
            .prepare(def, { version: r.version, password: box.open(r.role_password) })
            .pipe(Effect.tapError(markFailed))
          if (upgraded) yield* repo.setVersion(id, def.version)
          yield* checkDependencies(def)
          yield* start(def, r).pipe(Effect.tapError(markFailed))
          yield* recorded(id, "plugin.enabled", repo.setStatus(id, "enabled", true, null))
          return yield* state(id)
        })

      const disable = (id: string, force = false): Effect.Effect<PluginState, HostError> =>
        Effect.gen(function* () {
          yield* definition(id)
          yield* installed(id)
          const active = dependents(id).filter((d) => running.has(d.id))
          if (active.length > 0 && !force) {
            return yield* new Conflict({
              message: `${active.map((d) => d.id).join(", ")} depend(s) on ${id}; disable them first or force`,
              code: "has_dependents"
            })
          }
          for (const d of active) yield* disable(d.id, true)
          const wasRunning = running.has(id)
          yield* stop(id)
          const changed = repo.setStatus(id, "disabled", false, null)
          // A failed plugin was not running: it becomes disabled, which is news only when it ran.
          yield* recorded(
            id,
            "plugin.disabled",
            Effect.map(changed, (c) => c && wasRunning)
          )
          return yield* state(id)
        })

      const configure = (id: string, input: unknown) =>
        Effect.gen(function* () {
          const def = yield* definition(id)
          const stored = yield* configs.update(def, yield* installed(id), input)
          yield* recorded(id, "plugin.configured", Effect.as(repo.setConfig(id, stored), true))
          if (running.has(id)) {
            yield* stop(id)
            yield* enable(id)
          }
          return yield* state(id)
        })

      /** A plugin's blobs go with its data: the keys sealing them went with its tables. Best effort, logged. */
      const dropBlobs = (id: string) =>
        Effect.flatMap(blobs.list(PluginBlobsAccess.blobPrefixOf(id)), (found) =>
          Effect.forEach(found, (blob) => blobs.delete(blob.key), { discard: true, concurrency: 8 })
        ).pipe(
          Effect.catchAll((e) => Effect.logWarning(`uninstalling ${id}: removing its blobs failed (${e.message})`))
        )

      const uninstall = (id: string, options: { readonly keepData: boolean; readonly force?: boolean }) =>
        Effect.gen(function* () {
          yield* definition(id)
          const r = yield* installed(id)
          for (const d of dependents(id)) {
            if (Option.isSome(yield* repo.find(d.id)) && !options.force) {
              return yield* new Conflict({
                message: `${d.id} depends on ${id}; uninstall it first or force`,
                code: "has_dependents"
              })
            }
          }
          yield* disable(id, options.force ?? false)
          yield* recorded(id, "plugin.uninstalled", Effect.as(repo.remove(id), true))
          yield* permissions.unregister(id)
          yield* options.keepData ? repo.keepConfig(r) : repo.forgetKeptConfig(id)
          yield* installer.remove(id, options.keepData)
          if (!options.keepData) yield* dropBlobs(id)
        })

      const boot = Effect.gen(function* () {
        const rows = yield* repo.all
        const wanted = new Set(rows.filter((r) => r.enabled).map((r) => r.id))
        for (const id of serverConfig.plugins.enabled) {
          if (!available.has(id)) {
            yield* Effect.logWarning(`plugins.enabled names ${id}, which this edition does not have`)
            continue
          }
          if (!rows.some((r) => r.id === id)) {
            yield* install(id).pipe(
              Effect.catchAll((e) => Effect.logError(`first boot: installing plugin ${id} failed: ${e.message}`))
            )
            wanted.add(id)
          }
        }
        for (const level of BootOrder.levels(wanted, available)) {
          const outcomes = yield* Effect.forEach(
            level,
            (id) =>
              Effect.gen(function* () {
                const started = yield* Clock.currentTimeMillis
                const exit = yield* Effect.exit(enable(id))
                const ms = (yield* Clock.currentTimeMillis) - started
                const error = Exit.isFailure(exit)
                  ? exit.cause._tag === "Fail"
                    ? exit.cause.error.message
                    : String(exit.cause)
                  : null
                report.push({ plugin: id, ms, outcome: error ? "failed" : "enabled", error })
                if (error) yield* Effect.logError(`plugin ${id} failed to enable: ${error}`)
                return { id, error }
              }),
            { concurrency: 16 }
          )
          const fatal = outcomes.find((o) => o.error !== null && available.get(o.id)?.enable?.onFailure === "abort")
          if (fatal)
            return yield* Effect.dieMessage(
              `plugin ${fatal.id} failed to enable and its policy is abort: ${fatal.error}`
            )
        }
      })

      yield* Effect.addFinalizer(() => Effect.forEach([...running.keys()].reverse(), stop, { discard: true }))
      yield* boot.pipe(Effect.ensuring(delivery.start))

      return {
        list: Effect.map(repo.all, (rows) =>
          [...available.values()].map((def) => stateOf(def, Option.fromNullable(rows.find((r) => r.id === def.id))))
        ),
        get: state,
        install,
        enable,
        disable,
        configure,
        config: (id) => Effect.flatMap(definition(id), (def) => Effect.map(installed(id), (r) => configs.view(def, r))),
        uninstall,
        startup: () => report,
        isEnabled: (id) => running.has(id),
        definitions: () => catalog
      }
    })
  )
