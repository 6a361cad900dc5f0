/**
 * A WebSocket client of the VNC proxy (`/api/sessions/:id/vnc`) for tests:
 * opens it with a ticket (`ticket`, which asks `POST …/vnc-ticket` for one) or
 * an Authorization header, keeps every byte the proxy sends, and resolves
 * `closed` with the close code and reason.
 *
 *     const c = VncClient.open(p, sessionId, { ticket: await VncClient.ticket(p, sessionId, token) })
 *     await c.opened
 *     c.send(ClientMessages.protocolVersion())
 *     await p.eventually(() => c.received().length >= 12)
 */
import { Bytes } from "@streamspace/rfb"
import type { TestPlatform } from "./TestPlatform.ts"

export interface VncClient {
  readonly ws: WebSocket
  /** Resolves once the upgrade succeeded (rejects if the socket closed first). */
  readonly opened: Promise<void>
  /** Everything the proxy sent so far, as one byte string. */
  readonly received: () => Uint8Array
  readonly send: (bytes: Uint8Array) => void
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>
  readonly close: () => void
}

export interface OpenOptions {
  /** Sent as `?ticket=`. */
  readonly ticket?: string
  /** Sent as `Authorization: Bearer …`. */
  readonly bearer?: string
  /** Extra query parameters (e.g. the refused `token`). */
  readonly query?: Record<string, string>
}

/** A ticket for `sessionId` as the holder of `token`; throws with the problem when refused. */
export const ticket = async (p: TestPlatform, sessionId: string, token: string): Promise<string> => {
  const res = await p.http<{ ticket: string }>("POST", `/api/sessions/${sessionId}/vnc-ticket`, { token })
  if (res.status !== 200) throw new Error(`no VNC ticket (${res.status}): ${res.text}`)
  return res.body.ticket
}

export const open = (p: TestPlatform, sessionId: string, options: OpenOptions = {}): VncClient => {
  if (!p.url) throw new Error("VncClient needs a platform made with listen: true")
  const query = new URLSearchParams({ ...options.query, ...(options.ticket ? { ticket: options.ticket } : {}) })
  const url = `${p.url.replace(/^http/, "ws")}/api/sessions/${sessionId}/vnc${query.size > 0 ? `?${query}` : ""}`
  const ws = options.bearer
    ? new WebSocket(url, { headers: { authorization: `Bearer ${options.bearer}` } })
    : new WebSocket(url)
  ws.binaryType = "arraybuffer"
  const chunks: Array<Uint8Array> = []
  ws.onmessage = (e) =>
    chunks.push(typeof e.data === "string" ? new TextEncoder().encode(e.data) : new Uint8Array(e.data as ArrayBuffer))
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.addEventListener("close", (e) => resolve({ code: e.code, reason: e.reason }))
  })
  const opened = new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve())
    ws.addEventListener("close", (e) => reject(new Error(`closed before opening: ${e.code} ${e.reason}`)))
  })
  opened.catch(() => undefined)
  return {
    ws,
    opened,
    received: () => Bytes.concat(...chunks),
    send: (bytes) => ws.send(bytes),
    closed,
    close: () => ws.close()
  }
}
