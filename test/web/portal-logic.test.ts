/**
 * The pure parts of the portal and the event stream: SSE parsing, backoff,
 * which query keys an event makes stale, session badges and actions, API-key
 * scopes, catalog helpers, and who sees which event.
 */
// biome-ignore-all lint/style/noRestrictedImports: the console's client modules are browser code without a package entry; these are their pure parts.
import { describe, expect, test } from "bun:test"
import { EventStream } from "@streamspace/server"
import { categoriesOf, usableIconUrl } from "../../packages/web/src/client/portal/Catalog.ts"
import { backoffMs, createSseParser, staleKeys } from "../../packages/web/src/client/live/SseParser.ts"
import { expiryOf, scopeOptions } from "../../packages/web/src/client/portal/account/Scopes.ts"
import { actionsFor, formatBytes, percent, stateLabel } from "../../packages/web/src/client/portal/SessionState.ts"

describe("SSE parser", () => {
  test("events split across chunks, CRLF, comments and multi-line data", () => {
    const parser = createSseParser()
    expect(parser.push("retry: 3000\n\n: heartbeat\n\nevent: session.started\nid: 5-1")).toEqual([])
    expect(parser.push('2\ndata: {"a":\r\ndata: 1}\r')).toEqual([])
    expect(parser.push("\n\r\n")).toEqual([{ event: "session.started", id: "5-12", data: '{"a":\n1}' }])
    expect(parser.push("data: x\n\n")).toEqual([{ event: "message", id: undefined, data: "x" }])
  })
  test("an event without data is not dispatched", () => {
    expect(createSseParser().push("event: ping\n\n")).toEqual([])
  })
})

describe("live invalidation", () => {
  test("session events make the list and the session stale; plugin events the plugin lists", () => {
    expect(staleKeys("session.started", { sessionId: "s1" })).toEqual([["sessions"], ["session", "s1"]])
    expect(staleKeys("plugin.enabled", { pluginId: "hello" })).toEqual([["plugins"], ["ui-extensions"]])
    expect(staleKeys("reset", {})).toEqual([["sessions"], ["session"], ["plugins"], ["ui-extensions"]])
    expect(staleKeys("ready", {})).toEqual([])
  })
  test("backoff doubles from 1 s up to 30 s, with jitter", () => {
    expect(backoffMs(0, () => 0.5)).toBe(1000)
    expect(backoffMs(3, () => 0.5)).toBe(8000)
    expect(backoffMs(20, () => 0.5)).toBe(30_000)
    expect(backoffMs(0, () => 0)).toBe(750)
  })
})

describe("session cards", () => {
  test("labels show where a session is going", () => {
    expect(stateLabel({ state: "pending", desired: "running" })).toBe("Starting…")
    expect(stateLabel({ state: "running", desired: "hibernated" })).toBe("Hibernating…")
    expect(stateLabel({ state: "hibernated", desired: "running" })).toBe("Waking…")
    expect(stateLabel({ state: "running", desired: "running" })).toBe("Running")
  })
  test("actions follow state and access", () => {
    const running = { state: "running", desired: "running" } as const
    expect(actionsFor({ ...running, access: "owner" })).toEqual({
      open: true,
      hibernate: true,
      wake: false,
      delete: true,
      share: true,
      files: true
    })
    expect(actionsFor({ ...running, access: "view" })).toEqual({
      open: true,
      hibernate: false,
      wake: false,
      delete: false,
      share: false,
      files: false
    })
    expect(actionsFor({ state: "hibernated", desired: "hibernated", access: "view" }).open).toBe(false)
    expect(actionsFor({ state: "hibernated", desired: "hibernated", access: "control" }).wake).toBe(true)
    expect(actionsFor({ state: "terminated", desired: "terminated", access: "owner" }).delete).toBe(false)
  })
  test("sizes and progress", () => {
    expect(formatBytes(512)).toBe("512 B")
    expect(formatBytes(1536)).toBe("1.5 KB")
    expect(formatBytes(50 * 1024 * 1024)).toBe("50 MB")
    expect(percent({ loaded: 0, total: 0 })).toBe(100)
    expect(percent({ loaded: 1, total: 3 })).toBe(33)
  })
})

describe("API key scopes", () => {
  test("a user is offered what they hold plus account; * offers everything", () => {
    const user = scopeOptions(["sessions:read", "sessions:write", "plugin-x:use"]).map((o) => o.value)
    expect(user).toEqual(["account", "sessions:read", "sessions:write", "plugin-x:use"])
    const admin = scopeOptions(["*"]).map((o) => o.value)
    expect(admin).toContain("users:write")
    expect(admin).toContain("*")
    expect(scopeOptions(["sessions:*"]).map((o) => o.value)).toContain("sessions:connect")
  })
  test("expiry in days from now, never for 0", () => {
    expect(expiryOf("30", new Date("2026-01-01T00:00:00Z"))).toBe("2026-01-31T00:00:00.000Z")
    expect(expiryOf("0")).toBeUndefined()
  })
})

describe("catalog", () => {
  test("categories are distinct, sorted, without blanks", () => {
    expect(
      categoriesOf([{ category: "Office" }, { category: "" }, { category: "Dev" }, { category: "Office" }])
    ).toEqual(["Dev", "Office"])
  })
  test("only icons the console's CSP lets it load are used", () => {
    expect(usableIconUrl("/icons/a.svg")).toBe("/icons/a.svg")
    expect(usableIconUrl("data:image/png;base64,AAAA")).toBe("data:image/png;base64,AAAA")
    expect(usableIconUrl("https://cdn.example/a.png")).toBeUndefined()
    expect(usableIconUrl("//cdn.example/a.png")).toBeUndefined()
    expect(usableIconUrl(null)).toBeUndefined()
  })
})

describe("event stream visibility", () => {
  const event = (type: string, payload: Record<string, unknown>): EventStream.OutboxEvent => ({
    cursor: { tx: 10n, position: 3n },
    id: "e1",
    type,
    payload,
    occurredAt: "2026-01-01T00:00:00.000Z"
  })
  const alice = { userId: "alice", readsSessions: true, seesAllSessions: false }
  const session = event("session.started", { sessionId: "s1", userId: "bob", templateId: "t", state: "running" })
  test("another user's session only when shared, or with sessions:admin", () => {
    expect(EventStream.visibleTo(alice, session, () => false)).toBeUndefined()
    expect(EventStream.visibleTo(alice, session, (id) => id === "s1")).toMatchObject({ sessionId: "s1" })
    expect(EventStream.visibleTo({ ...alice, seesAllSessions: true }, session, () => false)?.["state"]).toBe("running")
    expect(EventStream.visibleTo({ ...alice, readsSessions: false }, session, () => true)).toBeUndefined()
  })
  test("plugin events carry only the plugin id; other types are not carried", () => {
    expect(
      EventStream.visibleTo(
        alice,
        event("plugin.configured", { pluginId: "hello", config: { token: "x" } }),
        () => false
      )
    ).toEqual({ id: "e1", type: "plugin.configured", pluginId: "hello", occurredAt: "2026-01-01T00:00:00.000Z" })
    expect(EventStream.visibleTo(alice, event("user.login", { userId: "alice" }), () => true)).toBeUndefined()
  })
  test("only a request asking for text/event-stream by name gets the stream", () => {
    expect(EventStream.acceptsEventStream("text/event-stream")).toBe(true)
    expect(EventStream.acceptsEventStream("application/json, Text/Event-Stream;q=0.9")).toBe(true)
    expect(EventStream.acceptsEventStream("text/event-stream;q=0")).toBe(false)
    expect(EventStream.acceptsEventStream("*/*")).toBe(false)
    expect(EventStream.acceptsEventStream(null)).toBe(false)
  })
  test("cursors round-trip and order by transaction, then position", () => {
    expect(EventStream.parseCursor(EventStream.formatCursor({ tx: 12n, position: 7n }))).toEqual({
      tx: 12n,
      position: 7n
    })
    expect(EventStream.parseCursor("12")).toBeUndefined()
    expect(EventStream.isAfter({ tx: 2n, position: 1n }, { tx: 1n, position: 9n })).toBe(true)
    expect(EventStream.isAfter({ tx: 1n, position: 9n }, { tx: 1n, position: 9n })).toBe(false)
  })
})
