/**
 * Integration secrets are what the config's Schema declares (finding 8:
 * secrets nested, or named `authorization`, `dsn`, `url` with credentials,
 * came back in clear because only key names were matched): every declared
 * place — a nested object's field, each element of an array, a top-level
 * `url` — is masked in every response (create, get, list, update), sealed
 * at rest, kept when sent back masked, never echoed by a validation error,
 * and scrubbed from stored and logged delivery errors.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpUrl, IntegrationDeliveries, IntegrationDispatcher, Integrations, SecretBox } from "@streamspace/core"
import { definePlugin, IntegrationProvider, PluginConfig } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Schema } from "effect"

const MASK = "********"

const VaultConfig = Schema.Struct({
  url: PluginConfig.secret(HttpUrl),
  endpoint: Schema.Struct({
    url: PluginConfig.secret(HttpUrl),
    timeoutMs: Schema.optionalWith(Schema.Int, { default: () => 5000 })
  }),
  headers: Schema.Struct({
    authorization: PluginConfig.secret(Schema.String),
    accept: Schema.optional(Schema.String)
  }),
  targets: Schema.Array(Schema.Struct({ name: Schema.String, dsn: PluginConfig.secret(Schema.String) }))
})

/** A provider whose receiver is always down, and whose error text quotes every secret it was given. */
const vault = definePlugin({
  id: "vault",
  name: "Vault",
  version: "1.0.0",
  type: "integration",
  category: "notifications",
  layer: Layer.scopedDiscard(
    Effect.flatMap(IntegrationProvider, (provider) =>
      provider.serve({
        config: VaultConfig,
        send: (_, config) =>
          Effect.succeed({
            ok: false,
            responseCode: 502,
            permanent: true,
            error: `could not post to ${config.url} or ${config.endpoint.url} (authorization: ${config.headers.authorization}; dsn ${config.targets.map((t) => t.dsn).join(", ")}; password ${new URL(config.endpoint.url).password})`
          })
      })
    )
  )
})

const secrets = {
  url: "https://hook-user:Hook-Pa55word@hooks.invalid/deliver",
  endpoint: "https://svc:Endp0int-Secret@api.invalid/v1",
  authorization: "Bearer Auth-Token-123456",
  dsn1: "postgres://dbuser:Primary-Db-Pass@db1.invalid/app",
  dsn2: "postgres://dbuser:Replica-Db-Pass@db2.invalid/app"
}
/** Texts that must appear in no response, stored row or log line. */
const leaks = ["Hook-Pa55word", "Endp0int-Secret", "Auth-Token-123456", "Primary-Db-Pass", "Replica-Db-Pass"]
const expectNoSecret = (text: string) => {
  for (const leak of leaks) expect(text).not.toContain(leak)
}

const config = {
  url: secrets.url,
  endpoint: { url: secrets.endpoint },
  headers: { authorization: secrets.authorization, accept: "application/json" },
  targets: [
    { name: "primary", dsn: secrets.dsn1 },
    { name: "replica", dsn: secrets.dsn2 }
  ]
}
const masked = {
  url: MASK,
  endpoint: { url: MASK, timeoutMs: 5000 },
  headers: { authorization: MASK, accept: "application/json" },
  targets: [
    { name: "primary", dsn: MASK },
    { name: "replica", dsn: MASK }
  ]
}

interface IntegrationBody {
  readonly id: string
  readonly config: Record<string, unknown>
  readonly secretFields: ReadonlyArray<string>
}
interface Problem {
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [vault], config: { plugins: { enabled: ["vault"] } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const resolve = (id: string) => p.run(Effect.flatMap(Integrations.Integrations, (i) => i.resolve(id)))

describe(`secrets declared by the provider's Schema (${TestPlatform.engine()})`, () => {
  let id: string

  test("nested secrets and fields named url, authorization, dsn are masked in every response", async () => {
    const created = await p.http<IntegrationBody>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "vault", name: "nested", config }
    })
    expect(created.status).toBe(201)
    id = created.body.id
    expect(created.body.config).toEqual(masked)
    expect(created.body.secretFields).toEqual(["endpoint.url", "headers.authorization", "targets.*.dsn", "url"])
    expectNoSecret(created.text)

    const one = await p.http<IntegrationBody>("GET", `/api/integrations/${id}`, { token: admin })
    expect(one.body.config).toEqual(masked)
    expectNoSecret(one.text)
    const list = await p.http<{ items: ReadonlyArray<IntegrationBody> }>("GET", "/api/integrations?provider=vault", {
      token: admin
    })
    expect(list.body.items.find((i) => i.id === id)?.config).toEqual(masked)
    expectNoSecret(list.text)

    const row = await p.query("SELECT * FROM integrations WHERE id = $1", [id])
    expectNoSecret(JSON.stringify(row))
    expect((await resolve(id)).config).toEqual({ ...config, endpoint: { url: secrets.endpoint, timeoutMs: 5000 } })
  })

  test("sent back masked, secrets keep their value; a new value replaces one; the response stays masked", async () => {
    const read = await p.http<IntegrationBody>("GET", `/api/integrations/${id}`, { token: admin })
    const edited = {
      ...read.body.config,
      targets: [
        { name: "primary", dsn: MASK },
        { name: "standby", dsn: MASK }
      ],
      headers: { authorization: "Bearer Rotated-Token-654321", accept: "application/json" }
    }
    const patched = await p.http<IntegrationBody>("PATCH", `/api/integrations/${id}`, {
      token: admin,
      body: { config: edited }
    })
    expect(patched.status).toBe(200)
    expect(patched.body.config).toEqual({
      ...masked,
      targets: [
        { name: "primary", dsn: MASK },
        { name: "standby", dsn: MASK }
      ]
    })
    expectNoSecret(patched.text)
    expect(patched.text).not.toContain("Rotated-Token-654321")
    const full = (await resolve(id)).config as typeof config
    expect(full.url).toBe(secrets.url)
    expect(full.headers.authorization).toBe("Bearer Rotated-Token-654321")
    expect(full.targets).toEqual([
      { name: "primary", dsn: secrets.dsn1 },
      { name: "standby", dsn: secrets.dsn2 }
    ])
  })

  test("the mask where no secret is stored is a 400 naming the field, and changes nothing", async () => {
    const read = await p.http<IntegrationBody>("GET", `/api/integrations/${id}`, { token: admin })
    const targets = read.body.config["targets"] as ReadonlyArray<unknown>
    const res = await p.http<Problem>("PATCH", `/api/integrations/${id}`, {
      token: admin,
      body: { config: { targets: [...targets, { name: "third", dsn: MASK }] } }
    })
    expect(res.status).toBe(400)
    expect(res.body.errors?.map((e) => e.path)).toEqual(["body.config.targets.2.dsn"])
    expect(((await resolve(id)).config as typeof config).targets).toHaveLength(2)
  })

  test("a rejected nested secret is never echoed", async () => {
    const res = await p.http<Problem>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "vault", name: "bad", config: { ...config, endpoint: { url: "not-a-url-Zq9Secret" } } }
    })
    expect(res.status).toBe(400)
    expect(res.body.errors?.map((e) => e.path)).toEqual(["body.config.endpoint.url"])
    expect(res.text).not.toContain("Zq9Secret")
  })

  test("a failed delivery's stored and logged error has every secret masked", async () => {
    const lines: Array<string> = []
    const log = console.log
    console.log = (...args: Array<unknown>) => {
      lines.push(args.map(String).join(" "))
    }
    try {
      const { id: deliveryId } = await p.run(
        Effect.flatMap(IntegrationDeliveries.IntegrationDeliveries, (d) =>
          d.enqueue({ integrationId: id, dedupeKey: "secret-test", subject: "test", payload: {} })
        )
      )
      await p.run(Effect.flatMap(IntegrationDispatcher.IntegrationDispatcher, (d) => d.nudge))
      const delivery = await p.eventually(async () => {
        const res = await p.http<{ items: ReadonlyArray<{ id: string; status: string; lastError: string | null }> }>(
          "GET",
          `/api/integrations/${id}/deliveries`,
          { token: admin }
        )
        const found = res.body.items.find((d) => d.id === deliveryId)
        return found?.status === "dead" ? found : undefined
      })
      expect(delivery.lastError).toContain(`could not post to ${MASK} or ${MASK}`)
      expectNoSecret(delivery.lastError!)
      await p.eventually(() => lines.some((l) => l.includes(`integration delivery ${deliveryId}`)))
    } finally {
      console.log = log
    }
    const logged = lines.filter((l) => l.includes("is dead"))
    expect(logged.length).toBeGreaterThan(0)
    for (const line of lines) expectNoSecret(line)
  })
})

describe(`secrets declared by the integration (${TestPlatform.engine()})`, () => {
  test("a provider without a plugin: the integration's own secretFields, nested paths included", async () => {
    const created = await p.http<IntegrationBody>("POST", "/api/integrations", {
      token: admin,
      body: {
        provider: "generic",
        name: "declared",
        config: {
          authorization: secrets.authorization,
          dsn: secrets.dsn1,
          nested: { url: secrets.url, label: "kept in clear" },
          note: "plain"
        },
        secretFields: ["authorization", "dsn", "nested.url"]
      }
    })
    expect(created.status).toBe(201)
    const expected = { authorization: MASK, dsn: MASK, nested: { url: MASK, label: "kept in clear" }, note: "plain" }
    expect(created.body.config).toEqual(expected)
    expectNoSecret(created.text)
    const one = await p.http<IntegrationBody>("GET", `/api/integrations/${created.body.id}`, { token: admin })
    expect(one.body.config).toEqual(expected)
    expectNoSecret((await p.http("GET", "/api/integrations", { token: admin })).text)
    expectNoSecret(JSON.stringify(await p.query("SELECT * FROM integrations WHERE id = $1", [created.body.id])))
    const bad = await p.http<Problem>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "generic", name: "bad-path", secretFields: ["a..b"] }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.map((e) => e.path)).toEqual(["body.secretFields.0"])
  })

  test("secrets sealed before nested paths existed ({ key: value }) are still masked and resolved", async () => {
    const sealed = await p.run(
      Effect.map(SecretBox.SecretBox, (box) => box.seal(JSON.stringify({ token: "Legacy-Token-Value" })))
    )
    const legacyId = crypto.randomUUID()
    await p.query(
      `INSERT INTO integrations (id, provider, name, enabled, config, secret_fields, secrets_encrypted, created_at, updated_at)
       VALUES ($1, 'generic', 'legacy', true, '{"channel":"#ops"}', '{token}', $2, now(), now())`,
      [legacyId, sealed]
    )
    const read = await p.http<IntegrationBody>("GET", `/api/integrations/${legacyId}`, { token: admin })
    expect(read.body.config).toEqual({ channel: "#ops", token: MASK })
    expect((await resolve(legacyId)).config).toEqual({ channel: "#ops", token: "Legacy-Token-Value" })
  })
})

describe(`webhook secrets (${TestPlatform.engine()})`, () => {
  test("the signing secret is never read back; a URL with credentials is refused without echoing them", async () => {
    const created = await p.http<{ id: string; secret: string }>("POST", "/api/webhooks", {
      token: admin,
      body: {
        name: "signed",
        url: "https://hooks.invalid/receive",
        eventTypes: ["secrets.never-emitted"],
        secret: "Signing-Secret-0123456789"
      }
    })
    expect(created.status).toBe(201)
    expect(created.body.secret).toBe("Signing-Secret-0123456789")
    for (const path of [`/api/webhooks/${created.body.id}`, "/api/webhooks"])
      expect((await p.http("GET", path, { token: admin })).text).not.toContain("Signing-Secret")
    const patched = await p.http("PATCH", `/api/webhooks/${created.body.id}`, {
      token: admin,
      body: { name: "renamed" }
    })
    expect(patched.text).not.toContain("Signing-Secret")
    expectNoSecret(JSON.stringify(await p.query("SELECT * FROM webhooks WHERE id = $1", [created.body.id])))
    expect(JSON.stringify(await p.query("SELECT * FROM webhooks WHERE id = $1", [created.body.id]))).not.toContain(
      "Signing-Secret"
    )

    const withCredentials = await p.http<Problem>("POST", "/api/webhooks", {
      token: admin,
      body: { name: "basic", url: secrets.url, eventTypes: ["secrets.never-emitted"] }
    })
    expect(withCredentials.status).toBe(400)
    expect(withCredentials.body.errors?.map((e) => e.path)).toEqual(["body.url"])
    expectNoSecret(withCredentials.text)
  })
})
