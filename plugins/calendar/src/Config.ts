/** The calendar plugin's configuration (docs/plugins/calendar.md). */
import { PluginConfig } from "@streamspace/kernel"
import { Schema } from "effect"

const Url = Schema.String.pipe(Schema.pattern(/^https?:\/\/[^\s]+$/, { message: () => "an http(s) URL" }))

const Provider = (defaults: { authUrl: string; tokenUrl: string; apiUrl: string; revokeUrl: string; scope: string }) =>
  Schema.optionalWith(
    Schema.Struct({
      clientId: Schema.optionalWith(Schema.String.pipe(Schema.maxLength(500)), { default: () => "" }),
      authUrl: Schema.optionalWith(Url, { default: () => defaults.authUrl }),
      tokenUrl: Schema.optionalWith(Url, { default: () => defaults.tokenUrl }),
      apiUrl: Schema.optionalWith(Url, { default: () => defaults.apiUrl }),
      /** Empty: the provider has no revocation endpoint (tokens are dropped locally). */
      revokeUrl: Schema.optionalWith(Schema.Union(Url, Schema.Literal("")), { default: () => defaults.revokeUrl }),
      scope: Schema.optionalWith(Schema.String.pipe(Schema.maxLength(1000)), { default: () => defaults.scope })
    }),
    {
      default: () => ({ clientId: "", ...defaults })
    }
  )

export const CalendarConfig = Schema.Struct({
  /** Minutes between executor ticks (launch due occurrences, stop ended ones). */
  executorIntervalMinutes: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 60)), { default: () => 1 }),
  /** How far ahead occurrences are materialized, and conflicts checked (days). */
  horizonDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 366)), { default: () => 2 }),
  conflictWindowDays: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1830)), { default: () => 366 }),
  maxSchedulesPerUser: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1000)), { default: () => 50 }),
  /** The console's public origin for feed and OAuth redirect URLs; empty: the request's own. */
  publicUrl: Schema.optionalWith(Schema.Union(Url, Schema.Literal("")), { default: () => "" }),
  syncIntervalMinutes: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 1440)), { default: () => 5 }),
  google: Provider({
    authUrl: "https://accounts.google.com/o/oauth2/v2/auth",
    tokenUrl: "https://oauth2.googleapis.com/token",
    apiUrl: "https://www.googleapis.com/calendar/v3",
    revokeUrl: "https://oauth2.googleapis.com/revoke",
    scope: "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.freebusy"
  }),
  googleClientSecret: Schema.optional(PluginConfig.secret(Schema.String.pipe(Schema.minLength(1)))),
  microsoft: Provider({
    authUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
    tokenUrl: "https://login.microsoftonline.com/common/oauth2/v2.0/token",
    apiUrl: "https://graph.microsoft.com/v1.0",
    revokeUrl: "",
    scope: "offline_access Calendars.ReadWrite"
  }),
  microsoftClientSecret: Schema.optional(PluginConfig.secret(Schema.String.pipe(Schema.minLength(1)))),
  /** Key that seals OAuth tokens at rest; without it one is generated and kept in the plugin's storage. */
  tokenKey: Schema.optional(PluginConfig.secret(Schema.String.pipe(Schema.minLength(16))))
})
export type CalendarConfig = typeof CalendarConfig.Type
