/**
 * Email over SMTP (implicit TLS, STARTTLS or plain, with optional auth):
 * HTML and plain-text bodies from templates, to fixed addresses, to every
 * user holding a role or in a group, and to the user the event concerns.
 * Recipients are resolved when the event is handled and kept with the
 * queued message.
 */
import { Directory, IntegrationDispatcher, OutgoingHost } from "@streamspace/core"
import { IntegrationProvider, PluginConfig } from "@streamspace/kernel"
import { defineNotifier, integrationConfig, TextTemplate } from "@streamspace/notify"
import { Effect, Schema } from "effect"
import { isIP } from "node:net"
import nodemailer from "nodemailer"

const Address = Schema.String.pipe(
  Schema.pattern(/^[^\s@<>]+@[^\s@<>]+$/, { message: () => "an email address such as ops@example.com" })
)
/** `ops@example.com` or `StreamSpace <ops@example.com>`. */
const Sender = Schema.String.pipe(
  Schema.pattern(/^([^<>]*<[^\s@<>]+@[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+)$/, {
    message: () => "an address, or a name and <address>"
  })
)

export const Recipients = Schema.Struct({
  addresses: Schema.optionalWith(Schema.Array(Address), { default: () => [] }),
  /** Every enabled user holding one of these roles (with an email address). */
  roles: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.minLength(1))), { default: () => [] }),
  /** Every enabled member of one of these groups (with an email address). */
  groups: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.minLength(1))), { default: () => [] }),
  /** Also the user the event is about (the session's owner, the new user…). */
  eventUser: Schema.optionalWith(Schema.Boolean, { default: () => false })
}).pipe(
  Schema.filter(
    (r) =>
      r.addresses.length + r.roles.length + r.groups.length > 0 ||
      r.eventUser || {
        path: ["addresses"],
        message: "name at least one recipient: addresses, roles, groups or eventUser"
      }
  )
)

export const EmailIntegration = integrationConfig({
  /** The relay; it must pass the egress policy (a relay on a private network needs an `egress.allow` entry). */
  host: OutgoingHost,
  port: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 65535)), { default: () => 587 }),
  /** `tls`: TLS from the first byte (port 465); `starttls`: upgrade required (587); `none`: plain text (local relays only). */
  security: Schema.optionalWith(Schema.Literal("starttls", "tls", "none"), { default: () => "starttls" as const }),
  username: Schema.optional(Schema.String.pipe(Schema.minLength(1))),
  password: Schema.optional(PluginConfig.secret(Schema.String.pipe(Schema.minLength(1)))),
  /** Verify the server's certificate (turn off only for a relay with a self-signed one). */
  verifyCertificate: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  from: Sender,
  to: Recipients,
  subject: Schema.optionalWith(TextTemplate.Template, { default: () => "[StreamSpace] {{title}}" }),
  text: Schema.optionalWith(TextTemplate.Template, {
    default: () => "{{title}}\n\n{{text}}\n\n{{fields}}\n\n-- \nStreamSpace · {{event}} · {{time}}\n"
  }),
  html: Schema.optionalWith(TextTemplate.Template, {
    default: () =>
      `<div style="font-family:sans-serif"><h2 style="margin:0 0 8px">{{title}}</h2><p>{{text}}</p>{{fields}}<p style="color:#888;font-size:12px">StreamSpace · {{event}} · {{time}}</p></div>`
  })
}).pipe(
  Schema.filter(
    (c) =>
      (c.username === undefined) === (c.password === undefined) || {
        path: [c.username === undefined ? "username" : "password"],
        message: "username and password go together"
      }
  )
)
export type EmailIntegration = typeof EmailIntegration.Type

export const EmailMessage = Schema.Struct({
  to: Schema.Array(Schema.String),
  subject: Schema.String,
  text: Schema.String,
  html: Schema.String,
  event: Schema.String
})

/** SMTP failures worth retrying: 4xx replies and connection problems; 5xx replies are permanent. */
const transientCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "ECONNECTION",
  "ESOCKET",
  "EDNS",
  "ETLS",
  "EPROTOCOL"
])

/** Sends one message through the relay at `address` (checked), verifying its certificate against `config.host`. */
const deliver = (
  message: typeof EmailMessage.Type,
  config: EmailIntegration,
  address: string
): Effect.Effect<IntegrationDispatcher.SendOutcome> =>
  Effect.tryPromise(async () => {
    const transport = nodemailer.createTransport({
      host: address,
      port: config.port,
      secure: config.security === "tls",
      requireTLS: config.security === "starttls",
      ignoreTLS: config.security === "none",
      ...(config.username && config.password ? { auth: { user: config.username, pass: config.password } } : {}),
      // The certificate is checked against the configured name, not the address connected to.
      tls: { rejectUnauthorized: config.verifyCertificate, ...(isIP(config.host) ? {} : { servername: config.host }) },
      connectionTimeout: 10_000,
      greetingTimeout: 10_000,
      socketTimeout: 20_000
    })
    try {
      return await transport.sendMail({
        from: config.from,
        to: [...message.to],
        subject: message.subject,
        text: message.text,
        html: message.html,
        headers: { "X-StreamSpace-Event": message.event }
      })
    } finally {
      transport.close()
    }
  }).pipe(
    Effect.map((info) => ({ ok: true, responseCode: Number(/^\d{3}/.exec(info.response)?.[0] ?? 250) })),
    Effect.catchAll(({ error }) => {
      const e = error as { responseCode?: number; code?: string; message?: string }
      const code = typeof e.responseCode === "number" ? e.responseCode : null
      return Effect.succeed({
        ok: false,
        responseCode: code,
        error: `SMTP: ${e.message ?? String(error)}`,
        permanent: code !== null ? code >= 500 : !transientCodes.has(e.code ?? "")
      })
    })
  )

export default defineNotifier({
  id: "email-smtp",
  name: "Email (SMTP)",
  version: "1.0.0",
  description: "Email notifications over SMTP (TLS, STARTTLS, auth) with HTML and plain-text templates",
  integration: EmailIntegration,
  message: EmailMessage,
  render: (notice, { config, name }) =>
    Effect.gen(function* () {
      const directory = yield* Directory.Directory
      const { addresses, roles, groups, eventUser } = config.to
      const members = yield* directory.users({ roles, groups })
      const to = [
        ...new Set([
          ...addresses,
          ...members.map((u) => u.email).filter((e): e is string => !!e),
          ...(eventUser && notice.user?.email ? [notice.user.email] : [])
        ])
      ]
      if (to.length === 0) {
        yield* Effect.logWarning(
          `email integration ${name}: nobody to send ${notice.type} to (no recipient has an email address)`
        )
        return []
      }
      return [
        {
          payload: {
            to,
            subject: TextTemplate.renderText(config.subject, notice).replace(/[\r\n]+/g, " "),
            text: TextTemplate.renderText(config.text, notice),
            html: TextTemplate.renderHtml(config.html, notice),
            event: notice.type
          }
        }
      ]
    }),
  send: (message, config) =>
    Effect.gen(function* () {
      // The relay's address, checked against the egress policy; the connection goes there and nowhere else.
      const target = yield* (yield* IntegrationProvider).destination(config.host)
      return yield* deliver(message, config, target.address)
    }).pipe(
      Effect.catchTags({
        EgressRefused: (refused) => Effect.succeed(IntegrationDispatcher.permanentFailure(`SMTP: ${refused.message}`)),
        EgressUnresolved: (unresolved) =>
          Effect.succeed({ ok: false, responseCode: null, error: `SMTP: ${unresolved.message}` })
      })
    )
})
