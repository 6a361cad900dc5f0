/**
 * The server framer on a real desktop: the `local` runtime's TigerVNC Xvnc
 * running xterm, reached through the core's VNC proxy. A client asks for
 * each encoding in turn — Raw, Hextile (with the X cursor), ZRLE, Tight
 * with JPEG and without (its basic modes and filters), then Hextile, Tight
 * and Raw again at 16 bits per pixel — and each time takes a full update
 * and then incremental ones while it types a command into xterm that fills
 * the screen (scrolling: CopyRect where the server sees a copy) and then
 * touches a file, which proves the keys arrived and the command ran (typed
 * again once if not), then a full update again.
 *
 * The proxy frames every byte of that stream: a framing error would close
 * the WebSocket with 4502, so the connection must stay open throughout.
 * The client parses what it received with its own RfbConnection, which must
 * agree (no protocol error) and count rectangles of the encoding asked for.
 *
 * Needs Xvnc and xterm (`.ci/run` installs them); never skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { LocalRuntime } from "@streamspace/core"
import { ClientMessages, PixelFormat, RfbConnection, RfbEncodings, type RfbProtocolError } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Either } from "effect"

const missing = ["Xvnc", "xterm"].filter((program) => !Bun.which(program))

let p: TestPlatform.TestPlatform
let session: string
let token: string
/** Where the typed commands leave their marks. */
const marks = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamspace-framer-"))

beforeAll(async () => {
  if (missing.length > 0)
    throw new Error(
      `${missing.join(" and ")} not on the PATH: these tests need real desktops (${LocalRuntime.installHint})`
    )
  p = await TestPlatform.make({ listen: true, config: { sessions: { runtime: "local" } } })
  const admin = await p.login("admin", p.adminPassword)
  const template = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "framer-xterm", displayName: "xterm", image: "streamspace/xterm:latest" }
  })
  expect(template.status).toBe(201)
  token = (await p.makeUser("framer", { adminToken: admin })).token
  const launched = await p.http<{ id: string }>("POST", "/api/sessions", {
    token,
    body: { templateId: template.body.id }
  })
  expect(launched.status).toBe(201)
  session = launched.body.id
  await p.eventually(
    async () => (await p.http<{ state: string }>("GET", `/api/sessions/${session}`, { token })).body.state === "running"
  )
}, 90_000)
afterAll(async () => {
  await p?.close()
  Fs.rmSync(marks, { recursive: true, force: true })
})

/** A viewer over the proxy that parses what it sends and receives with its own RfbConnection. */
const viewer = async () => {
  const c = VncClient.open(p, session, { ticket: await VncClient.ticket(p, session, token) })
  const rfb = RfbConnection.make()
  let error: RfbProtocolError | undefined
  let received = 0
  let closed: { code: number; reason: string } | undefined
  c.ws.addEventListener("message", (e) => {
    const bytes = new Uint8Array(e.data as ArrayBuffer)
    received += bytes.length
    const parsed = rfb.push("server", bytes)
    if (Either.isLeft(parsed)) error ??= parsed.left
  })
  c.closed.then((how) => {
    closed = how
  })
  await c.opened
  const send = (bytes: Uint8Array) => {
    const parsed = rfb.push("client", bytes)
    if (Either.isLeft(parsed)) error ??= parsed.left
    c.send(bytes)
  }
  /** Fails the test with what went wrong: the proxy closed the connection, or the viewer's own parse failed. */
  const healthy = () => {
    expect(closed).toBeUndefined()
    expect(error?.message).toBeUndefined()
    return true
  }
  send(ClientMessages.protocolVersion("3.8"))
  send(ClientMessages.securityType(1))
  send(ClientMessages.clientInit(true))
  await p.eventually(() => rfb.handshakeComplete(), { what: "ServerInit" })
  return { rfb, send, healthy, received: () => received, close: () => c.close() }
}

type Viewer = Awaited<ReturnType<typeof viewer>>

const rectanglesIn = (v: Viewer, encoding: number) => v.rfb.serverRectangles().get(encoding) ?? 0

/** The desktop's top left quarter, where xterm opens (80 × 24 characters): a full update in Raw is 1 MB, not 4. */
const area = { x: 0, y: 0, width: 640, height: 400 }

const key = (v: Viewer, keysym: number) => {
  v.send(ClientMessages.keyEvent(true, keysym))
  v.send(ClientMessages.keyEvent(false, keysym))
}

/**
 * Runs `command` in xterm (the pointer moved over it first), asking for incremental updates meanwhile,
 * until the file it touches after it exists. Keys typed before xterm has the focus can be lost: then Ctrl-C
 * clears the line and the command is typed once more.
 */
const run = async (v: Viewer, command: string) => {
  const mark = Path.join(marks, String(Fs.readdirSync(marks).length + 1))
  const updates = setInterval(() => v.send(ClientMessages.framebufferUpdateRequest({ incremental: true, ...area })), 50)
  try {
    for (let attempt = 1; ; attempt++) {
      v.send(ClientMessages.pointerEvent(0, 100, 100))
      for (const ch of `${command}; touch ${mark}`) key(v, ch.charCodeAt(0))
      key(v, 0xff0d)
      const ran = await p
        .eventually(() => v.healthy() && Fs.existsSync(mark), { timeoutMs: 10_000, what: `xterm running ${command}` })
        .then(
          () => true,
          (e) => {
            if (attempt === 2) throw e
            return false
          }
        )
      if (ran) return
      v.send(ClientMessages.keyEvent(true, 0xffe3))
      key(v, 0x63)
      v.send(ClientMessages.keyEvent(false, 0xffe3))
    }
  } finally {
    clearInterval(updates)
  }
}

/**
 * Asks for a full update of `area` until rectangles in `encoding` arrive. Again every second: TigerVNC may
 * answer a request with a cursor change alone (the pointer over xterm changes the cursor) and then wait for
 * the next request, as a viewer sends one after each update.
 */
const fullUpdate = async (v: Viewer, encoding: number, what: string) => {
  const before = rectanglesIn(v, encoding)
  const ask = () => v.send(ClientMessages.framebufferUpdateRequest({ incremental: false, ...area }))
  ask()
  const again = setInterval(ask, 1000)
  try {
    // Health first: once the proxy closed or the parse failed, the wait ends with that as its error.
    await p.eventually(() => v.healthy() && rectanglesIn(v, encoding) > before, { what })
  } finally {
    clearInterval(again)
  }
}

/** Asks for `encoding` (with CopyRect and `extra`), takes a full update in it, runs `command` in xterm, and takes another. */
const phase = async (v: Viewer, encoding: number, command: string, extra: ReadonlyArray<number> = []) => {
  v.send(ClientMessages.setEncodings([encoding, RfbEncodings.copyRect, ...extra]))
  await fullUpdate(v, encoding, `a full update in ${RfbEncodings.describe(encoding)}`)
  await run(v, command)
  // What xterm drew last is framed too.
  await fullUpdate(v, encoding, `a full update in ${RfbEncodings.describe(encoding)} after ${command}`)
}

describe(`the server framer on a real Xvnc, through the VNC proxy (${TestPlatform.engine()})`, () => {
  test("Raw, Hextile, ZRLE and Tight at 32 bits per pixel, then at 16, while xterm draws: every byte framed", async () => {
    const v = await viewer()
    await phase(v, RfbEncodings.raw, "seq 1 400", [RfbEncodings.cursor, RfbEncodings.desktopSize])
    await phase(v, RfbEncodings.hextile, "ls -la /usr/bin", [RfbEncodings.xCursor])
    await phase(v, RfbEncodings.zrle, "seq 1000 1300", [-250])
    // JPEG at quality 6, then Tight's basic modes alone (TigerVNC uses JPEG only with a quality level).
    await phase(v, RfbEncodings.tight, "ls -la /usr/lib", [-26, -254, RfbEncodings.lastRect])
    await phase(v, RfbEncodings.tight, "seq 2000 2400", [-250])

    v.send(ClientMessages.setPixelFormat(PixelFormat.rgb565))
    await phase(v, RfbEncodings.hextile, "seq 3000 3300")
    await phase(v, RfbEncodings.tight, "ls -la /etc", [-254])
    await phase(v, RfbEncodings.raw, "seq 4000 4100")

    // The pseudo-encodings asked for along the way came too: the cursor both ways, LastRect ending Tight updates.
    for (const pseudo of [RfbEncodings.cursor, RfbEncodings.xCursor, RfbEncodings.lastRect])
      expect([pseudo, rectanglesIn(v, pseudo)]).not.toEqual([pseudo, 0])
    v.healthy()
    v.close()
  }, 90_000)
})
