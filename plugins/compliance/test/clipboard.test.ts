/**
 * Clipboard policies at the VNC proxy, end to end: the `local` runtime's
 * real TigerVNC Xvnc desktops, a real RFB client over the core's VNC proxy
 * WebSocket (a ticket from `POST /api/sessions/:id/vnc-ticket`), pasting
 * with ClientCutText. What the desktop got is read from its X CLIPBOARD
 * selection (a small X11 client, XSelection.ts), which Xvnc sets from every
 * ClientCutText it receives. A blocked paste is followed by a full
 * FramebufferUpdateRequest: once Xvnc answered it, it has handled the paste
 * before it (one connection, in order), so an unchanged selection proves
 * the SSN never reached it.
 *
 * Copies out of the desktop: the same X11 client takes the CLIPBOARD
 * selection as a program does when the user copies; Xvnc sends the text to
 * its VNC clients as ServerCutText, which the proxy's parser splits out of
 * the server's stream. What the viewer got is read by parsing its received
 * bytes. A blocked copy is recorded as a violation when the filter runs,
 * before the proxy goes on; a full update requested after that arrives
 * behind anything the proxy forwarded before it, so its arrival without the
 * text proves the copy never reached the viewer.
 *
 * Needs Xvnc and xterm (`.ci/run` installs them); never skipped.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { LocalRuntime, SessionRuntime } from "@streamspace/core"
import { Bytes, ClientMessages, RfbConnection, RfbTap, RfbVersion } from "@streamspace/rfb"
import { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect, Either } from "effect"
import { base, createPolicy, deletePolicy, makeUser, violations } from "./helpers.ts"
import compliance from "@streamspace/plugin-compliance"
import { ownClipboard, readClipboard } from "./XSelection.ts"

const missing = ["Xvnc", "xterm"].filter((program) => !Bun.which(program))

let p: TestPlatform.TestPlatform
let admin: string
let template: string
let ada: { id: string; token: string; session: string; display: number }
let bob: { id: string; token: string; session: string; display: number }

const ssnText = "employee 123-45-6789 payroll"
const finance = { all: false, groups: ["finance"] }

const launch = async (token: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", { token, body: { templateId: template } })
  expect(res.status).toBe(201)
  const id = res.body.id
  const state = await p.eventually(async () => {
    const s = (await p.http<{ state: string; reason: string | null }>("GET", `/api/sessions/${id}`, { token })).body
    return s.state === "pending" ? undefined : s
  })
  expect(state).toMatchObject({ state: "running" })
  const desktop = await p.run(
    Effect.map(SessionRuntime.SessionRuntime, (runtime) => (runtime.kind === "local" ? runtime.desktop(id) : undefined))
  )
  if (!desktop) throw new Error("no local desktop for a running session")
  return { session: id, display: desktop.display }
}

const watched = () => p.run(Effect.map(RfbTap.TapHub, (hub) => hub.watched()))

/** A viewer past the RFB handshake (ServerInit received), as the session's user. */
const connect = async (session: string, token: string) => {
  const c = VncClient.open(p, session, { ticket: await VncClient.ticket(p, session, token) })
  await c.opened
  await p.eventually(() => c.received().length >= 12)
  c.send(RfbVersion.encode("3.8"))
  await p.eventually(() => c.received().length >= 12 + 2)
  c.send(ClientMessages.securityType(1))
  await p.eventually(() => c.received().length >= 12 + 2 + 4)
  c.send(ClientMessages.clientInit(true))
  await p.eventually(() => c.received().length > 12 + 2 + 4 + 24)
  return c
}

/** Asks for a full update and waits for the answer: whatever the proxy forwarded before is in `received()` then. */
const roundTrip = async (c: VncClient.VncClient) => {
  const before = c.received().length
  c.send(ClientMessages.framebufferUpdateRequest({ incremental: false, x: 0, y: 0, width: 1, height: 1 }))
  await p.eventually(() => c.received().length > before)
}

/** Pastes `text`, then waits until Xvnc answered a full update requested after it (it handled the paste). */
const paste = async (c: VncClient.VncClient, text: string) => {
  c.send(ClientMessages.clientCutText(text))
  await roundTrip(c)
}

/** The texts of the ServerCutTexts the viewer received (its stream parsed as a client would). */
const copiesReceived = (c: VncClient.VncClient) => {
  const rfb = RfbConnection.make()
  rfb.push(
    "client",
    Bytes.concat(RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true))
  )
  const parsed = rfb.push("server", c.received())
  if (Either.isLeft(parsed)) throw new Error(`the viewer's stream does not parse: ${parsed.left.message}`)
  return parsed.right.flatMap((m) => (m.type === "ServerCutText" ? [Bytes.latin1Text(m.bytes.subarray(8))] : []))
}

/** Copies `text` in the desktop (a program takes the CLIPBOARD selection); Xvnc asks for it at once. */
const copy = async (display: number, text: string) => {
  const owner = await ownClipboard(display, text)
  await p.eventually(() => owner.requests().includes("UTF8_STRING") || owner.requests().includes("STRING"))
  return owner
}

const clipboardViolations = async (userId: string, direction: string) =>
  (await violations(p, admin, "?type=clipboard_violation")).filter(
    (v) => v.userId === userId && v.details["direction"] === direction
  )

const policyBody = (enforcement: string, action: string) => ({
  name: "finance-clipboard",
  enforcement,
  appliesTo: finance,
  rules: { clipboard: { direction: "bidirectional", inspect: { patterns: ["us-ssn"], action } } }
})

beforeAll(async () => {
  if (missing.length > 0)
    throw new Error(
      `${missing.join(" and ")} not on the PATH: these tests need real desktops (${LocalRuntime.installHint})`
    )
  p = await TestPlatform.make({
    listen: true,
    plugins: [compliance],
    config: { plugins: { enabled: ["compliance"] }, sessions: { runtime: "local" } }
  })
  admin = await p.login("admin", p.adminPassword)
  const t = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name: "clip-xterm", displayName: "xterm", image: "streamspace/xterm:latest" }
  })
  expect(t.status).toBe(201)
  template = t.body.id
  const a = await makeUser(p, admin, "ada", ["Finance"])
  const b = await makeUser(p, admin, "bob")
  ada = { ...a, ...(await launch(a.token)) }
  bob = { ...b, ...(await launch(b.token)) }
  await p.awaitDelivered()
}, 90_000)
afterAll(() => p?.close())

describe(`clipboard at the VNC proxy, real Xvnc (${TestPlatform.engine()})`, () => {
  test("without a clipboard policy the plugin does not watch any session", async () => {
    expect(await watched()).not.toContain(ada.session)
    const c = await connect(ada.session, ada.token)
    await paste(c, ssnText)
    expect(await readClipboard(ada.display)).toBe(ssnText)
    c.close()
  })

  test("without a clipboard policy a copy in the desktop reaches the viewer unchanged", async () => {
    const c = await connect(ada.session, ada.token)
    const owner = await copy(ada.display, ssnText)
    await p.eventually(() => copiesReceived(c).includes(ssnText))
    owner.release()
    c.close()
  })

  test("a blocking policy: an SSN never reaches the desktop, clean text does, and the violation names the policy", async () => {
    const id = await createPolicy(p, admin, policyBody("blocking", "block"))
    await p.eventually(async () => (await watched()).includes(ada.session))
    const c = await connect(ada.session, ada.token)

    await paste(c, "clean note for the desktop")
    await p.eventually(async () => (await readClipboard(ada.display)) === "clean note for the desktop")

    await paste(c, ssnText)
    expect(await readClipboard(ada.display)).toBe("clean note for the desktop")
    const found = await p.eventually(async () => {
      const items = (await violations(p, admin, "?type=clipboard_violation")).filter((v) => v.userId === ada.id)
      return items.length > 0 ? items : undefined
    })
    expect(found).toHaveLength(1)
    expect(found[0]).toMatchObject({ policyName: "finance-clipboard", action: "blocked", severity: "high" })
    expect(found[0]!.details).toMatchObject({ patterns: { "us-ssn": 1 }, direction: "to_session" })
    // The matched text is never stored.
    expect(JSON.stringify(found[0])).not.toContain("123-45-6789")

    // A user outside the group is not touched.
    await p.eventually(async () => (await watched()).includes(bob.session))
    const b = await connect(bob.session, bob.token)
    await paste(b, ssnText)
    await p.eventually(async () => (await readClipboard(bob.display)) === ssnText)
    expect((await violations(p, admin, "?type=clipboard_violation")).filter((v) => v.userId === bob.id)).toHaveLength(0)
    b.close()

    // Redact: the desktop gets the text with the SSN replaced.
    const put = await p.http("PUT", `${base}/policies/${id}`, { token: admin, body: policyBody("blocking", "redact") })
    expect(put.status).toBe(200)
    await paste(c, ssnText)
    await p.eventually(async () => (await readClipboard(ada.display)) === "employee [REDACTED:us-ssn] payroll")

    // Warning: the paste goes through, with a violation.
    const warn = await p.http("PUT", `${base}/policies/${id}`, { token: admin, body: policyBody("warning", "block") })
    expect(warn.status).toBe(200)
    await paste(c, `${ssnText} (warned)`)
    await p.eventually(async () => (await readClipboard(ada.display)) === `${ssnText} (warned)`)
    await p.eventually(async () =>
      (await violations(p, admin, "?type=clipboard_violation")).some(
        (v) => v.userId === ada.id && v.action === "allowed_with_warning"
      )
    )
    c.close()

    await deletePolicy(p, admin, id)
    await p.eventually(async () => !(await watched()).includes(ada.session))
  })

  test("copies out of the desktop: refused by a to_session policy, redacted by inspection, clean ones pass; violations say from_session", async () => {
    const id = await createPolicy(p, admin, {
      name: "finance-copies",
      enforcement: "blocking",
      appliesTo: finance,
      rules: { clipboard: { direction: "to_session" } }
    })
    await p.eventually(async () => (await watched()).includes(ada.session))
    const c = await connect(ada.session, ada.token)

    // Pastes in are still allowed; the copy out never reaches the viewer.
    await paste(c, "paste allowed in")
    await p.eventually(async () => (await readClipboard(ada.display)) === "paste allowed in")
    const refused = await copy(ada.display, "quarterly numbers")
    const blocked = await p.eventually(async () => {
      const items = await clipboardViolations(ada.id, "from_session")
      return items.length > 0 ? items : undefined
    })
    expect(blocked).toHaveLength(1)
    expect(blocked[0]).toMatchObject({ policyName: "finance-copies", action: "blocked" })
    await roundTrip(c)
    expect(copiesReceived(c)).toEqual([])
    refused.release()

    // Inspection with redact: the viewer gets the copy with the SSN replaced, never the SSN.
    const put = await p.http("PUT", `${base}/policies/${id}`, {
      token: admin,
      body: {
        name: "finance-copies",
        enforcement: "blocking",
        appliesTo: finance,
        rules: { clipboard: { direction: "bidirectional", inspect: { patterns: ["us-ssn"], action: "redact" } } }
      }
    })
    expect(put.status).toBe(200)
    const redacted = await copy(ada.display, ssnText)
    await p.eventually(() => copiesReceived(c).includes("employee [REDACTED:us-ssn] payroll"))
    redacted.release()
    const clean = await copy(ada.display, "clean copy out")
    await p.eventually(() => copiesReceived(c).includes("clean copy out"))
    clean.release()
    expect(copiesReceived(c)).toEqual(["employee [REDACTED:us-ssn] payroll", "clean copy out"])
    const found = await p.eventually(async () => {
      const items = (await clipboardViolations(ada.id, "from_session")).filter((v) => v.details["patterns"])
      return items.length > 0 ? items : undefined
    })
    expect(found).toHaveLength(1)
    expect(found[0]!.details).toMatchObject({ patterns: { "us-ssn": 1 }, direction: "from_session" })
    expect(JSON.stringify(found[0])).not.toContain("123-45-6789")

    // A user outside the policy's scope copies out freely.
    await p.eventually(async () => (await watched()).includes(bob.session))
    const b = await connect(bob.session, bob.token)
    const bobs = await copy(bob.display, ssnText)
    await p.eventually(() => copiesReceived(b).includes(ssnText))
    bobs.release()
    b.close()
    c.close()
    await deletePolicy(p, admin, id)
  })

  test("with the plugin disabled the proxy is not tapped and pastes pass; enabled again, they are filtered", async () => {
    const id = await createPolicy(p, admin, policyBody("blocking", "block"))
    await p.eventually(async () => (await watched()).includes(ada.session))
    expect((await p.http("POST", "/api/admin/plugins/compliance/disable", { token: admin })).status).toBe(200)
    expect(await watched()).not.toContain(ada.session)
    const c = await connect(ada.session, ada.token)
    await paste(c, `${ssnText} (disabled)`)
    await p.eventually(async () => (await readClipboard(ada.display)) === `${ssnText} (disabled)`)
    c.close()

    expect((await p.http("POST", "/api/admin/plugins/compliance/enable", { token: admin })).status).toBe(200)
    await p.eventually(async () => (await watched()).includes(ada.session))
    const again = await connect(ada.session, ada.token)
    await paste(again, "clean after enable")
    await p.eventually(async () => (await readClipboard(ada.display)) === "clean after enable")
    await paste(again, ssnText)
    expect(await readClipboard(ada.display)).toBe("clean after enable")
    again.close()
    await deletePolicy(p, admin, id)
  })

  test("size and direction rules; custom patterns cannot inspect the clipboard (400 naming the field)", async () => {
    const id = await createPolicy(p, admin, {
      name: "small-pastes",
      enforcement: "blocking",
      appliesTo: { all: true },
      rules: { clipboard: { direction: "bidirectional", maxBytes: 8 } }
    })
    await p.eventually(async () => (await watched()).includes(ada.session))
    const c = await connect(ada.session, ada.token)
    await paste(c, "tiny")
    await p.eventually(async () => (await readClipboard(ada.display)) === "tiny")
    await paste(c, "far too long for the limit")
    expect(await readClipboard(ada.display)).toBe("tiny")

    const outbound = await p.http("PUT", `${base}/policies/${id}`, {
      token: admin,
      body: {
        name: "small-pastes",
        enforcement: "blocking",
        appliesTo: { all: true },
        rules: { clipboard: { direction: "from_session" } }
      }
    })
    expect(outbound.status).toBe(200)
    await paste(c, "ok")
    expect(await readClipboard(ada.display)).toBe("tiny")
    c.close()
    await deletePolicy(p, admin, id)

    const pattern = await p.http("POST", `${base}/dlp/patterns`, {
      token: admin,
      body: { id: "custom-project", name: "Project code", source: "PRJ-[0-9]{6}", severity: "medium" }
    })
    expect(pattern.status).toBe(201)
    const refused = await p.http<{ errors: Array<{ path: string }> }>("POST", `${base}/policies`, {
      token: admin,
      body: {
        name: "custom-clip",
        enforcement: "blocking",
        appliesTo: { all: true },
        rules: { clipboard: { inspect: { patterns: ["us-ssn", "custom-project"], action: "block" } } }
      }
    })
    expect(refused.status).toBe(400)
    expect(refused.body.errors.map((e) => e.path)).toContain("body.rules.clipboard.inspect.patterns.1")
  })
})
