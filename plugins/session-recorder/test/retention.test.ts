/**
 * Recording retention on the simulated clock: recordings past their
 * policy's retention days are deleted by the plugin's job (rows and blobs),
 * a legal hold keeps one until lifted, a running recording is never
 * touched; the recording indicator route; the `purge` and `storageBytes`
 * methods as another plugin calls them. Real recordings of the simulated
 * runtime's stand-in desktop through the VNC proxy.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { BlobStore } from "@streamspace/core"
import { definePlugin, Plugins } from "@streamspace/kernel"
import recorder, { purge, storageBytes } from "@streamspace/plugin-session-recorder"
import { ClientMessages, RfbVersion } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect, Layer } from "effect"

let plugins: Plugins["Type"] | undefined
const caller = definePlugin({
  id: "recording-caller",
  name: "Recording caller",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.effectDiscard(Effect.map(Plugins, (p) => void (plugins = p)))
})

let p: TestPlatform.TestPlatform
let admin: string
let user: { id: string; token: string }
let template: string
const api = "/api/plugins/session-recorder"
/** The recording the first test left (running during its retention run, stopped at its end). */
let leftOver = ""

beforeAll(async () => {
  p = await TestPlatform.make({
    listen: true,
    clock: "test",
    plugins: [recorder, caller],
    config: { plugins: { enabled: ["session-recorder", "recording-caller"] } }
  })
  admin = await p.login("admin", p.adminPassword)
  user = await p.makeUser("rec-owner")
  template = (
    await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "ret-desktop", displayName: "Retention desktop", image: "streamspace/xterm:latest" }
    })
  ).body.id
  const policy = await p.http("POST", `${api}/policies`, {
    token: admin,
    body: { name: "one day", retentionDays: 1 }
  })
  expect(policy.status).toBe(201)
}, 60_000)
afterAll(() => p.close())

const launch = async () => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", {
    token: user.token,
    body: { templateId: template }
  })
  expect(res.status).toBe(201)
  const id = res.body.id
  // Session start waits on the simulated clock: move it a second at a time.
  await p.eventually(async () => {
    if ((await p.http<{ state: string }>("GET", `/api/sessions/${id}`, { token: user.token })).body.state === "running")
      return true
    await p.adjustClock("1 second")
    return false
  })
  // The recorder learns the owner from session.created. Delivery is woken when the event is written, and else
  // polls every second of the platform's (here simulated) clock: a wake-up that came while the subscription was
  // busy is picked up by moving the clock, as the session start above is.
  await p.eventually(async () => {
    const delivered = await p.awaitDelivered(1000).then(
      () => true,
      () => false
    )
    if (!delivered) await p.adjustClock("1 second")
    return delivered
  })
  return id
}

/** Records a few updates of a new session of the user; the recording's id and the session's. */
const record = async () => {
  const sessionId = await launch()
  const started = await p.http<{ id: string }>("POST", `${api}/sessions/${sessionId}/recording/start`, {
    token: user.token,
    body: {}
  })
  expect(started.status).toBe(201)
  const indicator = await p.http<{ recording: boolean; recordingId: string | null }>(
    "GET",
    `${api}/sessions/${sessionId}/recording`,
    { token: user.token }
  )
  expect(indicator.body).toMatchObject({ recording: true, recordingId: started.body.id })
  const c = VncClient.open(p, sessionId, { ticket: await VncClient.ticket(p, sessionId, user.token) })
  await c.opened
  await p.eventually(() => c.received().length >= 12)
  for (const bytes of [RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true)])
    c.send(bytes)
  await p.eventually(() => c.received().length > 12 + 2 + 4 + 24)
  c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 8, height: 8 }))
  await Bun.sleep(400)
  const stopped = await p.http<{ stopped: boolean }>("POST", `${api}/sessions/${sessionId}/recording/stop`, {
    token: user.token
  })
  expect(stopped.body.stopped).toBe(true)
  c.close()
  const after = await p.http<{ recording: boolean }>("GET", `${api}/sessions/${sessionId}/recording`, {
    token: user.token
  })
  expect(after.body.recording).toBe(false)
  return { sessionId, recordingId: started.body.id }
}

const blobsOf = async (recordingId: string) => {
  const store = await p.run(BlobStore.BlobStore)
  return p.run(store.list(`plugins/session-recorder/${recordingId}/`))
}
const rowOf = async (recordingId: string) =>
  (await p.http<{ recording: { status: string } }>("GET", `${api}/recordings/${recordingId}`, { token: admin })).status

describe(`session recorder retention (${TestPlatform.engine()})`, () => {
  test("the retention job deletes expired recordings (rows and blobs) and keeps those on legal hold", async () => {
    const expiring = await record()
    const held = await record()
    expect((await blobsOf(expiring.recordingId)).map((b) => b.key.split("/").pop())).toEqual(
      expect.arrayContaining(["manifest.json", "chunk-000000.bin"])
    )
    const bad = await p.http<{ detail: string }>("PUT", `${api}/recordings/${held.recordingId}/legal-hold`, {
      token: admin,
      body: { hold: "yes" }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.detail).toContain("hold")
    const denied = await p.http("PUT", `${api}/recordings/${held.recordingId}/legal-hold`, {
      token: user.token,
      body: { hold: true }
    })
    expect(denied.status).toBe(403)
    const hold = await p.http("PUT", `${api}/recordings/${held.recordingId}/legal-hold`, {
      token: admin,
      body: { hold: true }
    })
    expect(hold.status).toBe(200)
    // A recording that is still running is never purged, whatever its age.
    const running = await launch()
    const live = await p.http<{ id: string }>("POST", `${api}/sessions/${running}/recording/start`, {
      token: admin,
      body: {}
    })
    expect(live.status).toBe(201)

    // Half a day: nothing is due.
    await p.adjustClock("12 hours")
    expect(await rowOf(expiring.recordingId)).toBe(200)
    // Past a day since they ended: the hourly job deletes the expired one, rows and blobs.
    await p.adjustClock("13 hours")
    await p.eventually(async () => (await rowOf(expiring.recordingId)) === 404)
    expect(await blobsOf(expiring.recordingId)).toEqual([])
    expect(await rowOf(held.recordingId)).toBe(200)
    expect((await blobsOf(held.recordingId)).length).toBeGreaterThan(0)
    expect(await rowOf(live.body.id)).toBe(200)

    // Lifted: the next run deletes it.
    await p.http("PUT", `${api}/recordings/${held.recordingId}/legal-hold`, { token: admin, body: { hold: false } })
    expect((await p.runJob("session-recorder", "retention")).outcome).toBe("success")
    expect(await rowOf(held.recordingId)).toBe(404)
    expect(await blobsOf(held.recordingId)).toEqual([])
    await p.http("POST", `${api}/sessions/${running}/recording/stop`, { token: admin })
    leftOver = live.body.id
  }, 60_000)

  test("purge and storageBytes, as another plugin calls them; a hold is respected", async () => {
    const kept = await record()
    const gone = await record()
    await p.http("PUT", `${api}/recordings/${kept.recordingId}/legal-hold`, { token: admin, body: { hold: true } })
    const storage = await p.run(plugins!.call("session-recorder", storageBytes, { userId: user.id }))
    expect(storage.items).toHaveLength(1)
    expect(storage.items[0]).toMatchObject({ userId: user.id, recordings: 3 })
    expect(storage.items[0]!.bytes).toBeGreaterThan(0)

    const result = await p.run(plugins!.call("session-recorder", purge, { userId: user.id }))
    expect(result.held).toBe(1)
    expect([...result.purged].sort()).toEqual([gone.recordingId, leftOver].sort())
    expect(await rowOf(gone.recordingId)).toBe(404)
    expect(await blobsOf(gone.recordingId)).toEqual([])
    expect(await rowOf(kept.recordingId)).toBe(200)
    // Neither a user nor ids: refused by the method's schema.
    const refused = await p.run(Effect.either(plugins!.call("session-recorder", "purge", {})))
    expect(refused._tag).toBe("Left")
  }, 60_000)
})
