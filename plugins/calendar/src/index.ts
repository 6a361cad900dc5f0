/**
 * Calendar (`streamspace-calendar` in the migration plan): scheduled
 * sessions (one-off and recurring, in a time zone, DST-correct) that an
 * executor launches and stops on time, a real iCalendar feed at a secret
 * subscribe URL, and Google Calendar / Outlook sync over OAuth 2.0 with
 * PKCE. See docs/plugins/calendar.md.
 */
import { HttpClient } from "@effect/platform"
import { Directory, SecretBox, Timestamps } from "@streamspace/core"
import {
  definePlugin,
  Events,
  PluginConfig,
  PluginSql,
  PluginStorage,
  Routes,
  Scheduler,
  SessionControl
} from "@streamspace/kernel"
import { Effect, Layer, Option, Schema } from "effect"
import { randomBytes } from "node:crypto"
import schema from "../migrations/0001_calendar.sql" with { type: "text" }
import { CalendarConfig } from "./Config.ts"
import { makeExecutor, OccurrenceStopped, Triggered } from "./Executor.ts"
import { addRoutes } from "./Http.ts"
import { makeSync } from "./Sync.ts"

export { CalendarConfig } from "./Config.ts"
export { OccurrenceStopped, Triggered } from "./Executor.ts"
export * as ICalendar from "./ICalendar.ts"
export * as Recurrence from "./Recurrence.ts"
export * as Time from "./Time.ts"

const CalendarLive = Layer.scopedDiscard(
  Effect.gen(function* () {
    const config = yield* PluginConfig.get(CalendarConfig)
    const sql = yield* PluginSql
    const storage = yield* PluginStorage
    const events = yield* Events
    const sessions = yield* SessionControl
    const directory = yield* Directory.Directory
    const http = yield* HttpClient.HttpClient

    // Tokens are sealed with the configured key, or with one made once and kept in the plugin's storage.
    const stored = yield* Effect.orDie(storage.get("token-key", Schema.String))
    const key = config.tokenKey ?? Option.getOrUndefined(stored) ?? randomBytes(32).toString("base64url")
    if (config.tokenKey === undefined && Option.isNone(stored)) yield* storage.set("token-key", key, Schema.String)
    const box = SecretBox.make(key)

    const executor = makeExecutor(sql, sessions, events, config.horizonDays)
    const sync = makeSync({ sql, http, config, box })
    const scheduler = yield* Scheduler
    yield* scheduler.schedule(
      "executor",
      { every: `${config.executorIntervalMinutes} minutes` },
      Effect.flatMap(Timestamps.now, (now) => executor.tick(now.getTime()))
    )
    yield* scheduler.schedule(
      "sync",
      { every: `${config.syncIntervalMinutes} minutes` },
      Effect.flatMap(Timestamps.now, (now) => sync.syncAll(now))
    )
    yield* addRoutes({ sql, routes: yield* Routes, directory, config, executor, sync })
  })
)

export default definePlugin({
  id: "calendar",
  name: "Calendar",
  version: "1.0.0",
  type: "extension",
  category: "productivity",
  description: "Scheduled sessions launched on time, an iCalendar feed, Google Calendar and Outlook sync",
  permissions: [
    {
      name: "calendar:read",
      description: "See your scheduled sessions, occurrences and feed",
      roles: ["user", "operator"]
    },
    {
      name: "calendar:write",
      description: "Schedule sessions, rotate your feed URL, connect calendars",
      roles: ["user", "operator"]
    }
  ],
  grants: ["sessions"],
  config: CalendarConfig,
  migrations: [{ id: 1, name: "calendar", sql: schema }],
  events: Events.declare(Triggered, OccurrenceStopped),
  layer: CalendarLive,
  ui: [
    {
      kind: "page",
      id: "schedules",
      title: "Scheduled sessions",
      // The OAuth callback sends the browser back here (`?connected=<provider>`).
      path: "schedules",
      nav: "portal",
      icon: "calendar_month",
      permissions: ["calendar:read"],
      component: "ui/CalendarPage.tsx"
    }
  ]
})
