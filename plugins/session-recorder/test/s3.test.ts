/**
 * The recorder on S3 blob storage (s3rver on 127.0.0.1): a recording's
 * chunks and manifest land in the bucket encrypted, stream back decrypted
 * and verified, a tampered chunk in the bucket is caught, and a purge
 * deletes the objects.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { BlobStore } from "@streamspace/core"
import { definePlugin, Plugins } from "@streamspace/kernel"
import recorder, { purge, RecordingContainer as Container } from "@streamspace/plugin-session-recorder"
import { ClientMessages, RfbVersion } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect, Layer } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import S3rver from "s3rver"

let plugins: Plugins["Type"] | undefined
const caller = definePlugin({
  id: "s3-recording-caller",
  name: "S3 recording caller",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.effectDiscard(Effect.map(Plugins, (p) => void (plugins = p)))
})

const s3Dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-rec-s3rver-"))
const s3 = new S3rver({
  port: 0,
  address: "127.0.0.1",
  silent: true,
  directory: s3Dir,
  configureBuckets: [{ name: "recordings", configs: [] }]
})
let p: TestPlatform.TestPlatform
let admin: string
const api = "/api/plugins/session-recorder"

beforeAll(async () => {
  const port = ((await s3.run()) as unknown as { port: number }).port
  p = await TestPlatform.make({
    listen: true,
    plugins: [recorder, caller],
    config: {
      sessions: { simulatedDelayMs: 20 },
      plugins: { enabled: ["session-recorder", "s3-recording-caller"] },
      storage: {
        kind: "s3",
        s3: {
          endpoint: `http://127.0.0.1:${port}`,
          bucket: "recordings",
          accessKeyId: "S3RVER",
          secretAccessKey: "S3RVER"
        }
      }
    }
  })
  admin = await p.login("admin", p.adminPassword)
}, 60_000)
afterAll(async () => {
  await p?.close()
  await s3.close()
  Fs.rmSync(s3Dir, { recursive: true, force: true })
})

describe(`session recorder on S3 (${TestPlatform.engine()})`, () => {
  test("records into the bucket encrypted, plays back verified, catches tampering, purges", async () => {
    const template = (
      await p.http<{ id: string }>("POST", "/api/templates", {
        token: admin,
        body: { name: "s3-desktop", displayName: "S3 desktop", image: "streamspace/xterm:latest" }
      })
    ).body.id
    const sessionId = (
      await p.http<{ id: string }>("POST", "/api/sessions", { token: admin, body: { templateId: template } })
    ).body.id
    await p.eventually(
      async () =>
        (await p.http<{ state: string }>("GET", `/api/sessions/${sessionId}`, { token: admin })).body.state ===
        "running"
    )
    await p.awaitDelivered()
    const started = await p.http<{ id: string }>("POST", `${api}/sessions/${sessionId}/recording/start`, {
      token: admin,
      body: {}
    })
    expect(started.status).toBe(201)
    const c = VncClient.open(p, sessionId, { ticket: await VncClient.ticket(p, sessionId, admin) })
    await c.opened
    await p.eventually(() => c.received().length >= 12)
    for (const bytes of [RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true)])
      c.send(bytes)
    await p.eventually(() => c.received().length > 12 + 2 + 4 + 24)
    c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 16, height: 16 }))
    await Bun.sleep(400)
    expect(
      (await p.http<{ stopped: boolean }>("POST", `${api}/sessions/${sessionId}/recording/stop`, { token: admin })).body
        .stopped
    ).toBe(true)
    c.close()

    const store = await p.run(BlobStore.BlobStore)
    expect(store.kind).toBe("s3")
    const prefix = `plugins/session-recorder/${started.body.id}/`
    const objects = await p.run(store.list(prefix))
    expect(objects.map((o) => o.key).sort()).toEqual([`${prefix}chunk-000000.bin`, `${prefix}manifest.json`])
    const chunkKey = `${prefix}chunk-000000.bin`
    const stored = new Uint8Array(await (await p.run(store.get(chunkKey))).arrayBuffer())
    expect(new TextDecoder("latin1").decode(stored)).not.toContain("RFB 003.008")

    const stream = await fetch(`${p.url}${api}/recordings/${started.body.id}/stream`, {
      headers: { authorization: `Bearer ${admin}` }
    })
    expect(stream.status).toBe(200)
    const records = Container.decodeRecords(new Uint8Array(await stream.arrayBuffer()))
    expect(records.filter((r) => r.kind === "message").map((r) => r.type)).toEqual(
      expect.arrayContaining(["ServerInit", "ServerData"])
    )

    stored[30] = (stored[30] ?? 0) ^ 0x01
    await p.run(store.put(chunkKey, new Blob([stored]).stream(), 1 << 30))
    const tampered = await p.http<{ code: string }>("GET", `${api}/recordings/${started.body.id}/stream`, {
      token: admin
    })
    expect(tampered.status).toBe(409)
    expect(tampered.body.code).toBe("recording_tampered")

    const result = await p.run(plugins!.call("session-recorder", purge, { recordingIds: [started.body.id] }))
    expect(result).toEqual({ purged: [started.body.id], held: 0 })
    expect(await p.run(store.list(prefix))).toEqual([])
  }, 60_000)
})
