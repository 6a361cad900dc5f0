/**
 * Multi-monitor: one session desktop spread over several monitors.
 *
 * - Layouts (monitors with name, size, offset, primary) saved per user and
 *   per template; a user's default overrides the template's, which overrides
 *   the configured `defaultLayout` preset. Validated by Layout.ts.
 * - `GET /sessions/:id/layout` answers the layout that applies to a session
 *   (the plugin learns sessions' owners and templates from session.* events),
 *   its framebuffer size and the `xrandr` invocations that apply it
 *   (the core's `Xrandr`). `POST /sessions/:id/activate` applies it to a running
 *   desktop through the platform's `desktops` grant, and so does every session
 *   start and wake unless `applyOnStart` is off (ApplyOnStart.ts;
 *   docs/plugins/multi-monitor.md, "Applying a layout").
 * - Console pages: "Monitor layouts" (presets, saved layouts, and per
 *   session "Open desktop" plus one "Open monitor N" window each) and the
 *   monitor window, which draws its rectangle of the one desktop stream
 *   (ui/lib/windows.ts).
 */
import {
  Actor,
  Conflict,
  CoreEvents,
  Forbidden,
  HttpRoute,
  NotFound,
  NotImplemented,
  Text,
  Timestamps,
  Xrandr
} from "@streamspace/core"
import { DesktopControl, definePlugin, Events, PluginConfig, PluginSql, Routes } from "@streamspace/kernel"
import { Effect, Layer, Schema } from "effect"
import layoutsSql from "../migrations/0001_layouts.sql" with { type: "text" }
import * as ApplyOnStart from "./ApplyOnStart.ts"
import { boundingBox, HARD_MAX_MONITORS, Monitor, Monitors, PresetId, presetOf, presets, validate } from "./Layout.ts"

export const READ = "multi-monitor:read"
export const WRITE = "multi-monitor:write"
/** Template layouts (what every user of a template gets unless they saved their own). */
export const ADMIN = "multi-monitor:admin"

export const MultiMonitorConfig = Schema.Struct({
  maxMonitorsPerSession: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, HARD_MAX_MONITORS)), {
    default: () => 8
  }),
  defaultLayout: Schema.optionalWith(PresetId, { default: () => "single" as const }),
  allowCustomLayouts: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  /** The largest bounding box in pixels (the one stream carries all of it): 4 × 4K by default. */
  maxTotalPixels: Schema.optionalWith(Schema.Int.pipe(Schema.between(320 * 200, 16384 * 16384)), {
    default: () => 4 * 3840 * 2160
  }),
  /** Apply the session's layout when it starts or wakes (ApplyOnStart.ts), not only on `activate`. */
  applyOnStart: Schema.optionalWith(Schema.Boolean, { default: () => true })
})
export type MultiMonitorConfig = typeof MultiMonitorConfig.Type

const LayoutOut = Schema.Struct({
  id: Schema.String,
  scope: Schema.Literal("user", "template", "preset"),
  ownerId: Schema.NullOr(Schema.String),
  name: Schema.String,
  monitors: Monitors,
  isDefault: Schema.Boolean,
  width: Schema.Number,
  height: Schema.Number
})
type LayoutOut = typeof LayoutOut.Type

const LayoutInput = Schema.Struct({
  name: Text.Short.pipe(Schema.minLength(1)),
  monitors: Monitors,
  /** A template's layout (needs multi-monitor:admin) instead of the caller's own. */
  templateId: Schema.optional(Text.Id),
  isDefault: Schema.optionalWith(Schema.Boolean, { default: () => false })
})

interface LayoutRow {
  readonly id: string
  readonly scope: "user" | "template"
  readonly owner_id: string
  readonly name: string
  readonly monitors: unknown
  readonly is_default: boolean
}

const decodeMonitors = Schema.decodeUnknownSync(Monitors)
const toOut = (r: LayoutRow): LayoutOut => {
  const monitors = decodeMonitors(typeof r.monitors === "string" ? JSON.parse(r.monitors) : r.monitors)
  return {
    id: r.id,
    scope: r.scope,
    ownerId: r.owner_id,
    name: r.name,
    monitors,
    isDefault: r.is_default,
    ...boundingBox(monitors)
  }
}
const presetOut = (id: string): LayoutOut => {
  const p = presetOf(id) ?? presets[0]!
  return {
    id: `preset:${p.id}`,
    scope: "preset",
    ownerId: null,
    name: p.title,
    monitors: p.monitors,
    isDefault: false,
    ...boundingBox(p.monitors)
  }
}

const userOf = (actor: Actor.Actor) =>
  Effect.gen(function* () {
    const id = Actor.actorId(actor)
    if (id === null || actor._tag !== "User") return yield* new Forbidden({ message: "a user is required" })
    return id
  })

const Live = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* PluginConfig.get(MultiMonitorConfig)
    const sql = yield* PluginSql
    const routes = yield* Routes
    const events = yield* Events
    const desktops = yield* DesktopControl
    const limits = { maxMonitors: config.maxMonitorsPerSession, maxTotalPixels: config.maxTotalPixels }

    // Whose sessions are which template's: the layout of a session is its owner's for its template.
    yield* events.subscribe(
      {
        name: "sessions",
        events: [
          CoreEvents.SessionCreated,
          CoreEvents.SessionStarted,
          CoreEvents.SessionHibernated,
          CoreEvents.SessionWoken,
          CoreEvents.SessionFailed,
          CoreEvents.SessionStopped
        ]
      },
      (event) =>
        sql`INSERT INTO sessions (session_id, user_id, template_id, state)
            VALUES (${event.payload.sessionId}, ${event.payload.userId}, ${event.payload.templateId}, ${event.payload.state})
            ON CONFLICT (session_id) DO UPDATE SET state = EXCLUDED.state`
    )
    yield* events.subscribe(
      { name: "sessions-deleted", event: CoreEvents.SessionDeleted },
      (event) => sql`DELETE FROM sessions WHERE session_id = ${event.payload.sessionId}`
    )

    const columns = sql`id, scope, owner_id, name, monitors, is_default`
    const layoutById = (id: string) =>
      Effect.map(sql<LayoutRow>`SELECT ${columns} FROM layouts WHERE id = ${id}`, (rows) => rows[0])

    /** May `actor` change layout `row`: their own, or a template's with multi-monitor:admin. */
    const mayWrite = (actor: Actor.Actor, row: LayoutRow) =>
      row.scope === "template" ? Actor.hasPermission(actor, ADMIN) : row.owner_id === Actor.actorId(actor)
    const mayRead = (actor: Actor.Actor, row: LayoutRow) => row.scope === "template" || mayWrite(actor, row)

    const checked = (monitors: ReadonlyArray<Monitor>) =>
      Effect.gen(function* () {
        const result = validate(monitors, limits)
        if ("error" in result) return yield* result.error
        if (!config.allowCustomLayouts) {
          const same = presets.some((p) => JSON.stringify(p.monitors) === JSON.stringify(result.ok))
          if (!same)
            return yield* new Forbidden({ message: "custom layouts are turned off (allowCustomLayouts): use a preset" })
        }
        return result.ok
      })

    /** The layout for `userId` on `templateId`: their default, else the template's, else the configured preset. */
    const effective = (userId: string, templateId: string | null) =>
      Effect.gen(function* () {
        const rows = yield* sql<LayoutRow>`SELECT ${columns} FROM layouts WHERE is_default AND (
            (scope = 'user' AND owner_id = ${userId}) OR (scope = 'template' AND owner_id = ${templateId ?? ""}))
          ORDER BY scope DESC`
        const row = rows[0]
        return row ? toOut(row) : presetOut(config.defaultLayout)
      })

    /** Through the `desktops` grant, which the manifest asks for: a refusal of it is a defect. */
    const applyToDesktop = (sessionId: string, monitors: ReadonlyArray<Monitor>) =>
      desktops.applyMonitors(sessionId, monitors).pipe(Effect.catchTag("PlatformAccessDenied", (e) => Effect.die(e)))

    yield* ApplyOnStart.subscribe({ enabled: config.applyOnStart, effective, apply: applyToDesktop })

    const IdParams = Schema.Struct({ id: Text.Id })

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/presets",
        summary: "Ready-made layouts",
        permission: READ,
        response: Schema.Struct({ items: Schema.Array(LayoutOut), defaultLayout: Schema.String }),
        handler: () =>
          Effect.succeed({ items: presets.map((p) => presetOut(p.id)), defaultLayout: config.defaultLayout })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/layouts",
        summary: "The caller's layouts and the templates' layouts",
        permission: READ,
        query: Schema.Struct({ templateId: Schema.optional(Text.Id) }),
        response: Schema.Struct({ items: Schema.Array(LayoutOut) }),
        handler: ({ actor, query }) =>
          Effect.gen(function* () {
            const me = yield* userOf(actor)
            const rows = yield* sql<LayoutRow>`SELECT ${columns} FROM layouts
              WHERE ((scope = 'user' AND owner_id = ${me}) OR scope = 'template')
                AND (${query.templateId ?? null}::text IS NULL OR scope = 'user' OR owner_id = ${query.templateId ?? null})
              ORDER BY scope DESC, name`
            return { items: rows.map(toOut) }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/layouts",
        summary: "Save a layout (the caller's, or a template's with multi-monitor:admin)",
        permission: WRITE,
        body: LayoutInput,
        response: LayoutOut,
        successStatus: 201,
        errors: [Conflict],
        handler: ({ actor, body }) =>
          Effect.gen(function* () {
            const me = yield* userOf(actor)
            if (body.templateId !== undefined && !Actor.hasPermission(actor, ADMIN))
              return yield* new Forbidden({ message: `template layouts need ${ADMIN}`, permission: ADMIN })
            const monitors = yield* checked(body.monitors)
            const scope = body.templateId === undefined ? "user" : "template"
            const owner = body.templateId ?? me
            const taken =
              yield* sql`SELECT 1 FROM layouts WHERE scope = ${scope} AND owner_id = ${owner} AND name = ${body.name}`
            if (taken.length > 0)
              return yield* new Conflict({ message: `body.name: a layout named "${body.name}" exists` })
            const now = yield* Timestamps.now
            const id = crypto.randomUUID()
            if (body.isDefault)
              yield* sql`UPDATE layouts SET is_default = false WHERE scope = ${scope} AND owner_id = ${owner}`
            yield* sql`INSERT INTO layouts (id, scope, owner_id, name, monitors, is_default, created_by, created_at, updated_at)
              VALUES (${id}, ${scope}, ${owner}, ${body.name}, ${JSON.stringify(monitors)}::jsonb, ${body.isDefault}, ${me}, ${now}, ${now})`
            return toOut({ id, scope, owner_id: owner, name: body.name, monitors, is_default: body.isDefault })
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/layouts/:id",
        summary: "One layout",
        permission: READ,
        params: IdParams,
        response: LayoutOut,
        errors: [NotFound],
        handler: ({ actor, params }) =>
          Effect.gen(function* () {
            const row = yield* layoutById(params.id)
            if (!row || !mayRead(actor, row)) return yield* new NotFound({ resource: "layout", id: params.id })
            return toOut(row)
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "PUT",
        path: "/layouts/:id",
        summary: "Replace a layout's name, monitors and default flag",
        permission: WRITE,
        params: IdParams,
        body: Schema.Struct({
          name: Text.Short.pipe(Schema.minLength(1)),
          monitors: Monitors,
          isDefault: Schema.optionalWith(Schema.Boolean, { default: () => false })
        }),
        response: LayoutOut,
        errors: [NotFound, Conflict],
        handler: ({ actor, params, body }) =>
          Effect.gen(function* () {
            const row = yield* layoutById(params.id)
            if (!row || !mayRead(actor, row)) return yield* new NotFound({ resource: "layout", id: params.id })
            if (!mayWrite(actor, row))
              return yield* new Forbidden({ message: `template layouts need ${ADMIN}`, permission: ADMIN })
            const monitors = yield* checked(body.monitors)
            const clash =
              yield* sql`SELECT 1 FROM layouts WHERE scope = ${row.scope} AND owner_id = ${row.owner_id} AND name = ${body.name} AND id <> ${row.id}`
            if (clash.length > 0)
              return yield* new Conflict({ message: `body.name: a layout named "${body.name}" exists` })
            if (body.isDefault)
              yield* sql`UPDATE layouts SET is_default = false WHERE scope = ${row.scope} AND owner_id = ${row.owner_id}`
            yield* sql`UPDATE layouts SET name = ${body.name}, monitors = ${JSON.stringify(monitors)}::jsonb,
              is_default = ${body.isDefault}, updated_at = ${yield* Timestamps.now} WHERE id = ${row.id}`
            return toOut({ ...row, name: body.name, monitors, is_default: body.isDefault })
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "DELETE",
        path: "/layouts/:id",
        summary: "Delete a layout",
        permission: WRITE,
        params: IdParams,
        successStatus: 204,
        errors: [NotFound],
        handler: ({ actor, params }) =>
          Effect.gen(function* () {
            const row = yield* layoutById(params.id)
            if (!row || !mayRead(actor, row)) return yield* new NotFound({ resource: "layout", id: params.id })
            if (!mayWrite(actor, row))
              return yield* new Forbidden({ message: `template layouts need ${ADMIN}`, permission: ADMIN })
            yield* sql`DELETE FROM layouts WHERE id = ${row.id}`
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/effective",
        summary:
          "The layout that applies to the caller on a template (theirs, else the template's, else the default preset)",
        permission: READ,
        query: Schema.Struct({ templateId: Schema.optional(Text.Id) }),
        response: LayoutOut,
        handler: ({ actor, query }) => Effect.flatMap(userOf(actor), (me) => effective(me, query.templateId ?? null))
      })
    )

    const SessionLayout = Schema.Struct({
      sessionId: Schema.String,
      layout: LayoutOut,
      /** The xrandr invocations (argument vectors) that apply it to a desktop with no monitors of its own yet. */
      xrandr: Schema.Array(Schema.Array(Schema.String))
    })

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/sessions",
        summary: "The caller's sessions the plugin knows, with the layout of each",
        permission: READ,
        response: Schema.Struct({
          items: Schema.Array(
            Schema.Struct({
              sessionId: Schema.String,
              templateId: Schema.String,
              state: Schema.String,
              layout: LayoutOut
            })
          )
        }),
        handler: ({ actor }) =>
          Effect.gen(function* () {
            const me = yield* userOf(actor)
            const rows = yield* sql<{ session_id: string; template_id: string; state: string }>`
              SELECT session_id, template_id, state FROM sessions WHERE user_id = ${me} ORDER BY session_id`
            const items = yield* Effect.forEach(rows, (r) =>
              Effect.map(effective(me, r.template_id), (layout) => ({
                sessionId: r.session_id,
                templateId: r.template_id,
                state: r.state,
                layout
              }))
            )
            return { items }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "GET",
        path: "/sessions/:id/layout",
        summary: "The layout of a session (its owner's for its template) and how it is applied",
        permission: READ,
        params: IdParams,
        response: SessionLayout,
        errors: [NotFound],
        handler: ({ actor, params }) =>
          Effect.gen(function* () {
            const rows = yield* sql<{ user_id: string; template_id: string }>`
              SELECT user_id, template_id FROM sessions WHERE session_id = ${params.id}`
            const s = rows[0]
            if (!s || (s.user_id !== Actor.actorId(actor) && !Actor.hasPermission(actor, ADMIN)))
              return yield* new NotFound({ resource: "session", id: params.id })
            const layout = yield* effective(s.user_id, s.template_id)
            return { sessionId: params.id, layout, xrandr: Xrandr.commands(layout.monitors, [], []).map((c) => [...c]) }
          })
      })
    )

    yield* routes.add(
      HttpRoute.make({
        method: "POST",
        path: "/sessions/:id/activate",
        summary: "Apply the session's layout to its running desktop (framebuffer and RandR monitors; no restart)",
        permission: WRITE,
        params: IdParams,
        response: Schema.Struct({ sessionId: Schema.String, layout: LayoutOut, monitors: Schema.Array(Monitor) }),
        errors: [NotFound, Conflict, NotImplemented],
        transactional: false,
        handler: ({ actor, params }) =>
          Effect.gen(function* () {
            const rows = yield* sql<{ user_id: string; template_id: string }>`
              SELECT user_id, template_id FROM sessions WHERE session_id = ${params.id}`
            const s = rows[0]
            if (!s || (s.user_id !== Actor.actorId(actor) && !Actor.hasPermission(actor, ADMIN)))
              return yield* new NotFound({ resource: "session", id: params.id })
            const layout = yield* effective(s.user_id, s.template_id)
            const monitors = yield* applyToDesktop(params.id, layout.monitors).pipe(
              Effect.catchTags({
                DesktopControlError: (e) =>
                  e.status === 404
                    ? Effect.fail(new NotFound({ resource: "session", id: params.id }))
                    : e.status === 403
                      ? Effect.fail(new Forbidden({ message: e.message }))
                      : e.status === 501
                        ? Effect.fail(new NotImplemented({ feature: e.message }))
                        : e.status === 409
                          ? Effect.fail(new Conflict({ message: e.message }))
                          : Effect.die(e)
              })
            )
            return { sessionId: params.id, layout, monitors }
          })
      })
    )
  })
)

export default definePlugin({
  id: "multi-monitor",
  name: "Multi-monitor",
  version: "1.0.0",
  type: "extension",
  category: "sessions",
  description: "One session desktop over several monitors: layouts, RandR monitors, one browser window per monitor",
  permissions: [
    {
      name: READ,
      description: "See monitor layouts and open a session on several monitors",
      roles: ["user", "operator"]
    },
    { name: WRITE, description: "Save one's own monitor layouts", roles: ["user", "operator"] },
    { name: ADMIN, description: "Set the monitor layouts of templates" }
  ],
  grants: ["desktops"],
  config: MultiMonitorConfig,
  migrations: [{ id: 1, name: "layouts", sql: layoutsSql }],
  layer: Live,
  ui: [
    {
      kind: "page",
      id: "layouts",
      title: "Monitor layouts",
      path: "layouts",
      nav: "portal",
      permissions: [READ],
      component: "ui/LayoutsPage.tsx"
    },
    {
      kind: "page",
      id: "monitor",
      title: "Monitor window",
      path: "monitor",
      nav: "portal",
      permissions: [READ],
      component: "ui/MonitorPage.tsx"
    }
  ]
})

export * as Layout from "./Layout.ts"
export { Xrandr } from "@streamspace/core"
