/**
 * Against real SMTP servers (the smtp-server package) on 127.0.0.1: one
 * offering STARTTLS and requiring auth (it refuses AUTH before TLS), one
 * speaking TLS from the first byte. Received messages are parsed with
 * mailparser and checked header by header, both bodies.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import email from "@streamspace/plugin-email-smtp"
import { TestPlatform } from "@streamspace/testing"
import { type ParsedMail, simpleParser } from "mailparser"
import type { AddressInfo } from "node:net"
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from "smtp-server"

interface Received {
  readonly mail: ParsedMail
  readonly secure: boolean
  readonly user: unknown
}

const smtp = async (options: SMTPServerOptions) => {
  const received: Array<Received> = []
  const rcptCalls = new Map<string, number>()
  const server = new SMTPServer({
    logger: false,
    disableReverseLookup: true,
    onAuth: (auth, _session, cb) =>
      auth.username === "mailer" && auth.password === "smtp-pass-1"
        ? cb(null, { user: "mailer" })
        : cb(new Error("Invalid username or password")),
    onRcptTo: (address, _session, cb) => {
      const n = (rcptCalls.get(address.address) ?? 0) + 1
      rcptCalls.set(address.address, n)
      if (address.address.endsWith("@reject.example"))
        return cb(Object.assign(new Error("5.1.1 mailbox unavailable"), { responseCode: 550 }))
      if (address.address.endsWith("@flaky.example") && n <= 2)
        return cb(Object.assign(new Error("4.3.0 try again later"), { responseCode: 451 }))
      cb()
    },
    onData: (stream, session: SMTPServerSession, cb) => {
      simpleParser(stream).then((mail) => {
        received.push({ mail, secure: session.secure, user: session.user })
        cb()
      }, cb)
    },
    ...options
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.server.address() as AddressInfo).port
  return { received, port, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

let p: TestPlatform.TestPlatform
let admin: string
let starttls: Awaited<ReturnType<typeof smtp>>
let implicitTls: Awaited<ReturnType<typeof smtp>>

beforeAll(async () => {
  starttls = await smtp({ secure: false })
  implicitTls = await smtp({ secure: true, authOptional: true })
  p = await TestPlatform.make({
    plugins: [email],
    config: { plugins: { enabled: ["email-smtp"] }, integrations: { backoffBaseMs: 20, maxAttempts: 3 } }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(async () => {
  await p.close()
  await starttls.close()
  await implicitTls.close()
})

const api = <T>(method: string, path: string, body?: unknown) => p.http<T>(method, path, { token: admin, body })
const addIntegration = async (name: string, config: Record<string, unknown>) => {
  const res = await api<{ id: string }>("POST", "/api/integrations", { provider: "email-smtp", name, config })
  expect(res.status).toBe(201)
  return res.body.id
}
const deliveries = async (id: string) =>
  (
    await api<{
      items: ReadonlyArray<{ status: string; attempts: number; responseCode: number | null; lastError: string | null }>
    }>("GET", `/api/integrations/${id}/deliveries`)
  ).body.items
const waitFor = async (server: { received: ReadonlyArray<Received> }, n: number) =>
  p.eventually(async () => server.received.length >= n)
const addresses = (mail: ParsedMail) =>
  (Array.isArray(mail.to) ? mail.to : mail.to ? [mail.to] : []).flatMap((a) => a.value.map((v) => v.address)).sort()

test(`STARTTLS with auth: recipients by address, role, group and event user; headers and both bodies (${TestPlatform.engine()})`, async () => {
  const op = await api<{ id: string }>("POST", "/api/users", {
    username: "oscar",
    password: "long-enough-pw",
    email: "oscar@example.com",
    roles: ["operator"]
  })
  const nina = await api<{ id: string }>("POST", "/api/users", {
    username: "nina",
    password: "long-enough-pw",
    email: "nina@example.com"
  })
  const group = await api<{ id: string }>("POST", "/api/groups", { name: "Night-Shift" })
  await api("POST", `/api/groups/${group.body.id}/members`, { userId: nina.body.id })
  const eve = await api<{ id: string }>("POST", "/api/users", {
    username: "eve",
    password: "long-enough-pw",
    email: "eve@example.com",
    displayName: "<b>Eve</b> & co"
  })
  expect([op.status, nina.status, eve.status]).toEqual([201, 201, 201])
  const id = await addIntegration("ops-mail", {
    host: "127.0.0.1",
    port: starttls.port,
    security: "starttls",
    verifyCertificate: false,
    username: "mailer",
    password: "smtp-pass-1",
    from: "StreamSpace <streamspace@example.com>",
    to: { addresses: ["ops@example.com"], roles: ["operator"], groups: ["night-shift"], eventUser: true },
    events: ["quota.exceeded"]
  })
  await p.emit("quota.exceeded", {
    userId: eve.body.id,
    scope: "user",
    scopeId: eve.body.id,
    limit: "sessions",
    max: 1,
    requested: 2
  })
  await waitFor(starttls, 1)
  const { mail, secure, user } = starttls.received[0]!
  expect(secure).toBe(true)
  expect(user).toBe("mailer")
  expect(mail.from?.value[0]).toEqual({ address: "streamspace@example.com", name: "StreamSpace" })
  expect(addresses(mail)).toEqual(["eve@example.com", "nina@example.com", "ops@example.com", "oscar@example.com"])
  expect(mail.subject).toBe("[StreamSpace] Quota exceeded")
  expect(mail.headers.get("x-streamspace-event")).toBe("quota.exceeded")
  expect(mail.text).toContain("<b>Eve</b> & co hit the user limit on sessions")
  expect(mail.text).toContain("Limit: sessions (user)")
  expect(mail.html).toContain("<h2")
  expect(mail.html).toContain("&lt;b&gt;Eve&lt;/b&gt; &amp; co hit the user limit")
  expect(mail.html).toContain('<th align="left" style="padding:2px 12px 2px 0">Limit</th><td>sessions (user)</td>')
  await p.eventually(async () => (await deliveries(id))[0]?.status === "delivered")
  expect((await deliveries(id))[0]).toMatchObject({ attempts: 1, responseCode: 250 })
  const read = await api("GET", `/api/integrations/${id}`)
  expect(read.text).not.toContain("smtp-pass-1")
  await api("PATCH", `/api/integrations/${id}`, { enabled: false })
})

test("implicit TLS with custom templates", async () => {
  const id = await addIntegration("tls-mail", {
    host: "127.0.0.1",
    port: implicitTls.port,
    security: "tls",
    verifyCertificate: false,
    from: "alerts@example.com",
    to: { addresses: ["team@example.com"] },
    events: ["user.created"],
    subject: "{{user}} · {{title}}",
    text: "{{text}} ({{severity}})",
    html: "<p>{{text}}</p>"
  })
  await api("POST", "/api/users", { username: "ada", password: "long-enough-pw" })
  await waitFor(implicitTls, 1)
  const { mail, secure } = implicitTls.received[0]!
  expect(secure).toBe(true)
  expect(mail.subject).toBe("ada · User created")
  expect(mail.text?.trim()).toBe("ada has an account now (info)")
  expect(mail.html).toBe("<p>ada has an account now</p>")
  await api("PATCH", `/api/integrations/${id}`, { enabled: false })
})

test("a 4xx reply is retried until accepted (three attempts, one message); a 5xx reply is dead at once", async () => {
  const base = {
    host: "127.0.0.1",
    port: implicitTls.port,
    security: "tls",
    verifyCertificate: false,
    from: "alerts@example.com",
    events: ["user.created"]
  }
  const flaky = await addIntegration("flaky", { ...base, to: { addresses: ["desk@flaky.example"] } })
  const rejected = await addIntegration("rejected", { ...base, to: { addresses: ["nobody@reject.example"] } })
  const before = implicitTls.received.length
  await api("POST", "/api/users", { username: "grace", password: "long-enough-pw" })
  await p.eventually(
    async () =>
      (await deliveries(flaky))[0]?.status === "delivered" && (await deliveries(rejected))[0]?.status === "dead"
  )
  expect((await deliveries(flaky))[0]).toMatchObject({ attempts: 3, responseCode: 250 })
  expect((await deliveries(rejected))[0]).toMatchObject({ attempts: 1, responseCode: 550 })
  expect((await deliveries(rejected))[0]!.lastError).toContain("mailbox unavailable")
  expect(
    implicitTls.received.slice(before).filter((r) => addresses(r.mail).includes("desk@flaky.example"))
  ).toHaveLength(1)
  for (const id of [flaky, rejected]) await api("DELETE", `/api/integrations/${id}`)
})

test("config errors name the field: unknown placeholder, no recipient, username without password", async () => {
  const base = { host: "127.0.0.1", from: "a@example.com", to: { addresses: ["b@example.com"] } }
  const cases: ReadonlyArray<[Record<string, unknown>, string]> = [
    [{ ...base, subject: "{{nope}} happened" }, "body.config.subject"],
    [{ ...base, to: {} }, "body.config.to.addresses"],
    [{ ...base, username: "mailer" }, "body.config.password"],
    [{ ...base, from: "not an address" }, "body.config.from"],
    [{ ...base, port: 70000 }, "body.config.port"]
  ]
  for (const [config, path] of cases) {
    const res = await api<{ errors: ReadonlyArray<{ path: string }> }>("POST", "/api/integrations", {
      provider: "email-smtp",
      name: "bad",
      config
    })
    expect(res.status).toBe(400)
    expect(res.body.errors.map((e) => e.path)).toEqual([path])
  }
})

test("send test notification reports a refused connection without leaking the password", async () => {
  const id = await addIntegration("nowhere", {
    host: "127.0.0.1",
    port: 1,
    security: "none",
    username: "mailer",
    password: "smtp-pass-1",
    from: "a@example.com",
    to: { addresses: ["b@example.com"] }
  })
  const res = await api<{ ok: boolean; deliveries: ReadonlyArray<{ status: string; lastError: string }> }>(
    "POST",
    "/api/plugins/email-smtp/test",
    { integrationId: id }
  )
  expect(res.status).toBe(200)
  expect(res.body.ok).toBe(false)
  expect(res.body.deliveries[0]!.lastError).toContain("ECONNREFUSED")
  expect(res.text).not.toContain("smtp-pass-1")
})

test("a rate-limit reply (421 at MAIL FROM: too many messages, slow down) is retried, not dead-lettered", async () => {
  let mailFrom = 0
  const throttling = await smtp({
    secure: false,
    authOptional: true,
    onMailFrom: (_address, _session, cb) =>
      ++mailFrom === 1
        ? cb(Object.assign(new Error("4.7.0 Too many messages, slow down"), { responseCode: 421 }))
        : cb()
  })
  try {
    const id = await addIntegration("throttled", {
      host: "127.0.0.1",
      port: throttling.port,
      security: "none",
      from: "alerts@example.com",
      to: { addresses: ["desk@example.com"] },
      events: ["user.created"]
    })
    const user = await api("POST", "/api/users", { username: "throttled", password: "silver-canyon-Pz6wNq3-thistle" })
    expect(user.status).toBe(201)
    const delivery = await p.eventually(async () => {
      const [latest] = await deliveries(id)
      return latest?.status === "delivered" ? latest : undefined
    })
    expect(delivery).toMatchObject({ attempts: 2, responseCode: 250 })
    expect(mailFrom).toBe(2)
    expect(throttling.received).toHaveLength(1)
    await api("DELETE", `/api/integrations/${id}`)
  } finally {
    await throttling.close()
  }
})
