/**
 * The desktop viewer in Chromium against real desktops (the `local`
 * runtime: TigerVNC Xvnc running xterm): opened from the sessions list it
 * shows the desktop, typing into xterm changes the screen, a view share
 * sends nothing (and the proxy drops what a view share sends anyway), a
 * dropped connection comes back with backoff and a new ticket, and a
 * hibernated session wakes when opened. Prints the time from clicking
 * "Open" to the first frame drawn (collected for the web bench; no budget
 * asserted here).
 *
 * Needs Xvnc and xterm (`.ci/run` installs them): without them every test
 * here fails naming the packages; never skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { ClientMessages } from "@streamspace/rfb"
import { BrowserKit, VncClient } from "@streamspace/testing"
import { SessionRuntime } from "@streamspace/core"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type { Socket } from "bun"
import type { Page } from "playwright-core"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"
import * as DesktopCanvas from "./fixtures/DesktopCanvas.ts"

const missing = ["Xvnc", "xterm"].filter((program) => !Bun.which(program))

const password = "quiet-lantern-orbit-7"
/** The local runtime's Xvnc geometry. */
const desktopSize = { width: 1280, height: 800 }

let kit: BrowserKit.BrowserKit
let adminToken: string
let alice: { id: string; token: string }
let bob: { id: string; token: string }
let sessionId: string

const makeUser = async (username: string) => {
  const id = await ConsoleTest.createUser(kit, adminToken, { username, password, roles: ["user"] })
  return { id, token: await kit.platform.login(username, password) }
}

const stateOf = async (id: string) =>
  (await ConsoleTest.request<{ state: string }>(kit, "GET", `/api/sessions/${id}`, alice.token)).state

const reach = (id: string, state: string) =>
  kit.platform.eventually(
    async () => {
      expect(await stateOf(id)).toBe(state)
      return true
    },
    { timeoutMs: 30_000 }
  )

const homeOf = (userId: string) => Path.join(kit.platform.config.dataDir, "homes", encodeURIComponent(userId))

const screen = (page: Page) => page.getByRole("application", { name: /^Desktop of / })
const canvas = (page: Page) => screen(page).locator("canvas")

/** Waits for the first framebuffer update of the current connection; resolves `performance.now()` of it. */
const firstFrame = async (page: Page, after = 0) => {
  const stage = page.locator("[data-first-frame]")
  await stage.waitFor({ timeout: 30_000 })
  for (;;) {
    const at = Number(await stage.getAttribute("data-first-frame"))
    if (at > after) return at
    await page.waitForTimeout(50)
  }
}

const canvasStats = (page: Page) => DesktopCanvas.stats(canvas(page))
const xtermPoint = (page: Page) => DesktopCanvas.xtermPoint(canvas(page))

/**
 * Waits until the canvas shows a desktop, not a blank frame: several colours, and more than 2 % of it not the
 * background (xterm's window maps a moment after the display greets).
 */
/** When no xterm shows: the session's desktop processes and its window tree (is xterm mapped, managed by openbox?). */
const diagnose = async () => {
  const desktop = await kit.platform.run(
    Effect.map(SessionRuntime.SessionRuntime, (r) => (r.kind === "local" ? r.desktop(sessionId) : undefined))
  )
  const ps = Bun.spawnSync(["ps", "-eo", "pid,etimes,stat,args"]).stdout.toString().split("\n")
  console.log(
    "desktop:",
    desktop,
    ps.filter((l) => /^\s*\d+\s+\d+\s+\S+\s+\S*(Xvnc|openbox|xterm)\b/.test(l))
  )
  if (desktop)
    console.log(
      Bun.spawnSync(["xwininfo", "-root", "-tree"], { env: { DISPLAY: `:${desktop.display}` } }).stdout.toString()
    )
}

const desktopShown = (page: Page, timeoutMs = 15_000) =>
  kit.platform
    .eventually(
      async () => {
        const stats = await canvasStats(page)
        expect(stats.colours).toBeGreaterThanOrEqual(2)
        expect(stats.varied).toBeGreaterThan(0.02)
        return stats
      },
      { timeoutMs }
    )
    .catch(async (e) => {
      await diagnose()
      throw e
    })

/** A screenshot of the canvas once two in a row are the same (nothing is still drawing). */
const settledShot = (page: Page) =>
  kit.platform.eventually(async () => {
    const first = await canvas(page).screenshot()
    await page.waitForTimeout(300)
    const second = await canvas(page).screenshot()
    expect(await pixelDiff(page, first, second)).toBe(0)
    return second
  })

const pixelDiff = DesktopCanvas.pixelDiff

/**
 * Runs `use` on a raw RFB connection to the session's desktop as `token`'s holder, past the handshake (RFB
 * version, security "none", ClientInit, ServerInit); the connection is closed however `use` ends.
 */
const withRfb = async <A>(
  token: string,
  use: (client: VncClient.VncClient, atLeast: (bytes: number) => Promise<unknown>) => Promise<A>
): Promise<A> => {
  const client = VncClient.open(kit.platform, sessionId, {
    ticket: await VncClient.ticket(kit.platform, sessionId, token)
  })
  try {
    await client.opened
    const atLeast = (bytes: number) => kit.platform.eventually(() => client.received().length >= bytes)
    await atLeast(12)
    client.send(ClientMessages.protocolVersion())
    await atLeast(12 + 2)
    client.send(ClientMessages.securityType(1))
    await atLeast(12 + 2 + 4)
    client.send(ClientMessages.clientInit())
    await atLeast(12 + 2 + 4 + 24)
    return await use(client, atLeast)
  } finally {
    client.close()
  }
}

/** Types into the session's desktop over a raw RFB connection as `token`'s holder (what a modified client could send). */
const typeOverRfb = (token: string, text: string) =>
  withRfb(token, async (client) => {
    for (const keysym of [...[...text].map((ch) => ch.charCodeAt(0)), 0xff0d]) {
      client.send(ClientMessages.keyEvent(true, keysym))
      client.send(ClientMessages.keyEvent(false, keysym))
    }
    // Let the proxy relay everything before closing.
    await Bun.sleep(300)
  })

/**
 * A TCP relay in front of the platform, to cut the browser's desktop
 * connections the way a network does: `drop()` ends the open desktop
 * WebSockets, and while `refuse` is set new ones are ended before reaching
 * the server. Everything else passes through.
 */
const startRelay = (target: URL) => {
  const desktops = new Set<Socket<RelayConnection>>()
  const all = new Set<Socket<RelayConnection>>()
  const relay = {
    refuse: false,
    desktopConnections: 0,
    drop: () => {
      for (const socket of desktops) socket.end()
    },
    listener: Bun.listen<RelayConnection>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open: (socket) => {
          socket.data = { pending: [] }
          all.add(socket)
        },
        data: async (socket, bytes) => {
          const conn = socket.data
          if (conn.upstream) return void conn.upstream.write(bytes)
          conn.pending.push(Buffer.from(bytes))
          if (conn.pending.length > 1) return
          const head = new TextDecoder().decode(bytes.subarray(0, 64))
          const desktop = /^GET \/api\/sessions\/[^/ ]+\/vnc\?/.test(head)
          if (desktop && relay.refuse) return void socket.end()
          if (desktop) {
            relay.desktopConnections++
            desktops.add(socket)
          }
          conn.upstream = await Bun.connect({
            hostname: target.hostname,
            port: Number(target.port),
            socket: {
              data: (_, data) => void socket.write(data),
              close: () => void socket.end(),
              error: () => void socket.end()
            }
          })
          conn.upstream.write(Buffer.concat(conn.pending))
        },
        close: (socket) => {
          desktops.delete(socket)
          all.delete(socket)
          socket.data.upstream?.end()
        }
      }
    }),
    stop: () => {
      for (const socket of all) socket.end()
      relay.listener.stop(true)
    }
  }
  return relay
}

interface RelayConnection {
  pending: Array<Buffer>
  upstream?: Socket<undefined>
}

/**
 * Waits until xterm's window is on the session's screen (it maps a while after the display greets), looking
 * through one RFB connection (raw encoding, a full update every half second) as `token`'s holder.
 */
const xtermOnScreen = async (token: string) => {
  try {
    await withRfb(token, async (client, atLeast) => {
      client.send(ClientMessages.setEncodings([0]))
      const frameBytes = desktopSize.width * desktopSize.height * 4
      await kit.platform.eventually(
        async () => {
          const from = client.received().length
          client.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, ...desktopSize }))
          await atLeast(from + frameBytes)
          const frame = client.received().subarray(from)
          let white = 0
          for (let i = 0; i < frame.length; i += 4) if (frame[i] === 0xff && frame[i + 1] === 0xff) white++
          // xterm's window is white; the bare root window black.
          expect(white / (frame.length / 4)).toBeGreaterThan(0.02)
          return true
        },
        { timeoutMs: 60_000, intervalMs: 500 }
      )
    })
  } catch (e) {
    await diagnose()
    throw e
  }
}

/** Clicks "Open" on the sessions list; the ms from the click to the first frame drawn (after `shown` appeared, if given). */
const openFromSessionsList = async (page: Page, shown?: string) => {
  await page.goto(`${kit.url}/sessions`)
  const open = page.getByRole("link", { name: "Open xterm" })
  await open.waitFor({ timeout: 20_000 })
  // When the click happened, on the page's clock (the viewer stamps its first frame on the same clock).
  await page.evaluate(
    `document.addEventListener("click", () => { window.openClickedAt = performance.now() }, { capture: true, once: true })`
  )
  // `shown` may be on screen for a moment only (a local desktop wakes in well under a second): watched from the
  // click on, not polled for.
  if (shown)
    await page.evaluate(`{
      window.sawShown = false
      const seen = () => { if (document.body.innerText.includes(${JSON.stringify(shown)})) window.sawShown = true }
      new MutationObserver(seen).observe(document.body, { subtree: true, childList: true, characterData: true })
    }`)
  await open.click()
  const drawnAt = await firstFrame(page)
  if (shown) expect({ shown, seen: await page.evaluate("window.sawShown") }).toEqual({ shown, seen: true })
  const clickedAt = Number(await page.evaluate("window.openClickedAt"))
  return drawnAt - clickedAt
}

describe("the desktop viewer on the local runtime (Xvnc + xterm)", () => {
  beforeAll(async () => {
    if (missing.length > 0)
      throw new Error(
        `${missing.join(" and ")} not on the PATH: the viewer tests need real desktops (apt-get install tigervnc-standalone-server xterm)`
      )
    kit = await BrowserKit.start({ config: { sessions: { runtime: "local" } } })
    adminToken = await kit.platform.login("admin", kit.platform.adminPassword)
    alice = await makeUser("alice")
    bob = await makeUser("bob")
    const template = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/templates", adminToken, {
      name: "xterm",
      displayName: "xterm",
      image: "streamspace/xterm:latest"
    })
    sessionId = (
      await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/sessions", alice.token, { templateId: template.id })
    ).id
    await reach(sessionId, "running")
    // Opened before xterm maps, the first frame would be a bare root window.
    await xtermOnScreen(adminToken)
    await ConsoleTest.request(kit, "POST", `/api/sessions/${sessionId}/shares`, alice.token, {
      userId: bob.id,
      access: "view"
    })
  }, 150_000)
  afterAll(() => kit?.close())

  let alicePage: Page

  test("opened from the sessions list, the viewer shows the real desktop", async () => {
    alicePage = await kit.newPage()
    await kit.login(alicePage, "alice", password)
    const ms = await openFromSessionsList(alicePage)
    console.log(`viewer first frame: ${ms.toFixed(0)} ms from clicking Open (running local session)`)
    await kit.screenshot(alicePage, "viewer-opened")
    expect(alicePage.url()).toEndWith(`/sessions/${sessionId}/view`)
    expect(await alicePage.getByTestId("session-state").textContent()).toBe("running")
    expect(await desktopShown(alicePage)).toMatchObject(desktopSize)
    expect(await kit.accessibilityViolations(alicePage)).toEqual([])
  }, 90_000)

  test("scale to fit and actual size", async () => {
    const scaled = await canvas(alicePage).boundingBox()
    const toggle = alicePage.getByRole("button", { name: "Scale to fit" })
    expect(await toggle.getAttribute("aria-pressed")).toBe("true")
    await toggle.click()
    expect(await toggle.getAttribute("aria-pressed")).toBe("false")
    await kit.platform.eventually(async () => {
      const actual = await canvas(alicePage).boundingBox()
      expect(Math.round(actual?.width ?? 0)).toBe(desktopSize.width)
      return true
    })
    await toggle.click()
    await kit.platform.eventually(async () => {
      const again = await canvas(alicePage).boundingBox()
      expect(Math.round(again?.width ?? 0)).toBe(Math.round(scaled?.width ?? -1))
      return true
    })
    expect(scaled?.width).not.toBe(desktopSize.width)
  }, 30_000)

  test("typing into xterm changes the screen", async () => {
    const point = await xtermPoint(alicePage)
    await alicePage.mouse.click(point.x, point.y)
    const before = await settledShot(alicePage)
    await alicePage.keyboard.type("echo hello-from-browser", { delay: 15 })
    await alicePage.keyboard.press("Enter")
    const changed = await kit.platform.eventually(async () => {
      const pixels = await pixelDiff(alicePage, before, await canvas(alicePage).screenshot())
      // The command line and its output: two lines of text, hundreds of pixels even scaled down.
      expect(pixels).toBeGreaterThan(300)
      return pixels
    })
    console.log(`typing changed ${changed} pixels of the viewer's canvas`)
    await kit.screenshot(alicePage, "viewer")
  }, 60_000)

  test("text sent from the clipboard panel is the remote clipboard (pasted into xterm)", async () => {
    // Focus xterm first: a click in xterm afterwards could make an empty selection of its own the one pasted.
    const point = await xtermPoint(alicePage)
    await alicePage.mouse.click(point.x, point.y)
    await alicePage.getByRole("button", { name: "Clipboard" }).click()
    await alicePage.getByLabel("Paste to the remote desktop").fill("echo clip-from-browser > clip.txt")
    await alicePage.getByRole("button", { name: "Send to the remote clipboard" }).click()
    // Once the panel has closed, the keyboard is the desktop's again; xterm pastes the selection with Shift+Insert.
    await alicePage.getByLabel("Paste to the remote desktop").waitFor({ state: "detached" })
    await kit.platform.eventually(async () => alicePage.evaluate(`document.activeElement?.tagName === "CANVAS"`))
    await alicePage.keyboard.press("Shift+Insert")
    await alicePage.keyboard.press("Enter")
    const file = Path.join(homeOf(alice.id), "clip.txt")
    await kit.platform.eventually(() => Fs.existsSync(file) && Fs.readFileSync(file, "utf8") === "clip-from-browser\n")
  }, 60_000)

  test("a view share watches: its viewer sends no input, and the proxy drops what a view share sends", async () => {
    const page = await kit.newPage({ colorScheme: "dark" })
    await kit.login(page, "bob", password)
    await page.goto(`${kit.url}/sessions/${sessionId}/view`)
    await firstFrame(page)
    await page.getByText("View only").waitFor()
    expect(await page.getByRole("button", { name: "Hibernate" }).count()).toBe(0)
    expect(await page.getByRole("button", { name: "Delete" }).count()).toBe(0)
    expect(await page.getByRole("button", { name: "Send Ctrl-Alt-Del" }).isDisabled()).toBe(true)
    await kit.screenshot(page, "viewer-view-share-dark")
    expect(await desktopShown(page)).toMatchObject(desktopSize)

    const point = await xtermPoint(page)
    await page.mouse.click(point.x, point.y)
    const before = await settledShot(page)
    await page.keyboard.type("echo typed-by-a-view-share", { delay: 15 })
    await page.keyboard.press("Enter")
    await page.waitForTimeout(1500)
    expect(await pixelDiff(page, before, await canvas(page).screenshot())).toBeLessThan(20)
    expect(await kit.accessibilityViolations(page)).toEqual([])

    // A client that ignores view-only: the proxy drops its keys; the owner's, sent after them, arrive.
    await typeOverRfb(bob.token, "touch typed-by-view-share")
    await typeOverRfb(alice.token, "touch typed-by-owner")
    const home = homeOf(alice.id)
    await kit.platform.eventually(() => Fs.existsSync(Path.join(home, "typed-by-owner")))
    expect(Fs.existsSync(Path.join(home, "typed-by-view-share"))).toBe(false)
    await page.context().close()
  }, 90_000)

  test("a dropped connection is retried with backoff, each attempt with a new ticket", async () => {
    const relay = startRelay(new URL(kit.url))
    try {
      const page = await kit.newPage()
      const relayed = `http://127.0.0.1:${relay.listener.port}`
      await page.goto(relayed)
      await kit.login(page, "alice", password)
      let tickets = 0
      page.on("request", (request) => {
        if (request.method() === "POST" && request.url().endsWith("/vnc-ticket")) tickets++
      })
      await page.goto(`${relayed}/sessions/${sessionId}/view`)
      const first = await firstFrame(page)
      expect(tickets).toBe(1)

      relay.refuse = true
      relay.drop()
      await page.getByText("Reconnecting in 1 s…").waitFor({ timeout: 5_000 })
      await page.getByText("Connection lost").waitFor()
      // The next attempt is refused too: the wait doubles.
      await page.getByText("Reconnecting in 2 s…").waitFor({ timeout: 5_000 })
      expect(tickets).toBe(2)
      await kit.screenshot(page, "viewer-reconnecting")
      expect(await kit.accessibilityViolations(page)).toEqual([])

      // Attempts went on (refused) meanwhile; the button skips the wait of the current one.
      const reconnectNow = page.getByRole("button", { name: "Reconnect now" })
      await reconnectNow.waitFor()
      const asked = tickets
      relay.refuse = false
      await reconnectNow.click()
      const again = await firstFrame(page, first)
      expect(again).toBeGreaterThan(first)
      expect(tickets).toBe(asked + 1)
      expect(relay.desktopConnections).toBe(2)
      expect(await desktopShown(page)).toMatchObject(desktopSize)
      await page.context().close()
    } finally {
      relay.stop()
    }
  }, 90_000)

  test("hibernate from the bar, then opening the session wakes it: Waking…, then the desktop", async () => {
    await alicePage.getByRole("button", { name: "Hibernate" }).click()
    await alicePage.getByRole("heading", { name: /^Hibernat(ing…|ed)$/ }).waitFor()
    await reach(sessionId, "hibernated")
    await kit.screenshot(alicePage, "viewer-hibernated")

    const wakeMs = await openFromSessionsList(alicePage, "Waking…").catch(async (e) => {
      await kit.screenshot(alicePage, "viewer-wake-failed")
      throw e
    })
    console.log(`viewer first frame: ${wakeMs.toFixed(0)} ms from clicking Open on a hibernated local session (wake)`)
    expect(await stateOf(sessionId)).toBe("running")
    // A new desktop: its first frame is the bare root window until xterm maps (see xtermOnScreen).
    expect(await desktopShown(alicePage, 60_000)).toMatchObject(desktopSize)
  }, 120_000)

  test("delete asks for confirmation, then ends the session", async () => {
    await alicePage.getByRole("button", { name: "Delete" }).click()
    const dialog = alicePage.getByRole("dialog", { name: "Delete this session?" })
    await dialog.waitFor()
    await dialog.getByRole("button", { name: "Delete session" }).click()
    await alicePage.waitForURL(/\/sessions$/)
    await reach(sessionId, "terminated")
  }, 60_000)
})
