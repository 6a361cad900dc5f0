/** Admin REST for plugins (paths from docs/architecture.md) and the UI extensions a user may see. */
import { Effect, Schema } from "effect"
import { Conflict, HttpRoute, NotFound, Text } from "@streamspace/core"
import { PluginFailed } from "./PluginErrors.ts"
import { EventDelivery } from "./EventDelivery.ts"
import { JobScheduler } from "./JobScheduler.ts"
import { PluginHost } from "./PluginHost.ts"
import { UiRegistry } from "./UiRegistry.ts"

const IdParams = Schema.Struct({ id: Text.Id })
const PluginState = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  version: Schema.String,
  installedVersion: Schema.NullOr(Schema.String),
  type: Schema.String,
  category: Schema.String,
  description: Schema.String,
  status: Schema.Literal("available", "installed", "enabled", "disabled", "failed"),
  lastError: Schema.NullOr(Schema.String),
  dependsOn: Schema.Array(Schema.Struct({ id: Schema.String, version: Schema.String })),
  hookFailures: Schema.Number
})
/** One run of a plugin's scheduled job (the list of runs and "run now" answer with it). */
const JobRun = Schema.Struct({
  job: Schema.String,
  tick: Schema.Date,
  startedAt: Schema.Date,
  finishedAt: Schema.NullOr(Schema.Date),
  outcome: Schema.NullOr(Schema.String),
  error: Schema.NullOr(Schema.String)
})
const BoolString = Schema.transform(Schema.Literal("true", "false"), Schema.Boolean, {
  decode: (s) => s === "true",
  encode: (b) => (b ? "true" : "false")
})
const base = { tags: ["plugins"], permission: "plugins:admin" } as const

const ExtensionPermissions = Schema.optional(Schema.Array(Schema.String))
/** A UI extension as the console reads it (`Ui.ts`): a page or a widget. */
const UiExtension = Schema.Union(
  Schema.Struct({
    kind: Schema.Literal("page"),
    id: Schema.String,
    title: Schema.String,
    path: Schema.String,
    icon: Schema.optional(Schema.String),
    permissions: ExtensionPermissions,
    nav: Schema.optional(Schema.Literal("portal", "admin")),
    component: Schema.String
  }),
  Schema.Struct({
    kind: Schema.Literal("widget"),
    id: Schema.String,
    title: Schema.String,
    icon: Schema.optional(Schema.String),
    permissions: ExtensionPermissions,
    component: Schema.String,
    position: Schema.optional(Schema.Number),
    width: Schema.optional(Schema.Literal("small", "medium", "large", "full"))
  })
)
const UiExtensionItem = Schema.Struct({
  plugin: Schema.String,
  extension: UiExtension,
  /** Same-origin URL of the built ES module (`import(module)`; its default export is the component). */
  module: Schema.NullOr(Schema.String)
})

const lifecycle = (action: "install" | "enable" | "disable", summary: string) =>
  HttpRoute.make({
    ...base,
    method: "POST",
    path: `/api/admin/plugins/:id/${action}`,
    summary,
    params: IdParams,
    // Only disable takes ?force (it disables dependents first).
    ...(action === "disable"
      ? { query: Schema.Struct({ force: Schema.optionalWith(BoolString, { default: () => false }) }) }
      : {}),
    response: PluginState,
    // DDL and plugin start-up must not sit inside one request transaction.
    transactional: false,
    audit: { action: `plugin.${action}`, target: (i) => i.params.id },
    errors: [NotFound, Conflict, PluginFailed],
    handler: ({ params, query }) =>
      Effect.flatMap(PluginHost, (h) =>
        action === "install"
          ? h.install(params.id)
          : action === "enable"
            ? h.enable(params.id)
            : h.disable(params.id, query?.force ?? false)
      )
  })

export const pluginAdminRoutes = [
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/admin/plugins",
    summary: "Plugins of this edition with their status, version, last error and health",
    response: Schema.Struct({ items: Schema.Array(PluginState) }),
    handler: () =>
      Effect.map(
        Effect.flatMap(PluginHost, (h) => h.list),
        (items) => ({ items })
      )
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/admin/plugins/startup",
    summary: "How enabling each plugin went at the last start-up (time taken, outcome, error)",
    response: Schema.Struct({
      items: Schema.Array(
        Schema.Struct({
          plugin: Schema.String,
          ms: Schema.Number,
          outcome: Schema.String,
          error: Schema.NullOr(Schema.String)
        })
      )
    }),
    handler: () => Effect.map(PluginHost, (h) => ({ items: h.startup() }))
  }),
  lifecycle("install", "Install: create the plugin's role and schema, run its migrations, register its permissions"),
  lifecycle("enable", "Enable: start the plugin (dependencies must be enabled)"),
  lifecycle("disable", "Disable: stop the plugin (?force=true also disables plugins that depend on it)"),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/admin/plugins/:id/config",
    summary: "The plugin's config and its JSON Schema",
    params: IdParams,
    response: Schema.Struct({ value: Schema.Unknown, schema: Schema.Unknown }),
    errors: [NotFound],
    handler: ({ params }) => Effect.flatMap(PluginHost, (h) => h.config(params.id))
  }),
  HttpRoute.make({
    ...base,
    method: "PUT",
    path: "/api/admin/plugins/:id/config",
    summary: "Replace the plugin's config (validated by its Schema; an enabled plugin restarts with it)",
    params: IdParams,
    body: Schema.Unknown,
    response: PluginState,
    transactional: false,
    audit: { action: "plugin.configure", target: (i) => i.params.id },
    errors: [NotFound, Conflict, PluginFailed],
    handler: ({ params, body }) => Effect.flatMap(PluginHost, (h) => h.configure(params.id, body))
  }),
  HttpRoute.make({
    ...base,
    method: "DELETE",
    path: "/api/admin/plugins/:id",
    summary: "Uninstall: disable, remove permissions, drop schema and role unless keepData=true",
    params: IdParams,
    query: Schema.Struct({
      keepData: Schema.optionalWith(BoolString, { default: () => false }),
      force: Schema.optionalWith(BoolString, { default: () => false })
    }),
    transactional: false,
    audit: { action: "plugin.uninstall", target: (i) => i.params.id },
    errors: [NotFound, Conflict, PluginFailed],
    handler: ({ params, query }) =>
      Effect.flatMap(PluginHost, (h) => h.uninstall(params.id, { keepData: query.keepData, force: query.force }))
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/admin/plugins/:id/dead-letters",
    summary: "Events a plugin's subscriptions gave up on",
    params: IdParams,
    response: Schema.Struct({
      items: Schema.Array(
        Schema.Struct({
          id: Schema.String,
          subscription: Schema.String,
          eventId: Schema.String,
          eventType: Schema.String,
          attempts: Schema.Number,
          error: Schema.String,
          createdAt: Schema.Date,
          replayedAt: Schema.NullOr(Schema.Date)
        })
      )
    }),
    errors: [NotFound],
    handler: ({ params }) =>
      Effect.zipRight(
        Effect.flatMap(PluginHost, (h) => h.get(params.id)),
        Effect.map(
          Effect.flatMap(EventDelivery, (d) => d.deadLetters(params.id)),
          (items) => ({ items })
        )
      )
  }),
  HttpRoute.make({
    ...base,
    method: "POST",
    path: "/api/admin/plugins/:id/dead-letters/:letterId/replay",
    summary: "Deliver a dead-lettered event to its subscription again",
    params: Schema.Struct({ id: Text.Id, letterId: Text.Id }),
    transactional: false,
    audit: { action: "plugin.dead-letter.replay", target: (i) => i.params.letterId },
    errors: [NotFound, Conflict, PluginFailed],
    handler: ({ params }) => Effect.flatMap(EventDelivery, (d) => d.replay(params.id, params.letterId))
  }),
  HttpRoute.make({
    ...base,
    method: "GET",
    path: "/api/admin/plugins/:id/jobs",
    summary: "Recent runs of a plugin's scheduled jobs",
    params: IdParams,
    response: Schema.Struct({ items: Schema.Array(JobRun) }),
    errors: [NotFound],
    handler: ({ params }) =>
      Effect.zipRight(
        Effect.flatMap(PluginHost, (h) => h.get(params.id)),
        Effect.map(
          Effect.flatMap(JobScheduler, (j) => j.runs(params.id, 100)),
          (items) => ({ items })
        )
      )
  }),
  HttpRoute.make({
    ...base,
    method: "POST",
    path: "/api/admin/plugins/:id/jobs/:name/run",
    summary: "Run one of an enabled plugin's scheduled jobs now; answers with the run (its outcome and error)",
    params: Schema.Struct({ id: Text.Id, name: Text.Short }),
    response: JobRun,
    // The job runs in its plugin's scope with the plugin's own SQL, not inside a request transaction.
    transactional: false,
    audit: { action: "plugin.job.run", target: (i) => `${i.params.id}/${i.params.name}` },
    errors: [NotFound, Conflict],
    handler: ({ params }) =>
      Effect.gen(function* () {
        const state = yield* Effect.flatMap(PluginHost, (h) => h.get(params.id))
        if (state.status !== "enabled")
          return yield* new Conflict({
            message: `plugin ${params.id} is ${state.status}, not enabled: its jobs do not run`,
            code: "plugin_not_enabled"
          })
        return yield* Effect.flatMap(JobScheduler, (j) => j.runNow(params.id, params.name))
      })
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/ui/extensions",
    summary:
      "Pages and dashboard widgets of enabled plugins that you may see, each with the URL of its ES module (null when the server serves no console)",
    tags: ["plugins"],
    permission: "authenticated",
    response: Schema.Struct({ items: Schema.Array(UiExtensionItem) }),
    handler: ({ actor }) =>
      Effect.map(
        Effect.flatMap(UiRegistry, (u) => u.resolvedFor(actor)),
        (items) => ({ items })
      )
  })
]
