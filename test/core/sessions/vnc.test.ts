/**
 * VNC over WebSocket through the proxy to the simulated runtime's own
 * stand-in desktop: an RFB conversation both ways, refusals, waking, and a
 * view share's input stopped before the desktop. The security edges (splits,
 * tickets, scopes, endpoints) are in test/security/vnc-*.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SessionRuntime } from "@streamspace/core"
import { ClientMessages, RfbVersion } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect } from "effect"
import { makeTemplate, makeUser, type SessionBody } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
let template: string

beforeAll(async () => {
  p = await TestPlatform.make({ listen: true, config: { sessions: { simulatedDelayMs: 20 } } })
  admin = await p.login("admin", p.adminPassword)
  template = await makeTemplate(p, admin, "vnc-desktop")
})
afterAll(() => p.close())

/** The client messages the session's stand-in desktop received, by type. */
const desktopReceived = (id: string) =>
  p.run(
    Effect.map(SessionRuntime.SessionRuntime, (runtime) =>
      runtime.kind === "simulated" ? (runtime.desktop(id)?.received() ?? []).map((r) => r.message.type) : []
    )
  )

const launch = async (token: string) => {
  const id = (await p.http<SessionBody>("POST", "/api/sessions", { token, body: { templateId: template } })).body.id
  await p.eventually(
    async () => (await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token })).body.state === "running"
  )
  return id
}

/** The RFB 3.8 handshake as a client sends it (security None, shared). */
const handshake = [RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true)]
const text = (bytes: Uint8Array) => new TextDecoder("latin1").decode(bytes)

describe(`VNC over WebSocket (${TestPlatform.engine()})`, () => {
  test("carries the RFB conversation both ways for the owner: greeting, ServerInit, a raw update", async () => {
    const owner = await makeUser(p, admin, "vnc-owner")
    const id = await launch(owner.token)
    const c = VncClient.open(p, id, { ticket: await VncClient.ticket(p, id, owner.token) })
    await p.eventually(() => text(c.received()).startsWith("RFB 003.008\n"))
    for (const bytes of handshake) c.send(bytes)
    // Version, security types (1 byte count + None), SecurityResult, ServerInit (24 + name).
    await p.eventually(() => c.received().length > 12 + 2 + 4 + 24)
    c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 2, height: 2 }))
    const before = c.received().length
    await p.eventually(() => c.received().length >= before + 4 + 12 + 2 * 2 * 4)
    expect(await desktopReceived(id)).toEqual([
      "ProtocolVersion",
      "SecurityType",
      "ClientInit",
      "FramebufferUpdateRequest"
    ])
    c.close()
  })

  test("without a credential, with a bad ticket, or as a stranger, the connection is refused", async () => {
    const owner = await makeUser(p, admin, "vnc-owner2")
    const stranger = await makeUser(p, admin, "vnc-stranger")
    const id = await launch(owner.token)
    expect((await VncClient.open(p, id).closed).code).toBe(4401)
    expect(await VncClient.open(p, id, { ticket: "bogus" }).closed).toEqual({
      code: 4401,
      reason: "invalid or already used ticket"
    })
    expect((await VncClient.open(p, id, { bearer: stranger.token }).closed).code).toBe(4404)
    // A stranger cannot even get a ticket for it.
    expect((await p.http("POST", `/api/sessions/${id}/vnc-ticket`, { token: stranger.token })).status).toBe(404)
  })

  test("connecting to a hibernated session wakes it", async () => {
    const owner = await makeUser(p, admin, "vnc-sleeper")
    const id = await launch(owner.token)
    await p.http("POST", `/api/sessions/${id}/hibernate`, { token: owner.token })
    await p.eventually(
      async () =>
        (await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token: owner.token })).body.state === "hibernated"
    )
    const c = VncClient.open(p, id, { ticket: await VncClient.ticket(p, id, owner.token) })
    await p.eventually(() => text(c.received()).startsWith("RFB 003.008\n"))
    expect((await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token: owner.token })).body.state).toBe("running")
    c.close()
  })

  test("a view share sees the screen but its input never reaches the desktop", async () => {
    const owner = await makeUser(p, admin, "vnc-presenter")
    const watcher = await makeUser(p, admin, "vnc-watcher")
    const id = await launch(owner.token)
    await p.http("POST", `/api/sessions/${id}/shares`, {
      token: owner.token,
      body: { userId: watcher.id, access: "view" }
    })
    const c = VncClient.open(p, id, { ticket: await VncClient.ticket(p, id, watcher.token) })
    await c.opened
    for (const bytes of handshake) c.send(bytes)
    c.send(ClientMessages.pointerEvent(1, 10, 20))
    c.send(ClientMessages.keyEvent(true, 0x61))
    c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 2, height: 2 }))
    // Messages arrive in order: once the update request is there, the input before it would have been too.
    await p.eventually(async () => (await desktopReceived(id)).includes("FramebufferUpdateRequest"))
    expect(await desktopReceived(id)).toEqual([
      "ProtocolVersion",
      "SecurityType",
      "ClientInit",
      "FramebufferUpdateRequest"
    ])
    c.close()
  })
})
