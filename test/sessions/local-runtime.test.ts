/**
 * The `local` runtime with the real TigerVNC Xvnc and xterm: a session
 * launched through the HTTP API is a desktop the VNC proxy reaches
 * (ServerInit 1280x800, a screen that is not one flat colour), hibernate
 * stops its processes and keeps its home, wake starts a new display, delete
 * and closing the platform leave no process behind, and Xvnc dying fails
 * the session with what it said.
 *
 * Needs Xvnc and xterm (`.ci/run` installs them): without them every test
 * here fails, naming the packages — these tests are never skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { LocalRuntime, SessionRuntime } from "@streamspace/core"
import { ClientMessages, RfbVersion } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { makeTemplate, makeUser, type SessionBody } from "../core/sessions/helpers.ts"

const missing = ["Xvnc", "xterm"].filter((program) => !Bun.which(program))
const requireDesktopPackages = () => {
  if (missing.length > 0)
    throw new Error(
      `${missing.join(" and ")} not on the PATH: these tests need real desktops (${LocalRuntime.installHint})`
    )
}

/** A variable of the test process that must never reach a desktop (the server's environment holds secrets). */
const serverSecret = "STREAMSPACE_TEST_SERVER_SECRET"

let p: TestPlatform.TestPlatform
let admin: string
let template: string

beforeAll(async () => {
  requireDesktopPackages()
  process.env[serverSecret] = "must-not-leak"
  p = await TestPlatform.make({ listen: true, config: { sessions: { runtime: "local" } } })
  admin = await p.login("admin", p.adminPassword)
  template = await makeTemplate(p, admin, "local-xterm", { image: "streamspace/xterm:latest" })
})
afterAll(async () => {
  delete process.env[serverSecret]
  await p?.close()
})

const desktopOf = (platform: TestPlatform.TestPlatform, id: string) =>
  platform.run(
    Effect.map(SessionRuntime.SessionRuntime, (runtime) => (runtime.kind === "local" ? runtime.desktop(id) : undefined))
  )

/** The session's running desktop; fails the test when there is none. */
const runningDesktop = async (
  platform: TestPlatform.TestPlatform,
  id: string,
  when = "for a running local session"
) => {
  const desktop = await desktopOf(platform, id)
  if (!desktop) throw new Error(`no desktop ${when}`)
  return desktop
}

const alive = (pid: number) => {
  try {
    return !Fs.readFileSync(`/proc/${pid}/stat`, "latin1").split(") ")[1]?.startsWith("Z")
  } catch {
    return false
  }
}

/** The program a process runs (its argv[0]). */
const commandOf = (pid: number) => {
  try {
    return Fs.readFileSync(`/proc/${pid}/cmdline`, "latin1").split("\0")[0] ?? ""
  } catch {
    return ""
  }
}

/** True when something on 127.0.0.1:port accepts a connection. */
const accepts = (port: number) =>
  Bun.connect({ hostname: "127.0.0.1", port, socket: { data: () => undefined } }).then(
    (socket) => {
      socket.end()
      return true
    },
    () => false
  )

const stateOf = async (platform: TestPlatform.TestPlatform, token: string, id: string) =>
  (await platform.http<SessionBody>("GET", `/api/sessions/${id}`, { token })).body

/** Waits for `state`; a session that failed (or ended) on the way stops the wait at once, with its reason. */
const reach = async (platform: TestPlatform.TestPlatform, token: string, id: string, state: string) => {
  const session = await platform.eventually(async () => {
    const s = await stateOf(platform, token, id)
    return s.state === state || (s.state !== "pending" && s.state !== "running" && s.state !== "hibernated")
      ? s
      : undefined
  })
  expect({ state: session.state, reason: session.reason }).toMatchObject({ state })
  return session
}

const launch = async (platform: TestPlatform.TestPlatform, token: string, templateId: string) => {
  const res = await platform.http<SessionBody>("POST", "/api/sessions", { token, body: { templateId } })
  expect(res.status).toBe(201)
  await reach(platform, token, res.body.id, "running")
  return res.body.id
}

const u16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!
const u32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0

interface ServerInit {
  readonly width: number
  readonly height: number
  readonly bitsPerPixel: number
  readonly name: string
  /** Where the messages after ServerInit start. */
  readonly end: number
}

/** ServerInit after the 3.8 handshake with security None: version (12), types (2), SecurityResult (4). */
const serverInit = (b: Uint8Array): ServerInit | undefined => {
  const at = 12 + 2 + 4
  if (b.length < at + 24) return undefined
  const nameLength = u32(b, at + 20)
  if (b.length < at + 24 + nameLength) return undefined
  return {
    width: u16(b, at),
    height: u16(b, at + 2),
    bitsPerPixel: b[at + 4]!,
    name: new TextDecoder().decode(b.subarray(at + 24, at + 24 + nameLength)),
    end: at + 24 + nameLength
  }
}

/**
 * The first complete FramebufferUpdate at or after `from` (raw rectangles, 32 bpp: no SetEncodings was
 * sent), as the number of distinct pixel values it holds and where it ends; undefined until it is complete.
 */
const framebufferUpdate = (b: Uint8Array, from: number): { colours: number; end: number } | undefined => {
  let at = from
  while (at < b.length) {
    const type = b[at]
    if (type === 2) {
      at += 1 // Bell
      continue
    }
    if (type === 3) {
      if (b.length < at + 8) return undefined
      at += 8 + u32(b, at + 4) // ServerCutText
      continue
    }
    if (type !== 0) throw new Error(`unexpected server message type ${type} at ${at}`)
    if (b.length < at + 4) return undefined
    const rects = u16(b, at + 2)
    let pos = at + 4
    const colours = new Set<number>()
    for (let i = 0; i < rects; i++) {
      if (b.length < pos + 12) return undefined
      const width = u16(b, pos + 4)
      const height = u16(b, pos + 6)
      const encoding = u32(b, pos + 8)
      if (encoding !== 0) throw new Error(`unexpected encoding ${encoding}`)
      const bytes = width * height * 4
      if (b.length < pos + 12 + bytes) return undefined
      const view = new DataView(b.buffer, b.byteOffset + pos + 12, bytes)
      for (let o = 0; o < bytes; o += 4) colours.add(view.getUint32(o, true) & 0xffffff)
      pos += 12 + bytes
    }
    return { colours: colours.size, end: pos }
  }
  return undefined
}

describe(`local runtime: real Xvnc desktops (${TestPlatform.engine()})`, () => {
  test("Xvnc and xterm are installed (the suite needs them)", () => {
    expect(missing).toEqual([])
  })

  test("GET /api/platform says sessions run on the local runtime", async () => {
    const res = await p.http<Record<string, unknown>>("GET", "/api/platform", { token: admin })
    expect(res.status).toBe(200)
    expect(res.body["runtime"]).toBe("local")
    expect(res.body["installHint"]).toBeUndefined()
    expect(typeof res.body["edition"]).toBe("string")
    expect((await p.http("GET", "/api/platform")).status).toBe(401)
  })

  test("a session is an Xvnc desktop the VNC proxy reaches: ServerInit 1280x800, xterm on the screen", async () => {
    const owner = await makeUser(p, admin, "local-owner")
    const id = await launch(p, owner.token, template)
    expect((await stateOf(p, owner.token, id)).runtime).toBe("local")
    const desktop = await runningDesktop(p, id)
    expect(commandOf(desktop.pids[0]!)).toContain("Xvnc")
    const [endpoint] = await p.query<{ endpoint: string }>("select endpoint from sessions where id = $1", [id])
    expect(endpoint?.endpoint).toBe(`127.0.0.1:${desktop.port}`)

    const c = VncClient.open(p, id, { ticket: await VncClient.ticket(p, id, owner.token) })
    await p.eventually(() => new TextDecoder().decode(c.received().subarray(0, 12)) === "RFB 003.008\n")
    for (const bytes of [RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true)])
      c.send(bytes)
    const init = await p.eventually(() => serverInit(c.received()))
    expect({ width: init.width, height: init.height, bitsPerPixel: init.bitsPerPixel, name: init.name }).toEqual({
      width: 1280,
      height: 800,
      bitsPerPixel: 32,
      name: "local-xterm"
    })
    // xterm maps its window a moment after the display runs: ask for the whole screen until it shows.
    let from = init.end
    const colours = await p.eventually(
      async () => {
        c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 1280, height: 800 }))
        const update = await p.eventually(() => framebufferUpdate(c.received(), from))
        from = update.end
        return update.colours > 1 ? update.colours : undefined
      },
      { timeoutMs: 20_000, intervalMs: 300 }
    )
    expect(colours).toBeGreaterThan(1)
    c.close()

    // The desktop's processes got an environment of their own: never the server's.
    const xterm = desktop.pids.find((pid) => commandOf(pid).endsWith("/xterm"))!
    const environ = Fs.readFileSync(`/proc/${xterm}/environ`, "latin1").split("\0")
    expect(environ).toContain(`HOME=${desktop.home}`)
    expect(environ).toContain(`DISPLAY=:${desktop.display}`)
    expect(environ.some((v) => v.startsWith(`${serverSecret}=`))).toBe(false)

    // Closing the program (the last window) brings it back, as a container would restart.
    process.kill(xterm, "SIGTERM")
    const restarted = await p.eventually(async () =>
      (await desktopOf(p, id))?.pids.find((pid) => pid !== xterm && alive(pid) && commandOf(pid).endsWith("/xterm"))
    )
    expect(alive(xterm)).toBe(false)
    expect(restarted).toBeGreaterThan(0)
    expect(await stateOf(p, owner.token, id)).toMatchObject({ state: "running" })
  }, 60_000)

  test("hibernate stops the display and keeps the home; wake starts a new one; delete ends it", async () => {
    const owner = await makeUser(p, admin, "local-sleeper")
    const id = await launch(p, owner.token, template)
    const first = await runningDesktop(p, id)
    expect(first.home).toStartWith(Path.resolve(p.config.dataDir))
    Fs.writeFileSync(Path.join(first.home, "notes.txt"), "kept across hibernation")

    expect((await p.http("POST", `/api/sessions/${id}/hibernate`, { token: owner.token })).status).toBe(202)
    await reach(p, owner.token, id, "hibernated")
    expect(first.pids.filter(alive)).toEqual([])
    expect(await accepts(first.port)).toBe(false)
    expect(await desktopOf(p, id)).toBeUndefined()
    expect(Fs.readFileSync(Path.join(first.home, "notes.txt"), "utf8")).toBe("kept across hibernation")

    expect((await p.http("POST", `/api/sessions/${id}/wake`, { token: owner.token })).status).toBe(202)
    await reach(p, owner.token, id, "running")
    const second = await runningDesktop(p, id, "after waking")
    expect(second.pids.every(alive)).toBe(true)
    expect(second.pids.some((pid) => first.pids.includes(pid))).toBe(false)
    expect(second.port).not.toBe(first.port)
    expect(second.home).toBe(first.home)
    const [row] = await p.query<{ endpoint: string }>("select endpoint from sessions where id = $1", [id])
    expect(row?.endpoint).toBe(`127.0.0.1:${second.port}`)
    expect(await accepts(second.port)).toBe(true)

    expect((await p.http("DELETE", `/api/sessions/${id}`, { token: owner.token })).status).toBe(202)
    await reach(p, owner.token, id, "terminated")
    expect(second.pids.filter(alive)).toEqual([])
    expect(await accepts(second.port)).toBe(false)
    // A persistent home outlives the session, as a home volume does.
    expect(Fs.existsSync(Path.join(first.home, "notes.txt"))).toBe(true)
  }, 60_000)

  test("Xvnc dying on its own fails the session, saying so", async () => {
    const owner = await makeUser(p, admin, "local-crash")
    const id = await launch(p, owner.token, template)
    const desktop = await runningDesktop(p, id)
    process.kill(desktop.pids[0]!, "SIGKILL")
    const failed = await reach(p, owner.token, id, "failed")
    expect(failed.reason).toContain("Xvnc was killed by SIGKILL")
    await p.eventually(() => desktop.pids.filter(alive).length === 0)
  }, 60_000)

  test("an idle session hibernates as on the other runtimes: its Xvnc stops", async () => {
    const own = await TestPlatform.make({
      clock: "test",
      config: { sessions: { runtime: "local", idleTimeoutSeconds: 60 } }
    })
    try {
      const token = await own.login("admin", own.adminPassword)
      const templateId = await makeTemplate(own, token, "idle-xterm", { image: "xterm" })
      const id = await launch(own, token, templateId)
      const desktop = await runningDesktop(own, id)
      await own.adjustClock("2 minutes")
      await reach(own, token, id, "hibernated")
      expect(desktop.pids.filter(alive)).toEqual([])
      expect(await accepts(desktop.port)).toBe(false)
    } finally {
      await own.close()
    }
  }, 60_000)

  test("started again on its data directory, the runtime ends what a killed server left and can wake its sessions", async () => {
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamspace-local-restart-"))
    // What a killed server's desktop left running: it carries the data directory's mark.
    const leftover = Bun.spawn(["sleep", "120"], {
      env: { [LocalRuntime.dataDirMark]: dataDir },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "ignore",
      detached: true
    })
    // The workload that server recorded for a session, and the file its user left at home.
    const id = crypto.randomUUID()
    const userId = crypto.randomUUID()
    Fs.mkdirSync(Path.join(dataDir, "local-runtime", id), { recursive: true })
    Fs.writeFileSync(
      Path.join(dataDir, "local-runtime", id, "workload.json"),
      JSON.stringify({
        sessionId: id,
        userId,
        username: "returning",
        templateName: "restart-xterm",
        image: "xterm",
        cpu: 500,
        memory: 1024,
        vncPort: 5900,
        ports: [],
        env: {},
        persistentHome: true,
        nodeSelector: {}
      })
    )
    Fs.mkdirSync(Path.join(dataDir, "homes", userId), { recursive: true })
    Fs.writeFileSync(Path.join(dataDir, "homes", userId, "notes.txt"), "from before the restart")
    const own = await TestPlatform.make({ config: { dataDir, sessions: { runtime: "local" } } })
    try {
      await own.eventually(() => !alive(leftover.pid))
      await own.run(Effect.flatMap(SessionRuntime.SessionRuntime, (runtime) => runtime.wake(id, { nodeSelector: {} })))
      const desktop = await own.eventually(() => desktopOf(own, id))
      expect(desktop.home).toBe(Path.join(dataDir, "homes", userId))
      expect(desktop.pids.every(alive)).toBe(true)
      expect(await accepts(desktop.port)).toBe(true)
    } finally {
      leftover.kill("SIGKILL")
      await own.close()
      Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 60_000)

  test("closing the platform leaves no desktop process behind", async () => {
    const own = await TestPlatform.make({ config: { sessions: { runtime: "local" } } })
    const dataDir = Path.resolve(own.config.dataDir)
    let pids: ReadonlyArray<number> = []
    try {
      const token = await own.login("admin", own.adminPassword)
      const templateId = await makeTemplate(own, token, "closing-xterm", { image: "xterm" })
      const ids = [await launch(own, token, templateId), await launch(own, token, templateId)]
      for (const id of ids) pids = [...pids, ...((await desktopOf(own, id))?.pids ?? [])]
      expect(pids.length).toBeGreaterThanOrEqual(4)
      expect(pids.every(alive)).toBe(true)
    } finally {
      await own.close()
    }
    expect(pids.filter(alive)).toEqual([])
    const marked = Fs.readdirSync("/proc").filter((pid) => {
      try {
        return Fs.readFileSync(`/proc/${pid}/environ`, "latin1").includes(`${LocalRuntime.dataDirMark}=${dataDir}\0`)
      } catch {
        return false
      }
    })
    expect(marked).toEqual([])
  }, 60_000)
})
