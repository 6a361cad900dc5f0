/** Shared set-up of the VNC security suites: sessions on the simulated runtime and what their desktops received. */
import { expect } from "bun:test"
import { SessionRuntime } from "@streamspace/core"
import { Bytes, ClientMessages, RfbMessage, RfbVersion, StandInVncServer } from "@streamspace/rfb"
import type { TestPlatform, VncClient } from "@streamspace/testing"
import { Effect } from "effect"

export { makeTemplate, makeUser, type SessionBody } from "../core/sessions/helpers.ts"

/** The RFB 3.8 handshake as a client sends it (security None, shared). */
export const handshake = [RfbVersion.encode("3.8"), ClientMessages.securityType(1), ClientMessages.clientInit(true)]

export const concat = Bytes.concat

/** What a view share may send: the handshake and the messages that only shape the picture. */
export const viewerTypes: ReadonlySet<RfbMessage.ClientMessageType> = new Set([
  "ProtocolVersion",
  "SecurityType",
  "ClientInit",
  "SetPixelFormat",
  "SetEncodings",
  "FramebufferUpdateRequest"
])

/** The stand-in desktop the simulated runtime runs for a running session. */
export const desktopOf = (p: TestPlatform.TestPlatform, sessionId: string) =>
  p.run(
    Effect.map(SessionRuntime.SessionRuntime, (runtime): StandInVncServer.StandInVncServer | undefined =>
      runtime.kind === "simulated" ? runtime.desktop(sessionId) : undefined
    )
  )

/** The client messages the session's desktop received on its latest connection. */
export const lastConnectionReceived = async (p: TestPlatform.TestPlatform, sessionId: string) => {
  const desktop = await desktopOf(p, sessionId)
  if (!desktop) return []
  const latest = desktop.connections()
  return desktop
    .received()
    .filter((r) => r.connection === latest)
    .map((r) => r.message)
}

export const launch = async (p: TestPlatform.TestPlatform, token: string, templateId: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/sessions", { token, body: { templateId } })
  expect(res.status).toBe(201)
  const id = res.body.id
  await p.eventually(
    async () => (await p.http<{ state: string }>("GET", `/api/sessions/${id}`, { token })).body.state === "running"
  )
  return id
}

export const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i])

/**
 * How a connection turned out: `"greeted"` once the session's VNC server greeted through the proxy (the
 * connection is then closed), or the close code and reason when it was refused first.
 */
export const outcomeOf = async (
  p: TestPlatform.TestPlatform,
  c: VncClient.VncClient
): Promise<"greeted" | { readonly code: number; readonly reason: string }> => {
  let closed: { readonly code: number; readonly reason: string } | undefined
  void c.closed.then((e) => (closed = e))
  await p.eventually(() => closed !== undefined || c.received().length >= 12)
  if (closed) return closed
  c.close()
  await c.closed
  return "greeted"
}
