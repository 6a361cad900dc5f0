/** Config fields marked secret are sealed at rest, masked on read and write-only. */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { HttpRoute } from "@streamspace/core"
import { definePlugin, PluginConfig, Routes } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Schema } from "effect"

const Config = Schema.Struct({
  channel: Schema.optionalWith(Schema.String, { default: () => "#general" }),
  webhookUrl: Schema.optional(PluginConfig.secret(Schema.String.pipe(Schema.startsWith("https://"))))
})

const notifier = definePlugin({
  id: "notifier",
  name: "Notifier",
  version: "1.0.0",
  type: "integration",
  category: "notifications",
  config: Config,
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const config = yield* PluginConfig.get(Config)
      yield* (yield* Routes).add(
        HttpRoute.make({
          method: "GET",
          path: "/where",
          summary: "where the plugin would post (test only)",
          permission: "authenticated",
          response: Schema.Struct({ channel: Schema.String, webhookUrl: Schema.NullOr(Schema.String) }),
          handler: () => Effect.succeed({ channel: config.channel, webhookUrl: config.webhookUrl ?? null })
        })
      )
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [notifier], config: { plugins: { enabled: ["notifier"] } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const secretUrl = "https://hooks.example/services/T000/B000/SECRETSECRET"

test(`secret config fields are sealed, masked and write-only (${TestPlatform.engine()})`, async () => {
  expect(
    (
      await p.http("PUT", "/api/admin/plugins/notifier/config", {
        token: admin,
        body: { channel: "#ops", webhookUrl: secretUrl }
      })
    ).status
  ).toBe(200)
  const read = await p.http<{ value: Record<string, unknown> }>("GET", "/api/admin/plugins/notifier/config", {
    token: admin
  })
  expect(read.body.value).toEqual({ channel: "#ops", webhookUrl: "********" })
  const stored = await p.query("SELECT config, secrets FROM plugins WHERE id = 'notifier'")
  expect(JSON.stringify(stored)).not.toContain("SECRETSECRET")
  expect(
    (await p.http<{ webhookUrl: string }>("GET", "/api/plugins/notifier/where", { token: admin })).body.webhookUrl
  ).toBe(secretUrl)
  // Sending the masked value back (as a form would) or leaving it out keeps the secret.
  await p.http("PUT", "/api/admin/plugins/notifier/config", {
    token: admin,
    body: { ...read.body.value, channel: "#alerts" }
  })
  await p.http("PUT", "/api/admin/plugins/notifier/config", { token: admin, body: { channel: "#alerts" } })
  expect((await p.http("GET", "/api/plugins/notifier/where", { token: admin })).body).toEqual({
    channel: "#alerts",
    webhookUrl: secretUrl
  })
  const bad = await p.http<{ errors: ReadonlyArray<{ path: string }> }>("PUT", "/api/admin/plugins/notifier/config", {
    token: admin,
    body: { webhookUrl: "http://insecure" }
  })
  expect(bad.status).toBe(400)
  expect(bad.body.errors[0]?.path).toBe("body.webhookUrl")
  expect(JSON.stringify(bad.body)).not.toContain("insecure")
})
