/**
 * The console's live view of the server: one `GET /api/events/stream` kept
 * open while someone is logged in (fetch + ReadableStream, because the
 * request carries the bearer token), reconnecting with backoff and resuming
 * with Last-Event-ID. Each event makes the react-query data it touches
 * stale — `session.*` → ["sessions"] and ["session", id]; `plugin.*` →
 * ["plugins"] and ["ui-extensions"] — so pages refetch what changed instead
 * of polling. `useLiveEvent(prefix, handler)` hands raw events to a page.
 */
import { useQueryClient } from "@tanstack/react-query"
import { createContext, type ReactNode, useContext, useEffect, useRef, useState } from "react"
import * as Tokens from "../api/Tokens.ts"
import { backoffMs, createSseParser, staleKeys } from "./SseParser.ts"

export interface LiveEvent {
  readonly type: string
  /** The stream cursor (opaque). */
  readonly id: string | undefined
  readonly data: Readonly<Record<string, unknown>>
}

export type LiveStatus = "connecting" | "live" | "offline"

type Handler = (event: LiveEvent) => void

interface LiveContextValue {
  readonly subscribe: (prefix: string, handler: Handler) => () => void
  readonly status: LiveStatus
}

const LiveContext = createContext<LiveContextValue>({ subscribe: () => () => undefined, status: "offline" })

const streamPath = "/api/events/stream"

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer)
        resolve()
      },
      { once: true }
    )
  })

const parseData = (text: string): Record<string, unknown> => {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {}
  } catch {
    return {}
  }
}

export const LiveEventsProvider = ({ children }: { readonly children: ReactNode }) => {
  const queryClient = useQueryClient()
  const handlers = useRef(new Map<Handler, string>())
  const [status, setStatus] = useState<LiveStatus>("connecting")
  const [subscribe] = useState(() => (prefix: string, handler: Handler) => {
    handlers.current.set(handler, prefix)
    return () => void handlers.current.delete(handler)
  })

  useEffect(() => {
    const abort = new AbortController()
    const { signal } = abort
    let lastId: string | undefined
    let attempt = 0

    const dispatch = (event: LiveEvent) => {
      if (event.id) lastId = event.id
      for (const key of staleKeys(event.type, event.data)) void queryClient.invalidateQueries({ queryKey: [...key] })
      for (const [handler, prefix] of handlers.current) if (event.type.startsWith(prefix)) handler(event)
    }

    const connect = async () => {
      const token = await Tokens.accessToken()
      if (!token) return "logged-out" as const
      const headers: Record<string, string> = { accept: "text/event-stream", authorization: `Bearer ${token}` }
      if (lastId) headers["last-event-id"] = lastId
      const res = await fetch(streamPath, { headers, signal, cache: "no-store" })
      if (res.status === 401) {
        // The token may have just expired: one refresh, then the backoff decides.
        await Tokens.refresh()
        return "retry" as const
      }
      if (!res.ok || !res.body) return "retry" as const
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      const parser = createSseParser()
      // Without a cursor, whatever changed before the stream opened is not replayed: reload the list once
      // (with one, the stream replays the gap).
      const stale = lastId === undefined
      setStatus("live")
      let first = true
      for (;;) {
        const chunk = await reader.read()
        if (chunk.done) break
        for (const message of parser.push(chunk.value)) {
          if (first) {
            first = false
            attempt = 0
            if (stale) void queryClient.invalidateQueries({ queryKey: ["sessions"] })
          }
          dispatch({ type: message.event, id: message.id, data: parseData(message.data) })
        }
      }
      // The server ends streams now and then (re-checking the caller): reconnect at once.
      return "ended" as const
    }

    void (async () => {
      while (!signal.aborted) {
        let outcome: "logged-out" | "retry" | "ended" | "error"
        try {
          outcome = await connect()
        } catch {
          outcome = "error"
        }
        if (signal.aborted || outcome === "logged-out") return
        if (outcome !== "ended") setStatus("offline")
        await sleep(outcome === "ended" ? 100 : backoffMs(attempt++), signal)
        if (!signal.aborted) setStatus((s) => (s === "live" ? s : "connecting"))
      }
    })()
    return () => abort.abort()
  }, [queryClient])

  return <LiveContext.Provider value={{ subscribe, status }}>{children}</LiveContext.Provider>
}

/** Calls `handler` with each live event whose type starts with `prefix` (e.g. "session."). */
export const useLiveEvent = (prefix: string, handler: Handler) => {
  const { subscribe } = useContext(LiveContext)
  const latest = useRef(handler)
  latest.current = handler
  useEffect(() => subscribe(prefix, (e) => latest.current(e)), [subscribe, prefix])
}

/** Whether the live stream is open (for a "live" indicator). */
export const useLiveStatus = (): LiveStatus => useContext(LiveContext).status
