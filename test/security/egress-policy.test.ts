/**
 * The outgoing destination policy for webhooks, integrations and plugins'
 * HTTP client (finding 8):
 * loopback, link-local (cloud metadata), private and CGNAT destinations are
 * refused when configured (400 naming the field) and again when sent, after
 * DNS resolution (a name that resolves to loopback by then is refused and
 * the delivery is dead with the policy's reason, not retried). An
 * allow-list entry lets a destination in; the connection then goes to the
 * checked address, and redirects are not followed.
 *
 * No request of these tests leaves loopback, even with the policy broken:
 * refused destinations are only ever configured with event types that
 * never fire, or on disabled integrations.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import email from "@streamspace/plugin-email-smtp"
import slack from "@streamspace/plugin-slack"
import { LocalServer, TestPlatform } from "@streamspace/testing"

interface Problem {
  readonly status: number
  readonly errors?: ReadonlyArray<{ readonly path: string; readonly message: string }>
}
interface Delivery {
  readonly status: string
  readonly attempts: number
  readonly lastError: string | null
}

const servers: Array<LocalServer.LocalServer> = []
const receiver = (handler?: LocalServer.Handler) => {
  const s = LocalServer.start(handler)
  servers.push(s)
  return s
}
afterAll(async () => {
  for (const s of servers) await s.stop()
})

/** Event types no test here emits: a webhook registered with them is never sent to. */
const silent = ["egress.never-emitted"]
let users = 0
const createUser = async (p: TestPlatform.TestPlatform, token: string) => {
  const res = await p.http("POST", "/api/users", {
    token,
    body: { username: `egress-user-${++users}`, password: "violet-harbour-Tq8vLp2zR-lantern" }
  })
  expect(res.status).toBe(201)
}

describe(`refused destinations (${TestPlatform.engine()})`, () => {
  let p: TestPlatform.TestPlatform
  let admin: string
  beforeAll(async () => {
    p = await TestPlatform.make({
      plugins: [slack, email],
      config: {
        egress: { allow: [] },
        plugins: { enabled: ["slack", "email-smtp"] },
        integrations: { maxAttempts: 5, backoffBaseMs: 20 },
        webhooks: { maxAttempts: 5, backoffBaseMs: 20 }
      }
    })
    admin = await p.login("admin", p.adminPassword)
  })
  afterAll(() => p.close())

  const webhookDeliveries = (id: string) =>
    p
      .http<{ items: ReadonlyArray<Delivery> }>("GET", `/api/webhooks/${id}/deliveries`, { token: admin })
      .then((r) => r.body.items)

  test.each([
    ["loopback", "http://127.0.0.1:9/hook"],
    ["cloud metadata (link-local)", "http://169.254.169.254/latest/meta-data/"],
    ["private (RFC 1918)", "http://10.0.0.1/"],
    ["private 192.168/16", "http://192.168.1.20:8080/hook"],
    ["IPv6 loopback", "http://[::1]/"],
    ["IPv4-mapped IPv6 loopback", "http://[::ffff:127.0.0.1]/"],
    ["unique local IPv6", "http://[fd00::1]/"],
    ["carrier-grade NAT", "http://100.64.0.1/"],
    ["0.0.0.0/8", "http://0.0.0.0:8080/"],
    ["loopback as a decimal number", "http://2130706433/"],
    ["a name that resolves to loopback", "http://localhost:9/hook"]
  ])("a webhook to %s (%s) is refused: 400 naming body.url, nothing stored", async (_, url) => {
    const res = await p.http<Problem>("POST", "/api/webhooks", {
      token: admin,
      body: { name: "refused", url, eventTypes: silent }
    })
    expect(res.status).toBe(400)
    expect(res.body.errors?.map((e) => e.path)).toEqual(["body.url"])
    expect(res.body.errors?.[0]?.message).toContain("refused by the egress policy")
    const list = await p.http<{ items: ReadonlyArray<{ url: string }> }>("GET", "/api/webhooks", { token: admin })
    expect(list.body.items.some((w) => w.url === url)).toBe(false)
  })

  test("changing a webhook's URL to a private address is refused and changes nothing", async () => {
    // A name that does not resolve (yet) passes at configuration time; it is checked again when sent.
    const created = await p.http<{ id: string }>("POST", "/api/webhooks", {
      token: admin,
      body: { name: "public", url: "https://receiver.invalid/hook", eventTypes: silent }
    })
    expect(created.status).toBe(201)
    const patched = await p.http<Problem>("PATCH", `/api/webhooks/${created.body.id}`, {
      token: admin,
      body: { url: "http://172.16.0.5/hook" }
    })
    expect(patched.status).toBe(400)
    expect(patched.body.errors?.map((e) => e.path)).toEqual(["body.url"])
    const read = await p.http<{ url: string }>("GET", `/api/webhooks/${created.body.id}`, { token: admin })
    expect(read.body.url).toBe("https://receiver.invalid/hook")
    await p.http("DELETE", `/api/webhooks/${created.body.id}`, { token: admin })
  })

  test("integration destinations are checked: the provider's URL fields, or every URL of a generic config", async () => {
    const slackRefused = await p.http<Problem>("POST", "/api/integrations", {
      token: admin,
      body: {
        provider: "slack",
        name: "refused",
        enabled: false,
        config: { webhookUrl: "http://127.0.0.1:9/services/T/B/x" }
      }
    })
    expect(slackRefused.status).toBe(400)
    expect(slackRefused.body.errors?.map((e) => e.path)).toEqual(["body.config.webhookUrl"])
    const apiRefused = await p.http<Problem>("POST", "/api/integrations", {
      token: admin,
      body: {
        provider: "slack",
        name: "refused-api",
        enabled: false,
        config: { botToken: "xoxb-refused", channel: "#ops", apiUrl: "http://169.254.169.254/api" }
      }
    })
    expect(apiRefused.status).toBe(400)
    expect(apiRefused.body.errors?.map((e) => e.path)).toEqual(["body.config.apiUrl"])
    const generic = await p.http<Problem>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "generic", name: "refused", config: { targets: [{ url: "http://[::1]:9/x" }] } }
    })
    expect(generic.status).toBe(400)
    expect(generic.body.errors?.map((e) => e.path)).toEqual(["body.config.targets.0.url"])
    const list = await p.http<{ items: ReadonlyArray<{ name: string }> }>("GET", "/api/integrations", {
      token: admin
    })
    expect(list.body.items.filter((i) => i.name.startsWith("refused"))).toEqual([])

    const ok = await p.http<{ id: string }>("POST", "/api/integrations", {
      token: admin,
      body: { provider: "generic", name: "patched", config: { url: "https://hooks.invalid/x" } }
    })
    expect(ok.status).toBe(201)
    const patch = await p.http<Problem>("PATCH", `/api/integrations/${ok.body.id}`, {
      token: admin,
      body: { config: { url: "http://10.1.2.3/x" } }
    })
    expect(patch.status).toBe(400)
    expect(patch.body.errors?.map((e) => e.path)).toEqual(["body.config.url"])
  })

  test("a webhook whose name resolves to loopback by the time it is sent is refused then: dead, with the reason, not retried", async () => {
    const r = receiver()
    const created = await p.http<{ id: string }>("POST", "/api/webhooks", {
      token: admin,
      body: { name: "rebound", url: "https://receiver.invalid/hook", eventTypes: ["user.created"] }
    })
    expect(created.status).toBe(201)
    // The name now resolves to 127.0.0.1 (DNS rebinding, or a record changed after the check).
    await p.query("UPDATE webhooks SET url = $1 WHERE id = $2", [`http://localhost:${r.port}/hook`, created.body.id])
    await createUser(p, admin)
    const [delivery] = await p.eventually(async () => {
      const items = await webhookDeliveries(created.body.id)
      return items[0]?.status === "dead" ? items : undefined
    })
    expect(delivery).toMatchObject({ attempts: 1 })
    expect(delivery!.lastError).toContain("refused by the egress policy: localhost resolves to 127.0.0.1")
    await r.idle()
    expect(r.requests).toHaveLength(0)
    await p.http("DELETE", `/api/webhooks/${created.body.id}`, { token: admin })
  })

  test("a plugin's HTTP client is held to the policy too: a Slack API URL that resolves to loopback is refused when sent", async () => {
    const api = receiver(() => Response.json({ ok: true }))
    const created = await p.http<{ id: string }>("POST", "/api/integrations", {
      token: admin,
      body: {
        provider: "slack",
        name: "rebound",
        config: {
          botToken: "xoxb-rebound",
          channel: "#ops",
          apiUrl: "https://slack.invalid/api",
          events: ["user.created"]
        }
      }
    })
    expect(created.status).toBe(201)
    await p.query(`UPDATE integrations SET config = jsonb_set(config, '{apiUrl}', to_jsonb($1::text)) WHERE id = $2`, [
      `http://localhost:${api.port}/api`,
      created.body.id
    ])
    await createUser(p, admin)
    const [delivery] = await p.eventually(async () => {
      const res = await p.http<{ items: ReadonlyArray<Delivery> }>(
        "GET",
        `/api/integrations/${created.body.id}/deliveries`,
        { token: admin }
      )
      return res.body.items[0]?.status === "dead" ? res.body.items : undefined
    })
    expect(delivery).toMatchObject({ attempts: 1 })
    expect(delivery!.lastError).toContain("refused by the egress policy: localhost resolves to 127.0.0.1")
    await api.idle()
    expect(api.requests).toHaveLength(0)
    await p.http("DELETE", `/api/integrations/${created.body.id}`, { token: admin })
  })

  test("an SMTP relay is a destination too: refused when configured, and when its name resolves to loopback at send time", async () => {
    const smtp = { port: 2525, security: "none", from: "alerts@example.com", to: { addresses: ["ops@example.com"] } }
    for (const host of ["127.0.0.1", "localhost", "10.0.0.25"]) {
      const res = await p.http<Problem>("POST", "/api/integrations", {
        token: admin,
        body: { provider: "email-smtp", name: `refused-${host}`, enabled: false, config: { ...smtp, host } }
      })
      expect(res.status).toBe(400)
      expect(res.body.errors?.map((e) => e.path)).toEqual(["body.config.host"])
    }
    let connections = 0
    const relay = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (socket) => {
          connections++
          socket.end()
        },
        data: () => undefined
      }
    })
    try {
      const created = await p.http<{ id: string }>("POST", "/api/integrations", {
        token: admin,
        body: {
          provider: "email-smtp",
          name: "rebound-relay",
          config: { ...smtp, host: "smtp.invalid", port: relay.port, events: ["user.created"] }
        }
      })
      expect(created.status).toBe(201)
      await p.query(`UPDATE integrations SET config = jsonb_set(config, '{host}', '"localhost"') WHERE id = $1`, [
        created.body.id
      ])
      await createUser(p, admin)
      const [delivery] = await p.eventually(async () => {
        const res = await p.http<{ items: ReadonlyArray<Delivery> }>(
          "GET",
          `/api/integrations/${created.body.id}/deliveries`,
          { token: admin }
        )
        return res.body.items[0]?.status === "dead" ? res.body.items : undefined
      })
      expect(delivery).toMatchObject({ attempts: 1 })
      expect(delivery!.lastError).toContain("refused by the egress policy: localhost resolves to 127.0.0.1")
      expect(connections).toBe(0)
      await p.http("DELETE", `/api/integrations/${created.body.id}`, { token: admin })
    } finally {
      relay.stop(true)
    }
  })
})

describe(`allow-listed destinations (${TestPlatform.engine()})`, () => {
  let p: TestPlatform.TestPlatform
  let admin: string
  beforeAll(async () => {
    p = await TestPlatform.make({ config: { egress: { allow: ["127.0.0.1/32", "localhost"] } } })
    admin = await p.login("admin", p.adminPassword)
  })
  afterAll(() => p.close())

  const register = async (url: string) => {
    const res = await p.http<{ id: string }>("POST", "/api/webhooks", {
      token: admin,
      body: { name: "allowed", url, eventTypes: ["user.created"] }
    })
    expect(res.status).toBe(201)
    return res.body.id
  }

  test("an allow-listed address and host name are reached; the name's connection goes to the checked address with its Host", async () => {
    const byAddress = receiver()
    const byName = receiver()
    await register(`${byAddress.url}/by-address`)
    await register(`http://localhost:${byName.port}/by-name`)
    await createUser(p, admin)
    const [first] = await byAddress.waitFor(1)
    const [named] = await byName.waitFor(1)
    expect(first!.path).toBe("/by-address")
    expect(named!.path).toBe("/by-name")
    expect(named!.headers.get("host")).toBe(`localhost:${byName.port}`)
  })

  test("the allow-list lets in what it names, nothing more", async () => {
    for (const url of ["http://127.0.0.2/", "http://10.0.0.1/", "http://[::1]/"]) {
      const res = await p.http<Problem>("POST", "/api/webhooks", {
        token: admin,
        body: { name: "outside", url, eventTypes: silent }
      })
      expect(res.status).toBe(400)
      expect(res.body.errors?.map((e) => e.path)).toEqual(["body.url"])
    }
  })

  test("redirects are not followed: the delivery fails with the 3xx and the redirect target gets nothing", async () => {
    const target = receiver()
    const redirecting = receiver(
      () => new Response(null, { status: 302, headers: { location: `${target.url}/moved` } })
    )
    const id = await register(`${redirecting.url}/hook`)
    await createUser(p, admin)
    await redirecting.waitFor(1)
    const [delivery] = await p.eventually(async () => {
      const res = await p.http<{ items: ReadonlyArray<Delivery & { responseCode: number | null }> }>(
        "GET",
        `/api/webhooks/${id}/deliveries`,
        { token: admin }
      )
      return res.body.items[0]?.status === "failed" || res.body.items[0]?.status === "dead" ? res.body.items : undefined
    })
    expect(delivery).toMatchObject({ responseCode: 302 })
    await target.idle()
    expect(target.requests).toHaveLength(0)
    await p.http("DELETE", `/api/webhooks/${id}`, { token: admin })
  })
})
