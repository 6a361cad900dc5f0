/**
 * Config Schemas as an admin form sees them: `configJsonSchema` is flat and
 * inlined (no $ref/$defs/allOf), carries defaults, marks secrets
 * write-only; `normalize` reports a union mismatch as one entry and never
 * echoes a secret. Unit tests on the real plugins' Schemas.
 */
import { describe, expect, test } from "bun:test"
import { PluginConfig } from "@streamspace/kernel"
import { DiscordIntegration } from "@streamspace/plugin-discord"
import { EmailIntegration } from "@streamspace/plugin-email-smtp"
import { HelloConfig } from "@streamspace/plugin-hello"
import { PagerDutyIntegration } from "@streamspace/plugin-pagerduty"
import { SlackIntegration } from "@streamspace/plugin-slack"
import { TeamsIntegration } from "@streamspace/plugin-teams"
import { Effect, Either, Schema } from "effect"
import { ConfigSchema } from "@streamspace/kernel/host"

type Node = { readonly [key: string]: unknown }
const props = (schema: Node) => schema["properties"] as Record<string, Node>

/** Every keyword anywhere in the document (keys of objects, recursively). */
const keywords = (value: unknown, out = new Set<string>()): Set<string> => {
  if (Array.isArray(value)) for (const v of value) keywords(v, out)
  else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.add(k)
      keywords(v, out)
    }
  }
  return out
}

const failures = (schema: Schema.Schema<unknown, unknown>, input: unknown) =>
  Effect.runSync(Effect.either(ConfigSchema.normalize(schema, input))).pipe(
    Either.match({ onLeft: (e) => e, onRight: () => [] })
  )

describe("configJsonSchema", () => {
  test("HelloConfig: flat integer bounds, minLength and the defaults of optionalWith", () => {
    const schema = ConfigSchema.configJsonSchema(HelloConfig)
    expect(schema).toMatchObject({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "object",
      required: [],
      additionalProperties: false
    })
    expect(props(schema)["greeting"]).toMatchObject({ type: "string", minLength: 1, default: "Hello" })
    expect(props(schema)["blockedTemplate"]).toEqual({ type: "string", default: "" })
    expect(props(schema)["tickSeconds"]).toMatchObject({ type: "integer", minimum: 1, maximum: 3600, default: 60 })
    // Built-in filters' call titles ("minLength(1)", "int") are not labels.
    expect(props(schema)["tickSeconds"]).not.toHaveProperty("title")
    expect(props(schema)["greeting"]).not.toHaveProperty("title")
  })

  test("no $ref, $defs or allOf in any plugin's config", () => {
    for (const s of [
      HelloConfig,
      EmailIntegration,
      SlackIntegration,
      PagerDutyIntegration,
      TeamsIntegration,
      DiscordIntegration
    ] as ReadonlyArray<Schema.Schema<unknown, unknown>>) {
      const found = keywords(ConfigSchema.configJsonSchema(s))
      for (const noise of ["$ref", "$defs", "allOf", "definitions"]) expect(found.has(noise)).toBe(false)
    }
  })

  test("SMTP: secret password write-only, literal list as one enum, nested struct inlined, required fields", () => {
    const schema = ConfigSchema.configJsonSchema(EmailIntegration)
    const p = props(schema)
    expect(p["password"]).toMatchObject({ type: "string", minLength: 1, writeOnly: true, format: "password" })
    expect(p["username"]).not.toHaveProperty("writeOnly")
    expect(p["security"]).toEqual({ type: "string", enum: ["starttls", "tls", "none"], default: "starttls" })
    expect(p["port"]).toMatchObject({ type: "integer", minimum: 1, maximum: 65535, default: 587 })
    expect(p["verifyCertificate"]).toEqual({ type: "boolean", default: true })
    expect(schema["required"]).toEqual(["host", "from", "to"])
    expect(p["to"]).toMatchObject({ type: "object", additionalProperties: false })
    expect(props(p["to"]!)["addresses"]).toMatchObject({ type: "array", items: { type: "string" }, default: [] })
    expect(p["events"]).toMatchObject({
      type: "array",
      minItems: 1,
      default: ["session.created", "user.created", "quota.exceeded"]
    })
    expect(p["filters"]).toMatchObject({ type: "object", default: {} })
  })

  test("Slack and PagerDuty: optional and required secrets, records of literals", () => {
    const slack = props(ConfigSchema.configJsonSchema(SlackIntegration))
    expect(slack["webhookUrl"]).toMatchObject({ type: "string", writeOnly: true, format: "password" })
    expect(slack["botToken"]).toMatchObject({
      type: "string",
      pattern: "^xox[a-z]-",
      writeOnly: true,
      format: "password"
    })
    expect(slack["apiUrl"]).toMatchObject({ type: "string", default: "https://slack.com/api" })
    expect(slack["apiUrl"]).not.toHaveProperty("writeOnly")
    const pagerDuty = ConfigSchema.configJsonSchema(PagerDutyIntegration)
    expect(pagerDuty["required"]).toEqual(["routingKey"])
    expect(props(pagerDuty)["routingKey"]).toMatchObject({
      type: "string",
      minLength: 8,
      writeOnly: true,
      format: "password"
    })
    expect(props(pagerDuty)["severities"]).toMatchObject({
      type: "object",
      additionalProperties: { type: "string", enum: ["critical", "error", "warning", "info"] },
      default: {}
    })
    expect(props(pagerDuty)["events"]).toMatchObject({ default: ["quota.exceeded", "session.failed"] })
  })

  test("classes and identified Schemas are inlined; encoded defaults; user titles kept; nullable and tuples", () => {
    class Endpoint extends Schema.Class<Endpoint>("Endpoint")({
      url: Schema.String,
      retries: Schema.optionalWith(Schema.Int.pipe(Schema.nonNegative()), { default: () => 3 })
    }) {}
    const Port = Schema.Int.pipe(Schema.between(1, 65535)).annotations({ identifier: "Port", title: "Port number" })
    const schema = ConfigSchema.configJsonSchema(
      Schema.Struct({
        endpoint: Endpoint,
        port: Port,
        ratio: Schema.optionalWith(Schema.NumberFromString, { default: () => 0.5 }),
        note: Schema.NullOr(Schema.String.pipe(Schema.maxLength(10))),
        pair: Schema.Tuple(Schema.String, Schema.Number),
        token: PluginConfig.secret(Schema.String)
      })
    )
    expect(keywords(schema).has("$ref")).toBe(false)
    const p = props(schema)
    expect(p["endpoint"]).toMatchObject({ type: "object", required: ["url"] })
    expect(props(p["endpoint"]!)["retries"]).toMatchObject({ type: "integer", minimum: 0, default: 3 })
    expect(p["port"]).toMatchObject({ type: "integer", minimum: 1, maximum: 65535, title: "Port number" })
    // The form edits the stored (encoded) value: a string, defaulting to "0.5".
    expect(p["ratio"]).toMatchObject({ type: "string", default: "0.5" })
    expect(p["note"]).toEqual({ anyOf: [expect.objectContaining({ type: "string", maxLength: 10 }), { type: "null" }] })
    expect(p["pair"]).toMatchObject({
      type: "array",
      items: [{ type: "string" }, { type: "number" }],
      minItems: 2,
      additionalItems: false
    })
    expect(p["token"]).toEqual({ type: "string", writeOnly: true, format: "password" })
    expect(schema["required"]).toEqual(["endpoint", "port", "note", "pair", "token"])
  })
})

describe("normalize", () => {
  test("a literal-list mismatch is one entry naming the allowed values", () => {
    expect(
      failures(EmailIntegration as Schema.Schema<unknown, unknown>, {
        host: "smtp",
        from: "ops@example.com",
        to: { addresses: ["a@b.c"] },
        security: "ssl"
      })
    ).toEqual([{ path: "security", message: 'Expected one of "starttls", "tls", "none", actual "ssl"' }])
  })

  test('an optional field of the wrong type is one entry, without "Expected undefined"', () => {
    expect(failures(HelloConfig as Schema.Schema<unknown, unknown>, { tickSeconds: "often" })).toEqual([
      { path: "tickSeconds", message: 'Expected a number between 1 and 3600, actual "often"' }
    ])
  })

  test("a rejected secret is never echoed, also in a union message", () => {
    const issues = failures(EmailIntegration as Schema.Schema<unknown, unknown>, {
      host: "smtp",
      from: "ops@example.com",
      to: { eventUser: true },
      username: "u",
      password: 12345678
    })
    expect(issues).toEqual([
      { path: "password", message: "Expected a string at least 1 character(s) long, actual <redacted>" }
    ])
    expect(JSON.stringify(issues)).not.toContain("12345678")
  })
})
