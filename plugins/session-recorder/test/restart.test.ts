/**
 * A recording across a server restart: a real server process (the simulated
 * runtime's RFB stand-in desktop behind the real VNC proxy) records a
 * session while a WebSocket client works on it, and is killed with SIGKILL
 * mid-recording. Started again on the same database and data directory, the
 * recorder closes the recording as `failed` ("the server stopped while
 * recording") — it does not continue: the recording's key and unwritten
 * records were in the dead process's memory — and what its manifest lists
 * (the chunks written before the kill) still verifies, decrypts and plays.
 * Runs on embedded PGlite (a data directory) and, with TEST_DATABASE_URL, on
 * a fresh PostgreSQL database.
 */
import { afterAll, expect, test } from "bun:test"
import { RecordingContainer as Container } from "@streamspace/plugin-session-recorder"
import { ClientMessages, RfbVersion } from "@streamspace/rfb"
import { Eventually, ServerDatabase, ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-recorder-restart-"))
const db = process.env["TEST_DATABASE_URL"] ? await ServerDatabase.create() : undefined
Fs.writeFileSync(
  Path.join(dir, "streamspace.config.json"),
  JSON.stringify({ sessions: { runtime: "simulated", simulatedDelayMs: 20 } })
)
const env = {
  STREAMSPACE_CONFIG: Path.join(dir, "streamspace.config.json"),
  STREAMSPACE_DATA_DIR: Path.join(dir, "data"),
  DATABASE_URL: db?.url ?? "",
  STREAMSPACE_ADMIN_PASSWORD: "recorder-restart-root-pw",
  STREAMSPACE_EDITION: "enterprise",
  STREAMSPACE_PLUGINS: "session-recorder"
}
const api = "/api/plugins/session-recorder"

afterAll(async () => {
  await ServerProcess.stopAll()
  Fs.rmSync(dir, { recursive: true, force: true })
  await db?.drop()
})

const client = async (url: string) => {
  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    return { status: res.status, res }
  }
  const json = async <T>(method: string, path: string, token: string, body?: unknown): Promise<T> => {
    const { status, res } = await call(method, path, token, body)
    const text = await res.text()
    if (status >= 300) throw new Error(`${method} ${path}: ${status} ${text}`)
    return (text ? JSON.parse(text) : null) as T
  }
  const token = (
    await json<{ accessToken: string }>("POST", "/api/auth/login", "", {
      username: "admin",
      password: env.STREAMSPACE_ADMIN_PASSWORD
    })
  ).accessToken
  return { json: <T>(method: string, path: string, body?: unknown) => json<T>(method, path, token, body), call, token }
}

interface Row {
  readonly id: string
  readonly status: string
  readonly error: string | null
  readonly chunks: number
}

test("a server killed mid-recording closes the recording as failed at restart, keeping what was written", async () => {
  let server = await ServerProcess.start(env)
  let admin = await client(server.url)
  await admin.json("PUT", "/api/admin/plugins/session-recorder/config", { chunkSeconds: 1 })
  await admin.json("POST", `${api}/policies`, { name: "everything", autoRecord: true })
  const template = await admin.json<{ id: string }>("POST", "/api/templates", {
    name: "restart-desktop",
    displayName: "Restart desktop",
    image: "streamspace/xterm:latest"
  })
  const session = await admin.json<{ id: string }>("POST", "/api/sessions", { templateId: template.id })
  await Eventually.eventually(
    async () => (await admin.json<{ state: string }>("GET", `/api/sessions/${session.id}`)).state === "running",
    { timeoutMs: 30_000 }
  )

  // A client works on the session until the recording has chunks written.
  const { ticket } = await admin.json<{ ticket: string }>("POST", `/api/sessions/${session.id}/vnc-ticket`)
  const ws = new WebSocket(`${server.url.replace(/^http/, "ws")}/api/sessions/${session.id}/vnc?ticket=${ticket}`)
  ws.binaryType = "arraybuffer"
  let received = 0
  ws.onmessage = (e) => {
    received += (e.data as ArrayBuffer).byteLength
  }
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = reject
  })
  await Eventually.eventually(() => received >= 12)
  for (const bytes of [RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true)])
    ws.send(bytes)
  await Eventually.eventually(() => received > 12 + 2 + 4 + 24)
  const recording = await Eventually.eventually(
    async () => {
      ws.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 8, height: 8 }))
      ws.send(ClientMessages.pointerEvent(0, 3, 4))
      const { items } = await admin.json<{ items: Array<Row> }>("GET", `${api}/recordings?sessionId=${session.id}`)
      return items[0]?.status === "recording" && items[0].chunks >= 2 ? items[0] : undefined
    },
    { timeoutMs: 20_000, intervalMs: 200 }
  )
  ws.close()

  // Killed outright: no shutdown, no final chunk or manifest.
  await server.stop("SIGKILL")
  server = await ServerProcess.start(env)
  admin = await client(server.url)
  const after = await Eventually.eventually(
    async () => {
      const { items } = await admin.json<{ items: Array<Row> }>("GET", `${api}/recordings?sessionId=${session.id}`)
      return items.find((r) => r.id === recording.id && r.status !== "recording")
    },
    { timeoutMs: 20_000 }
  )
  expect(after).toMatchObject({ status: "failed", error: "the server stopped while recording" })
  expect(after.chunks).toBeGreaterThanOrEqual(recording.chunks)

  // What was written before the kill verifies and decrypts: the connection, its handshake, the pointer input.
  const { status, res } = await admin.call("GET", `${api}/recordings/${recording.id}/stream`, admin.token)
  expect(status).toBe(200)
  const records = Container.decodeRecords(new Uint8Array(await res.arrayBuffer()))
  expect(records.find((r) => r.kind === "connected")).toBeDefined()
  expect(records.some((r) => r.type === "ServerInit")).toBe(true)
  expect(records.filter((r) => r.type === "PointerEvent").length).toBeGreaterThan(0)
  const detail = await admin.json<{ recording: { status: string } }>("GET", `${api}/recordings/${recording.id}`)
  expect(detail.recording.status).toBe("failed")
  // The session itself is not being recorded any more (its indicator says so).
  const indicator = await admin.json<{ recording: boolean }>("GET", `${api}/sessions/${session.id}/recording`)
  expect(indicator.recording).toBe(false)
  await server.stop()
}, 180_000)
