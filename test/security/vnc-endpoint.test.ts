/**
 * Finding 2 of issue 21: the VNC WebSocket was a raw TCP tunnel. Under the
 * simulated runtime the endpoint was 127.0.0.1:<template vncPort>, so a
 * template with `vncPort: 5432` spoke PostgreSQL through
 * `/api/sessions/:id/vnc`. Now the simulated runtime's endpoint is a stand-in
 * desktop of its own, `vncPort` is bounded to VNC display ports, and the
 * proxy forwards nothing to a peer that has not greeted it in RFB — shown
 * here with TCP peers on 127.0.0.1 that behave like PostgreSQL (silent until
 * the client speaks) and like a banner-first service, set as the session's
 * endpoint as a misconfigured runtime would report them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ClientMessages } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import type { Socket, TCPSocketListener } from "bun"
import { concat, desktopOf, handshake, launch, makeTemplate, makeUser } from "./vnc-kit.ts"

let p: TestPlatform.TestPlatform
let admin: string
let owner: { id: string; token: string }
let template: string

beforeAll(async () => {
  p = await TestPlatform.make({ listen: true, config: { sessions: { simulatedDelayMs: 20 } } })
  admin = await p.login("admin", p.adminPassword)
  owner = await makeUser(p, admin, "endpoint-owner")
  template = await makeTemplate(p, admin, "endpoint-desktop", { vncPort: 5901 })
})
afterAll(() => p.close())

/** A TCP peer on 127.0.0.1 that records what it receives; `greeting` is what it says first (nothing: PostgreSQL). */
const peer = (greeting?: string) => {
  const received: Array<Uint8Array> = []
  let connected = false
  let closed = false
  const listener: TCPSocketListener<undefined> = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: (s: Socket<undefined>) => {
        connected = true
        if (greeting !== undefined) s.write(greeting)
      },
      data: (_s, data) => void received.push(new Uint8Array(data)),
      close: () => void (closed = true)
    }
  })
  return {
    port: listener.port,
    bytes: () => received.reduce((n, c) => n + c.length, 0),
    connected: () => connected,
    closed: () => closed,
    stop: () => listener.stop(true)
  }
}

/** A PostgreSQL StartupMessage (protocol 3.0, user postgres): what a tunnel would have carried to the database. */
const postgresStartup = (() => {
  const body = new TextEncoder().encode("user\0postgres\0database\0postgres\0\0")
  const head = new Uint8Array(8)
  new DataView(head.buffer).setUint32(0, 8 + body.length)
  new DataView(head.buffer).setUint32(4, 196608)
  return concat(head, body)
})()

const pointAt = (sessionId: string, port: number) =>
  p.query("UPDATE sessions SET endpoint = $1 WHERE id = $2", [`127.0.0.1:${port}`, sessionId])

describe(`the VNC proxy reaches only RFB servers (${TestPlatform.engine()})`, () => {
  test("the simulated runtime's endpoint is its own stand-in desktop, never 127.0.0.1:<vncPort>; hibernating stops it", async () => {
    const id = await launch(p, owner.token, template)
    const desktop = await desktopOf(p, id)
    expect(desktop).toBeDefined()
    const [row] = await p.query<{ endpoint: string }>("SELECT endpoint FROM sessions WHERE id = $1", [id])
    expect(row?.endpoint).toBe(`127.0.0.1:${desktop!.port}`)
    expect(desktop!.port).not.toBe(5901)
    await p.http("POST", `/api/sessions/${id}/hibernate`, { token: owner.token })
    await p.eventually(async () => (await desktopOf(p, id)) === undefined)
    await expect(
      Bun.connect({ hostname: "127.0.0.1", port: desktop!.port, socket: { data: () => {} } })
    ).rejects.toThrow()
  })

  test("a template's vncPort outside 5900–5999 (PostgreSQL's 5432) is 400 naming the field, and changes nothing", async () => {
    const created = await p.http<{ errors: ReadonlyArray<{ path: string; message: string }> }>(
      "POST",
      "/api/templates",
      {
        token: admin,
        body: { name: "postgres-tunnel", displayName: "x", image: "example/x:1", vncPort: 5432 }
      }
    )
    expect(created.status).toBe(400)
    expect(created.body.errors).toContainEqual({
      path: "body.vncPort",
      message: "a VNC display port between 5900 and 5999 (:0 to :99)"
    })
    expect(await p.query("SELECT 1 FROM templates WHERE name = 'postgres-tunnel'")).toEqual([])
    const updated = await p.http("PATCH", `/api/templates/${template}`, { token: admin, body: { vncPort: 5432 } })
    expect(updated.status).toBe(400)
    expect(
      (await p.http<{ vncPort: number }>("GET", `/api/templates/${template}`, { token: admin })).body.vncPort
    ).toBe(5901)
  })

  test("a peer that waits for the client (PostgreSQL) receives nothing the client sends", async () => {
    const postgres = peer()
    try {
      const id = await launch(p, owner.token, template)
      await pointAt(id, postgres.port)
      const c = VncClient.open(p, id, { ticket: await VncClient.ticket(p, id, owner.token) })
      await c.opened
      await p.eventually(() => postgres.connected())
      c.send(postgresStartup)
      c.send(concat(...handshake, ClientMessages.keyEvent(true, 0x61)))
      // Bytes the proxy had forwarded would reach the peer before the connection's end does.
      c.close()
      await c.closed
      await p.eventually(() => postgres.closed())
      expect(postgres.bytes()).toBe(0)
      expect(c.received().length).toBe(0)
    } finally {
      postgres.stop()
    }
  })

  test("a peer that speaks first but not RFB closes the WebSocket with 4502 and receives nothing", async () => {
    const banner = peer("220 mail.internal ESMTP ready\r\n")
    try {
      const id = await launch(p, owner.token, template)
      await pointAt(id, banner.port)
      const c = VncClient.open(p, id, { ticket: await VncClient.ticket(p, id, owner.token) })
      await c.opened
      c.send(concat(...handshake))
      const closed = await c.closed
      expect(closed.code).toBe(4502)
      expect(closed.reason).toStartWith("the session's VNC server does not speak RFB")
      await p.eventually(() => banner.closed())
      expect(banner.bytes()).toBe(0)
      expect(c.received().length).toBe(0)
    } finally {
      banner.stop()
    }
  })
})
