/**
 * `GET /api/events/stream` across two server processes on one PostgreSQL
 * database: a client streaming from one replica sees a session launched
 * through the other (woken by LISTEN/NOTIFY, or the reader's poll), and
 * stopping a replica with a stream open ends the stream and exits promptly
 * instead of waiting out the shutdown timeout for a request that never ends.
 */
import { afterAll, beforeAll, expect, test } from "bun:test"
import { ServerDatabase, ServerProcess } from "@streamspace/testing"

const database = await ServerDatabase.create()
const env = {
  DATABASE_URL: database.url,
  STREAMSPACE_ADMIN_PASSWORD: "stream-root-password",
  STREAMSPACE_RATE_LIMIT: "false",
  STREAMSPACE_LOG_LEVEL: "warning",
  STREAMSPACE_SHUTDOWN_TIMEOUT_MS: "15000",
  SESSION_RUNTIME: "simulated"
}
let a: ServerProcess.ServerProcess
let b: ServerProcess.ServerProcess

beforeAll(async () => {
  a = await ServerProcess.start(env)
  b = await ServerProcess.start(env)
}, 120_000)

afterAll(async () => {
  await ServerProcess.stopAll()
  await database.drop()
})

interface Frame {
  readonly event: string
  readonly data: Record<string, unknown>
}

/** Reads the stream in the background; `frames` grows, `ended` resolves when the server closes it. */
const follow = (res: Response) => {
  const frames: Array<Frame> = []
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  const ended = (async () => {
    let buffer = ""
    for (;;) {
      const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }))
      if (chunk.done) return
      buffer += chunk.value
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end)
        buffer = buffer.slice(end + 2)
        const event = /^event: (.*)$/m.exec(block)?.[1]
        const data = /^data: (.*)$/m.exec(block)?.[1]
        if (event && data) frames.push({ event, data: JSON.parse(data) as Record<string, unknown> })
      }
    }
  })()
  return { frames, ended }
}

const waitFor = async (check: () => boolean, ms: number) => {
  const deadline = Date.now() + ms
  while (!check() && Date.now() < deadline) await Bun.sleep(50)
  return check()
}

test("a stream on one replica sees a session launched through the other; stopping the replica ends it promptly", async () => {
  const tokenA = await ServerProcess.login(a.url, env.STREAMSPACE_ADMIN_PASSWORD)
  const tokenB = await ServerProcess.login(b.url, env.STREAMSPACE_ADMIN_PASSWORD)
  const res = await fetch(`${a.url}/api/events/stream`, {
    headers: { authorization: `Bearer ${tokenA}`, accept: "text/event-stream" }
  })
  expect(res.status).toBe(200)
  const stream = follow(res)
  expect(await waitFor(() => stream.frames.some((f) => f.event === "ready"), 10_000)).toBe(true)

  const post = (path: string, body: unknown) =>
    fetch(`${b.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${tokenB}` },
      body: JSON.stringify(body)
    })
  const template = (await (
    await post("/api/templates", { name: "relay", displayName: "Relay", image: "x:1" })
  ).json()) as {
    id: string
  }
  const launched = await post("/api/sessions", { templateId: template.id })
  expect(launched.status).toBe(201)
  const { id } = (await launched.json()) as { id: string }
  const seen = (type: string) => stream.frames.some((f) => f.event === type && f.data["sessionId"] === id)
  expect(await waitFor(() => seen("session.created"), 10_000)).toBe(true)
  expect(await waitFor(() => seen("session.started"), 15_000)).toBe(true)

  const stopping = Date.now()
  expect(await a.stop("SIGINT")).toBe(0)
  // Well under the 15 s shutdown timeout a never-ending request would hold it for.
  expect(Date.now() - stopping).toBeLessThan(8_000)
  await stream.ended
}, 90_000)
