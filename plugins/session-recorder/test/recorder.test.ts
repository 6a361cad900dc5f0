/**
 * The stream tap and the session recorder against the simulated runtime's
 * real RFB stand-in desktop, through the real VNC proxy and a WebSocket
 * client: the tap's grant, what it hands over, a slow subscriber dropped
 * without stalling the user's stream, clipboard filtering; a recording
 * captured, stopped, streamed back decrypted, and a tampered chunk caught.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { definePlugin, PluginBlobs, VncTap } from "@streamspace/kernel"
import recorder, { RecordingContainer as Container } from "@streamspace/plugin-session-recorder"
import { BlobStore } from "@streamspace/core"
import { ClientMessages, type RfbTap, RfbVersion } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect, Exit, Layer, Scope } from "effect"

let granted: VncTap["Type"] | undefined
let refused: VncTap["Type"] | undefined
let refusedBlobs: PluginBlobs["Type"] | undefined
const tapper = definePlugin({
  id: "tapper",
  name: "Tapper",
  version: "1.0.0",
  type: "extension",
  category: "example",
  grants: ["vnc"],
  layer: Layer.effectDiscard(Effect.map(VncTap, (t) => void (granted = t)))
})
const ungranted = definePlugin({
  id: "ungranted",
  name: "Ungranted",
  version: "1.0.0",
  type: "extension",
  category: "example",
  layer: Layer.effectDiscard(
    Effect.gen(function* () {
      refused = yield* VncTap
      refusedBlobs = yield* PluginBlobs
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
let template: string

beforeAll(async () => {
  p = await TestPlatform.make({
    listen: true,
    plugins: [tapper, ungranted, recorder],
    config: {
      sessions: { simulatedDelayMs: 20 },
      plugins: { enabled: ["tapper", "ungranted", "session-recorder"] }
    }
  })
  admin = await p.login("admin", p.adminPassword)
  const res = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "rec-desktop", displayName: "Rec desktop", image: "streamspace/xterm:latest" }
  })
  template = res.body.id
}, 60_000)
afterAll(() => p.close())

const launch = async () => {
  const id = (await p.http<{ id: string }>("POST", "/api/sessions", { token: admin, body: { templateId: template } }))
    .body.id
  await p.eventually(
    async () =>
      (await p.http<{ state: string }>("GET", `/api/sessions/${id}`, { token: admin })).body.state === "running"
  )
  return id
}
const handshake = [RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true)]
const fullUpdate = ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 2, height: 2 })

const connect = async (id: string) => {
  const c = VncClient.open(p, id, { ticket: await VncClient.ticket(p, id, admin) })
  await c.opened
  await p.eventually(() => c.received().length >= 12)
  for (const bytes of handshake) c.send(bytes)
  await p.eventually(() => c.received().length > 12 + 2 + 4 + 24)
  return c
}

/** Pulls tap events until `until` holds for what was gathered (or 5 s pass). */
const gather = async (sub: RfbTap.TapSubscription, until: (events: ReadonlyArray<RfbTap.TapEvent>) => boolean) => {
  const events: Array<RfbTap.TapEvent> = []
  const deadline = Date.now() + 5000
  while (!until(events) && Date.now() < deadline) {
    const batch = await Promise.race([sub.next(), Bun.sleep(100).then(() => [])])
    events.push(...batch)
  }
  return events
}

describe(`stream tap and session recorder (${TestPlatform.engine()})`, () => {
  test("a plugin without the vnc grant is refused; with it, it gets the session's RFB messages only", async () => {
    const scope = Effect.runSync(Scope.make())
    const denied = await Effect.runPromiseExit(Scope.extend(refused!.subscribe({ sessionId: "x" }), scope))
    expect(Exit.isFailure(denied) && JSON.stringify(denied.cause)).toContain("PlatformAccessDenied")
    const deniedBlobs = await Effect.runPromiseExit(refusedBlobs!.seal("k"))
    expect(Exit.isFailure(deniedBlobs) && JSON.stringify(deniedBlobs.cause)).toContain("PlatformAccessDenied")

    const id = await launch()
    const other = await launch()
    const sub = await Effect.runPromise(Scope.extend(granted!.subscribe({ sessionId: id }), scope))
    const c = await connect(id)
    const o = await connect(other)
    o.send(fullUpdate)
    c.send(ClientMessages.keyEvent(true, 0x61))
    c.send(fullUpdate)
    const events = await gather(sub, (es) => es.some((e) => e._tag === "Message" && e.message.type === "ServerData"))
    const connected = events.filter((e) => e._tag === "Connected")
    expect(connected.length).toBe(1)
    expect(connected.every((e) => e._tag === "Connected" && e.info.sessionId === id)).toBe(true)
    const types = events.flatMap((e) => (e._tag === "Message" ? [`${e.message.direction}:${e.message.type}`] : []))
    expect(types.slice(0, 7)).toEqual([
      "server:ProtocolVersion",
      "client:ProtocolVersion",
      "server:SecurityTypes",
      "client:SecurityType",
      "server:SecurityResult",
      "client:ClientInit",
      "server:ServerInit"
    ])
    expect(types).toContain("client:KeyEvent")
    expect(types).toContain("client:FramebufferUpdateRequest")
    // Times are monotonic.
    const times = events.flatMap((e) => (e._tag === "Message" ? [e.message.t] : []))
    expect([...times].sort((a, b) => a - b)).toEqual(times)
    // Closing the scope ends the subscription: the session is no longer watched.
    await Effect.runPromise(Scope.close(scope, Exit.void))
    expect(sub.state()).toBe("closed")
    c.close()
    o.close()
  }, 30_000)

  test("a subscriber that falls behind is dropped and told so; the user's stream never waits", async () => {
    const scope = Effect.runSync(Scope.make())
    const id = await launch()
    const sub = await Effect.runPromise(
      Scope.extend(granted!.subscribe({ sessionId: id, maxBufferedBytes: 64, name: "slow" }), scope)
    )
    // The subscriber reads nothing while the user works.
    const c = await connect(id)
    const before = c.received().length
    c.send(fullUpdate)
    await p.eventually(() => c.received().length >= before + 4 + 12 + 2 * 2 * 4)
    const events = await sub.next()
    expect(events).toHaveLength(1)
    expect(events[0]?._tag).toBe("Dropped")
    expect(sub.state()).toBe("dropped")
    expect(await sub.next()).toEqual([])
    await Effect.runPromise(Scope.close(scope, Exit.void))
    c.close()
  }, 30_000)

  test("a clipboard filter drops or replaces ClientCutText before the desktop", async () => {
    const scope = Effect.runSync(Scope.make())
    const id = await launch()
    await Effect.runPromise(
      Scope.extend(
        granted!.subscribe({
          sessionId: id,
          clipboard: (text) => (text.includes("secret") ? "drop" : text === "hello" ? { replace: "HELLO" } : "pass")
        }),
        scope
      )
    )
    const c = await connect(id)
    c.send(ClientMessages.clientCutText("my secret"))
    c.send(ClientMessages.clientCutText("hello"))
    c.send(fullUpdate)
    const received = () =>
      p.run(
        Effect.gen(function* () {
          const { SessionRuntime } = yield* Effect.promise(() => import("@streamspace/core"))
          const runtime = yield* SessionRuntime.SessionRuntime
          return runtime.kind === "simulated" ? (runtime.desktop(id)?.received() ?? []).map((r) => r.message) : []
        })
      )
    await p.eventually(async () => (await received()).some((m) => m.type === "FramebufferUpdateRequest"))
    const cut = (await received()).filter((m) => m.type === "ClientCutText")
    expect(cut.map((m) => new TextDecoder("latin1").decode(m.bytes.subarray(8)))).toEqual(["HELLO"])
    await Effect.runPromise(Scope.close(scope, Exit.void))
    c.close()
  }, 30_000)

  test("records a session, streams it back decrypted and verified, and catches a tampered chunk", async () => {
    const id = await launch()
    const started = await p.http<{ id: string }>(
      "POST",
      `/api/plugins/session-recorder/sessions/${id}/recording/start`,
      {
        token: admin,
        body: { reason: "test" }
      }
    )
    expect(started.status).toBe(201)
    const again = await p.http("POST", `/api/plugins/session-recorder/sessions/${id}/recording/start`, {
      token: admin,
      body: {}
    })
    expect(again.status).toBe(409)
    const c = await connect(id)
    c.send(ClientMessages.pointerEvent(1, 1, 1))
    c.send(fullUpdate)
    await Bun.sleep(500)
    const stopped = await p.http<{ stopped: boolean }>(
      "POST",
      `/api/plugins/session-recorder/sessions/${id}/recording/stop`,
      {
        token: admin
      }
    )
    expect(stopped.body.stopped).toBe(true)
    const rec = await p.http<{ recording: { status: string; chunks: number }; input: Array<[number, string]> }>(
      "GET",
      `/api/plugins/session-recorder/recordings/${started.body.id}`,
      { token: admin }
    )
    expect(rec.body.recording.status).toBe("completed")
    expect(rec.body.recording.chunks).toBeGreaterThan(0)
    expect(rec.body.input.map(([, k]) => k)).toContain("pointer")

    const stream = await fetch(`${p.url}/api/plugins/session-recorder/recordings/${started.body.id}/stream`, {
      headers: { authorization: `Bearer ${admin}` }
    })
    expect(stream.status).toBe(200)
    const records = Container.decodeRecords(new Uint8Array(await stream.arrayBuffer()))
    const types = records.filter((r) => r.kind === "message").map((r) => r.type)
    expect(types).toContain("ServerInit")
    expect(types).toContain("PointerEvent")
    expect(types).toContain("ServerData")
    // Keyframe request injected on join (the recorder joined mid-connection? no: before it) or every N s.
    const log = await p.http<{ items: Array<{ action: string }> }>(
      "GET",
      `/api/plugins/session-recorder/recordings/${started.body.id}/access-log`,
      { token: admin }
    )
    expect(log.body.items.map((i) => i.action)).toEqual(["view", "playback"])
    // WebM export is not built: an explicit 501 saying what is missing (ffmpeg, or the server-side decoder).
    const exported = await p.http<{ detail: string }>(
      "POST",
      `/api/plugins/session-recorder/recordings/${started.body.id}/export`,
      { token: admin, body: { format: "webm" } }
    )
    expect(exported.status).toBe(501)
    expect(exported.body.detail).toContain(Bun.which("ffmpeg") ? "server-side decoding" : "needs ffmpeg")
    const badFormat = await p.http<{ errors: Array<{ path: string }> }>(
      "POST",
      `/api/plugins/session-recorder/recordings/${started.body.id}/export`,
      { token: admin, body: { format: "gif" } }
    )
    expect(badFormat.status).toBe(400)
    expect(badFormat.body.errors.map((e) => e.path)).toContain("body.format")

    // At rest: chunks are not plaintext RFB; flipping one byte is detected.
    const store = await p.run(BlobStore.BlobStore)
    const key = `plugins/session-recorder/${started.body.id}/chunk-000000.bin`
    const stored = new Uint8Array(await (await p.run(store.get(key))).arrayBuffer())
    expect(new TextDecoder("latin1").decode(stored)).not.toContain("RFB 003.008")
    stored[40] = (stored[40] ?? 0) ^ 0xff
    await p.run(store.put(key, new Blob([stored]).stream(), 1 << 30))
    const tampered = await p.http<{ code: string; detail: string }>(
      "GET",
      `/api/plugins/session-recorder/recordings/${started.body.id}/stream`,
      { token: admin }
    )
    expect(tampered.status).toBe(409)
    expect(tampered.body.detail).toContain("SHA-256")
    c.close()
  }, 30_000)

  test("a slow recorder ends as failed and the desktop stream is unaffected", async () => {
    await p.http("PUT", "/api/admin/plugins/session-recorder/config", {
      token: admin,
      body: { maxBufferedBytes: 64 }
    })
    await p.eventually(async () => {
      const res = await p.http<{ config?: { maxBufferedBytes?: number } }>(
        "GET",
        "/api/admin/plugins/session-recorder/config",
        { token: admin }
      )
      return JSON.stringify(res.body).includes('"maxBufferedBytes":64')
    })
    const id = await launch()
    const started = await p.http<{ id: string }>(
      "POST",
      `/api/plugins/session-recorder/sessions/${id}/recording/start`,
      {
        token: admin,
        body: {}
      }
    )
    expect(started.status).toBe(201)
    // An update larger than the recorder's whole buffer (the stand-in's 64 × 48 desktop, 12 KiB) drops it.
    const c = await connect(id)
    const before = c.received().length
    c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 64, height: 48 }))
    await p.eventually(() => c.received().length >= before + 4 + 12 + 64 * 48 * 4)
    await p.eventually(async () => {
      const rec = await p.http<{ recording: { status: string; error: string | null } }>(
        "GET",
        `/api/plugins/session-recorder/recordings/${started.body.id}`,
        { token: admin }
      )
      return rec.body.recording.status === "failed" && (rec.body.recording.error ?? "").includes("fell behind")
    })
    c.close()
  }, 30_000)
})
