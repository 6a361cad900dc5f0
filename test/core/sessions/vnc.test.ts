import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import type { TCPSocketListener } from "bun"
import { makeTemplate, makeUser, type SessionBody } from "./helpers.ts"

// A stand-in VNC server on 127.0.0.1: sends the RFB greeting and echoes what it receives.
const received: Array<string> = []
let vnc: TCPSocketListener<undefined>
let p: TestPlatform.TestPlatform
let admin: string

beforeAll(async () => {
  vnc = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open: (s) => void s.write("RFB 003.008\n"),
      data: (s, data) => {
        received.push(Buffer.from(data).toString("latin1"))
        s.write(Buffer.concat([Buffer.from("echo:"), Buffer.from(data)]))
      }
    }
  })
  p = await TestPlatform.make({ listen: true, config: { sessions: { simulatedDelayMs: 20 } } })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(async () => {
  await p.close()
  vnc.stop(true)
})

interface Opened {
  readonly ws: WebSocket
  readonly messages: Array<string>
  readonly closed: Promise<{ code: number; reason: string }>
}

const connect = (sessionId: string, token?: string): Opened => {
  const url = `${p.url!.replace("http", "ws")}/api/sessions/${sessionId}/vnc${token ? `?token=${token}` : ""}`
  const ws = new WebSocket(url)
  ws.binaryType = "arraybuffer"
  const messages: Array<string> = []
  ws.onmessage = (e) =>
    messages.push(typeof e.data === "string" ? e.data : Buffer.from(e.data as ArrayBuffer).toString("latin1"))
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason })
  })
  return { ws, messages, closed }
}

const launch = async (token: string) => {
  const template = await makeTemplate(p, admin, `vnc-${crypto.randomUUID().slice(0, 8)}`, { vncPort: vnc.port })
  const id = (await p.http<SessionBody>("POST", "/api/sessions", { token, body: { templateId: template } })).body.id
  await p.eventually(
    async () => (await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token })).body.state === "running"
  )
  return id
}

describe(`VNC over WebSocket (${TestPlatform.engine()})`, () => {
  test("proxies the RFB stream both ways for the owner", async () => {
    const owner = await makeUser(p, admin, "vnc-owner")
    const id = await launch(owner.token)
    const c = connect(id, owner.token)
    await p.eventually(async () => c.messages.includes("RFB 003.008\n"))
    c.ws.send(new TextEncoder().encode("RFB 003.008\n"))
    await p.eventually(async () => c.messages.some((m) => m === "echo:RFB 003.008\n"))
    c.ws.close()
  })

  test("without a token, or as a stranger, the connection is refused", async () => {
    const owner = await makeUser(p, admin, "vnc-owner2")
    const stranger = await makeUser(p, admin, "vnc-stranger")
    const id = await launch(owner.token)
    expect((await connect(id).closed).code).toBe(4401)
    expect((await connect(id, "bogus").closed).code).toBe(4401)
    expect((await connect(id, stranger.token).closed).code).toBe(4404)
  })

  test("connecting to a hibernated session wakes it", async () => {
    const owner = await makeUser(p, admin, "vnc-sleeper")
    const id = await launch(owner.token)
    await p.http("POST", `/api/sessions/${id}/hibernate`, { token: owner.token })
    await p.eventually(
      async () =>
        (await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token: owner.token })).body.state === "hibernated"
    )
    const c = connect(id, owner.token)
    await p.eventually(async () => c.messages.includes("RFB 003.008\n"))
    expect((await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token: owner.token })).body.state).toBe("running")
    c.ws.close()
  })

  test("a view share sees the screen but its input events are dropped", async () => {
    const owner = await makeUser(p, admin, "vnc-presenter")
    const watcher = await makeUser(p, admin, "vnc-watcher")
    const id = await launch(owner.token)
    await p.http("POST", `/api/sessions/${id}/shares`, {
      token: owner.token,
      body: { userId: watcher.id, access: "view" }
    })
    const c = connect(id, watcher.token)
    await p.eventually(async () => c.messages.includes("RFB 003.008\n"))
    received.length = 0
    for (const handshake of ["RFB 003.008\n", "\x01", "\x01"]) c.ws.send(new TextEncoder().encode(handshake))
    c.ws.send(new Uint8Array([5, 0, 0, 10, 0, 20])) // PointerEvent: dropped
    c.ws.send(new Uint8Array([3, 0, 0, 0, 0, 0, 0, 4, 0, 3])) // FramebufferUpdateRequest: forwarded
    // What the VNC server got (TCP may coalesce frames): the update request, never the pointer event.
    await p.eventually(async () => received.join("").includes("\x03\x00\x00\x00\x00\x00\x00\x04\x00\x03"))
    expect(received.join("")).not.toContain("\x05\x00\x00\x0a\x00\x14")
    c.ws.close()
  })
})
