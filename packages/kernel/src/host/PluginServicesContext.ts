/**
 * The services one enabled plugin sees, built in its Scope: its SQL client
 * (its role and schema, from the installer), storage, routes, events, hooks,
 * scheduler, UI, calls to other plugins, and the narrow core services
 * (integrations, directory, outgoing HTTP behind the egress policy).
 * Everything registered here goes away when the scope closes.
 *
 * Writes that must commit with the plugin's data go through its own client:
 * `publish` and the audit row of its routes call its kernel functions, so a
 * route (one transaction of the plugin's client by default) or a
 * `withTransaction` commits data, events and audit row together.
 */
import { HttpClient } from "@effect/platform"
import { SqlClient } from "@effect/sql"
import {
  Actor,
  AuditLog,
  BlobStore,
  Directory,
  EgressPolicy,
  EventOutbox,
  type HttpRoute,
  type IntegrationDeliveries,
  type IntegrationDispatcher,
  type Integrations,
  SecretBox,
  ServerConfig,
  SessionRuntime,
  Sessions,
  UserRepo
} from "@streamspace/core"
import { RfbTap } from "@streamspace/rfb"
import { Context, Effect, Option, Schema } from "effect"
import { EventDelivery } from "./EventDelivery.ts"
import { Events } from "../Events.ts"
import { HookRegistry } from "./HookRegistry.ts"
import { Hooks } from "../Hooks.ts"
import { DesktopControl, Kubernetes, SessionControl } from "../Platform.ts"
import { PlatformPosture } from "../PlatformPosture.ts"
import * as PlatformAccess from "./PlatformAccess.ts"
import { PluginBlobs } from "../PluginBlobs.ts"
import { VncTap } from "../VncTap.ts"
import * as PluginBlobsAccess from "./PluginBlobsAccess.ts"
import * as VncTapAccess from "./VncTapAccess.ts"
import { IntegrationProvider } from "../IntegrationProvider.ts"
import * as IntegrationProviderLive from "./IntegrationProviderLive.ts"
import { JobScheduler } from "./JobScheduler.ts"
import type { PluginDefinition, PluginServices } from "../Plugin.ts"
import { PluginConfig, PluginInfo } from "../PluginContext.ts"
import { Plugins } from "../Plugins.ts"
import { PluginSql } from "../PluginSql.ts"
import { PluginStorage } from "../PluginStorage.ts"
import { RouteRegistry } from "./RouteRegistry.ts"
import { Routes } from "../Routes.ts"
import { Scheduler } from "../Scheduler.ts"
import { Ui } from "../Ui.ts"
import { UiRegistry } from "./UiRegistry.ts"
import * as KernelFunctions from "./KernelFunctions.ts"
import * as PluginEvents from "./PluginEvents.ts"
import { KV_TABLE } from "./PluginInstaller.ts"
import * as TypedStorage from "./TypedStorage.ts"

/** Core services that plugins reach through plugin-scoped or read-only interfaces. */
export type CoreServices =
  | Integrations.Integrations
  | IntegrationDeliveries.IntegrationDeliveries
  | IntegrationDispatcher.IntegrationDispatcher
  | Directory.Directory
  | EgressPolicy.EgressPolicy
  | HttpClient.HttpClient
  | ServerConfig.ServerConfig
  | Sessions.Sessions
  | SessionRuntime.SessionRuntime
  | UserRepo.UserRepo
  | AuditLog.AuditLog
  | BlobStore.BlobStore
  | SecretBox.SecretBox
  /** Only for `PlatformPosture`'s fixed read-only statements. */
  | SqlClient.SqlClient

const storageOf = (client: SqlClient.SqlClient): TypedStorage.HostStorage => ({
  get: (key) =>
    Effect.map(client<{ value: unknown }>`SELECT value FROM ${client(KV_TABLE)} WHERE key = ${key}`, (rows) =>
      Option.fromNullable(rows[0]?.value)
    ),
  set: (key, value) =>
    client`INSERT INTO ${client(KV_TABLE)} (key, value) VALUES (${key}, ${JSON.stringify(value)}) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`.pipe(
      Effect.asVoid
    ),
  delete: (key) => client`DELETE FROM ${client(KV_TABLE)} WHERE key = ${key}`.pipe(Effect.asVoid),
  list: (prefix) =>
    client<{
      key: string
      value: unknown
    }>`SELECT key, value FROM ${client(KV_TABLE)} WHERE key LIKE ${`${prefix.replace(/[%_\\]/g, "\\$&")}%`} ORDER BY key`
})

/** The audit row of one of the plugin's routes, written in its transaction. */
const auditOf = (client: SqlClient.SqlClient, id: string) => (e: AuditLog.AuditEntryInput) =>
  client
    .unsafe(`SELECT ${KernelFunctions.names(id).audit}($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      Actor.actorId(e.actor),
      Actor.actorLabel(e.actor),
      e.action,
      e.target ?? null,
      e.ip ?? "",
      e.userAgent ?? "",
      e.result,
      e.detail ?? null,
      e.requestId ?? null
    ])
    .pipe(Effect.asVoid)

export const make = Effect.gen(function* () {
  const routes = yield* RouteRegistry
  const ui = yield* UiRegistry
  const hooks = yield* HookRegistry
  const delivery = yield* EventDelivery
  const jobs = yield* JobScheduler
  const outbox = yield* EventOutbox.EventOutbox
  const core = yield* Effect.context<CoreServices>()
  const taps = yield* RfbTap.TapHub

  /** The context of plugin `def` over its SQL client (made by the installer in the plugin's scope). */
  return (def: PluginDefinition, client: SqlClient.SqlClient, config: unknown, plugins: Plugins["Type"]) =>
    Effect.gen(function* () {
      const id = def.id
      const transaction: HttpRoute.RouteTransaction = {
        withTransaction: client.withTransaction,
        audit: auditOf(client, id)
      }
      const publishFunction = KernelFunctions.names(id).publish
      return Context.empty().pipe(
        Context.add(PluginInfo, { id, version: def.version }),
        Context.add(PluginConfig, config),
        Context.add(PluginSql, client),
        Context.add(PluginStorage, TypedStorage.make(storageOf(client))),
        Context.add(Routes, { add: (route) => routes.add(id, { ...route, plugin: id, transaction }) }),
        Context.add(Ui, { add: (ext) => ui.add(id, ext, def.root) }),
        Context.add(
          Events,
          PluginEvents.make(
            {
              subscribe: (options, handler) => delivery.subscribe(id, options, handler),
              subscribeBatch: (options, handler) => delivery.subscribeBatch(id, options, handler),
              publish: (type, schema, payload) =>
                Effect.gen(function* () {
                  if (!type.startsWith(`${id}.`))
                    return yield* Effect.dieMessage(`plugin ${id} may publish only ${id}.* events, not ${type}`)
                  const encoded = yield* Schema.encode(schema)(payload).pipe(Effect.orDie)
                  const actor = yield* Effect.serviceOption(Actor.CurrentActor)
                  const eventId = crypto.randomUUID()
                  yield* client
                    .unsafe(`SELECT ${publishFunction}($1, $2, $3::jsonb, $4)`, [
                      eventId,
                      type,
                      JSON.stringify(encoded),
                      Option.match(actor, { onNone: () => null, onSome: Actor.actorId })
                    ])
                    .pipe(Effect.orDie)
                  yield* outbox.written
                  return eventId
                })
            },
            def.events
          )
        ),
        Context.add(Hooks, {
          intercept: (point, handler, options) =>
            hooks.add(id, point, handler, { order: options?.order ?? 100, timeoutMs: options?.timeoutMs ?? 2000 })
        }),
        Context.add(Scheduler, { schedule: (name, schedule, job) => jobs.schedule(id, name, schedule, job) }),
        Context.add(Plugins, plugins),
        Context.add(IntegrationProvider, yield* IntegrationProviderLive.make(id).pipe(Effect.provide(core))),
        Context.add(Directory.Directory, Context.get(core, Directory.Directory)),
        // Granted in the manifest or refused on every call.
        Context.add(
          Kubernetes,
          PlatformAccess.kubernetes(id, def.grants ?? [], Context.get(core, ServerConfig.ServerConfig))
        ),
        Context.add(
          SessionControl,
          PlatformAccess.sessionControl(id, def.grants ?? [], {
            sessions: Context.get(core, Sessions.Sessions),
            users: Context.get(core, UserRepo.UserRepo),
            audit: Context.get(core, AuditLog.AuditLog)
          })
        ),
        Context.add(
          DesktopControl,
          PlatformAccess.desktopControl(
            id,
            def.grants ?? [],
            Context.get(core, Sessions.Sessions),
            Context.get(core, SessionRuntime.SessionRuntime)
          )
        ),
        Context.add(
          PlatformPosture,
          PlatformAccess.platformPosture(id, def.grants ?? [], {
            sql: Context.get(core, SqlClient.SqlClient),
            config: Context.get(core, ServerConfig.ServerConfig)
          })
        ),
        Context.add(VncTap, VncTapAccess.vncTap(id, def.grants ?? [], taps)),
        Context.add(
          PluginBlobs,
          PluginBlobsAccess.pluginBlobs(
            id,
            def.grants ?? [],
            Context.get(core, BlobStore.BlobStore),
            Context.get(core, SecretBox.SecretBox)
          )
        ),
        // Outgoing HTTP of plugins goes where the egress policy lets it, and nowhere else.
        Context.add(
          HttpClient.HttpClient,
          Context.get(core, EgressPolicy.EgressPolicy).guard(Context.get(core, HttpClient.HttpClient))
        )
      ) satisfies Context.Context<PluginServices>
    })
})
