/**
 * `bun run bench recorder`: what recording a session costs the user's
 * stream (issue 16: < 5 % extra latency at p50). One session on the
 * simulated runtime (the RFB stand-in desktop, 64 × 48) behind the real VNC
 * proxy, one WebSocket client doing round trips: a pointer event, a key
 * event and a full FramebufferUpdateRequest, timed until the whole update
 * (12 KB of Raw pixels) has arrived. Batches alternate between
 *
 * - no tap: no recording, and the tap hub has no subscriber for the
 *   session (checked before every batch: the proxy does handshake
 *   bookkeeping only);
 * - recording: the session-recorder plugin records the session (started
 *   through its API before the batch, stopped after; the recorder captures,
 *   compresses, encrypts and writes chunks in this same process, as in
 *   production),
 *
 * so drift on a shared machine hits both alike. Prints p50 and p90 of each,
 * the p50 ratio over all samples, and the verdict against the 1.05 target
 * on the median of the per-pair p50 ratios (each pair is two adjacent
 * batches, so load that drifts between batches cancels).
 * `BENCH_RECORDER_BATCHES` (default 20 per variant) × `BENCH_RECORDER_BATCH`
 * round trips (default 200).
 */
import recorder from "@streamspace/plugin-session-recorder"
import { ClientMessages, RfbTap } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect } from "effect"
import { fixed, printTable, progress } from "./internal/BenchReport.ts"

const batches = Number(process.env["BENCH_RECORDER_BATCHES"] ?? 20)
const batchSize = Number(process.env["BENCH_RECORDER_BATCH"] ?? 200)
const warmupBatches = 2
const target = 1.05

const quantile = (xs: ReadonlyArray<number>, q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!
}

/** A raw RFB client past the handshake that times round trips. */
const connect = async (p: TestPlatform.TestPlatform, sessionId: string, token: string) => {
  const ticket = await VncClient.ticket(p, sessionId, token)
  const ws = new WebSocket(`${p.url!.replace(/^http/, "ws")}/api/sessions/${sessionId}/vnc?ticket=${ticket}`)
  ws.binaryType = "arraybuffer"
  let received = 0
  let head = new Uint8Array()
  let waiting: { readonly until: number; readonly resolve: () => void } | undefined
  ws.onmessage = (e) => {
    const bytes = new Uint8Array(e.data as ArrayBuffer)
    if (head.length < 64) head = Uint8Array.from([...head, ...bytes.subarray(0, 64 - head.length)])
    received += bytes.length
    if (waiting && received >= waiting.until) {
      const w = waiting
      waiting = undefined
      w.resolve()
    }
  }
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = reject
  })
  const atLeast = (until: number) =>
    received >= until ? Promise.resolve() : new Promise<void>((resolve) => (waiting = { until, resolve }))
  await atLeast(12)
  ws.send(ClientMessages.protocolVersion())
  await atLeast(12 + 2)
  ws.send(ClientMessages.securityType(1))
  await atLeast(12 + 2 + 4)
  ws.send(ClientMessages.clientInit(true))
  await atLeast(12 + 2 + 4 + 24)
  const view = new DataView(head.buffer, 18)
  const size = { width: view.getUint16(0), height: view.getUint16(2) }
  const nameLength = view.getUint32(20)
  await atLeast(12 + 2 + 4 + 24 + nameLength)
  ws.send(ClientMessages.setEncodings([0]))
  const updateBytes = 4 + 12 + size.width * size.height * 4
  const request = ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, ...size })
  let n = 0
  return {
    /** One round trip, in ms. */
    roundTrip: async () => {
      const until = received + updateBytes
      const started = performance.now()
      n++
      ws.send(ClientMessages.pointerEvent(0, n % size.width, n % size.height))
      ws.send(ClientMessages.keyEvent(n % 2 === 0, 0x61))
      ws.send(request)
      await atLeast(until)
      return performance.now() - started
    },
    close: () => ws.close()
  }
}

export const run = async () => {
  const p = await TestPlatform.make({
    listen: true,
    plugins: [recorder],
    config: { sessions: { simulatedDelayMs: 20 }, plugins: { enabled: ["session-recorder"] } }
  })
  try {
    const admin = await p.login("admin", p.adminPassword)
    const template = await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "bench-desktop", displayName: "Bench desktop", image: "streamspace/xterm:latest" }
    })
    const session = await p.http<{ id: string }>("POST", "/api/sessions", {
      token: admin,
      body: { templateId: template.body.id }
    })
    const sessionId = session.body.id
    await p.eventually(
      async () =>
        (await p.http<{ state: string }>("GET", `/api/sessions/${sessionId}`, { token: admin })).body.state ===
        "running",
      { timeoutMs: 30_000 }
    )
    const watched = () => p.run(Effect.map(RfbTap.TapHub, (hub) => hub.watched().includes(sessionId)))
    const client = await connect(p, sessionId, admin)
    const api = `/api/plugins/session-recorder/sessions/${sessionId}/recording`

    const noTap = async () => {
      if (await watched()) throw new Error("the tap has a subscriber for the session while nothing records it")
      const out: Array<number> = []
      for (let i = 0; i < batchSize; i++) out.push(await client.roundTrip())
      return out
    }
    const recording = async () => {
      const started = await p.http("POST", `${api}/start`, { token: admin, body: {} })
      if (started.status !== 201) throw new Error(`recording did not start: ${started.status} ${started.text}`)
      await p.eventually(watched)
      const out: Array<number> = []
      for (let i = 0; i < batchSize; i++) out.push(await client.roundTrip())
      const stopped = await p.http<{ stopped: boolean }>("POST", `${api}/stop`, { token: admin, body: {} })
      if (!stopped.body.stopped) throw new Error("recording did not stop")
      await p.eventually(async () => !(await watched()))
      return out
    }

    for (let b = 0; b < warmupBatches; b++) {
      await noTap()
      await recording()
    }
    const samples = { none: [] as Array<number>, recording: [] as Array<number> }
    /** p50 ratio of each adjacent pair of batches: load drifting on a shared machine cancels within a pair. */
    const pairRatios: Array<number> = []
    for (let b = 0; b < batches; b++) {
      // Alternating which goes first, so neither always follows the other's stop.
      let none: Array<number>
      let recorded: Array<number>
      if (b % 2 === 0) {
        none = await noTap()
        recorded = await recording()
      } else {
        recorded = await recording()
        none = await noTap()
      }
      samples.none.push(...none)
      samples.recording.push(...recorded)
      pairRatios.push(quantile(recorded, 0.5) / quantile(none, 0.5))
      progress(`batch ${b + 1}/${batches}: p50 ratio ${fixed(pairRatios.at(-1)!, 3)}`)
    }
    client.close()

    const recordings = await p.http<{ items: Array<{ status: string; sizeBytes: number }> }>(
      "GET",
      `/api/plugins/session-recorder/recordings?sessionId=${sessionId}`,
      { token: admin }
    )
    const failed = recordings.body.items.filter((r) => r.status !== "completed").length
    const p50 = { none: quantile(samples.none, 0.5), recording: quantile(samples.recording, 0.5) }
    const ratio = quantile(pairRatios, 0.5)
    console.log(
      `\nproxy round trip (pointer + key + full 64×48 Raw update), ${batches} × ${batchSize} per variant, interleaved:`
    )
    printTable(
      ["variant", "p50 ms", "p90 ms", "samples"],
      [
        [
          "no tap (no subscriber)",
          fixed(p50.none, 3),
          fixed(quantile(samples.none, 0.9), 3),
          String(samples.none.length)
        ],
        [
          "recording (tap + recorder)",
          fixed(p50.recording, 3),
          fixed(quantile(samples.recording, 0.9), 3),
          String(samples.recording.length)
        ]
      ]
    )
    console.log(`p50 ratio recording / no tap, all samples: ${fixed(p50.recording / p50.none, 3)}`)
    console.log(
      `p50 ratio recording / no tap, median of ${batches} interleaved pairs: ${fixed(ratio, 3)} (target < ${target}) ${ratio < target ? "PASS" : "FAIL"}`
    )
    console.log(`recordings made: ${recordings.body.items.length}, not completed: ${failed}`)
  } finally {
    await p.close()
  }
}
