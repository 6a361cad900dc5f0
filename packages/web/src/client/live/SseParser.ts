/**
 * Server-sent events from a byte stream read with fetch (EventSource cannot
 * send an Authorization header): feed text as it arrives, get each complete
 * event. Follows the WHATWG parsing rules the console's server relies on:
 * `event:`, `id:`, `data:` (joined by newlines), comments ignored, an event
 * ends at a blank line.
 */
export interface SseMessage {
  readonly event: string
  readonly id: string | undefined
  readonly data: string
}

export interface SseParser {
  /** Text as it arrives; returns the events it completed. */
  readonly push: (text: string) => ReadonlyArray<SseMessage>
}

export const createSseParser = (): SseParser => {
  let buffer = ""
  let event = ""
  let id: string | undefined
  let data: Array<string> = []
  const line = (text: string, out: Array<SseMessage>) => {
    if (text === "") {
      if (data.length > 0) out.push({ event: event || "message", id, data: data.join("\n") })
      event = ""
      id = undefined
      data = []
      return
    }
    if (text.startsWith(":")) return
    const colon = text.indexOf(":")
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? "" : text.slice(colon + 1)
    if (value.startsWith(" ")) value = value.slice(1)
    if (field === "event") event = value
    else if (field === "data") data.push(value)
    else if (field === "id" && !value.includes("\0")) id = value
  }
  return {
    push: (text) => {
      buffer += text
      const out: Array<SseMessage> = []
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer)
        // A lone \r at the end may be the first half of \r\n: wait for more.
        if (!match || (match[0] === "\r" && match.index === buffer.length - 1)) break
        line(buffer.slice(0, match.index), out)
        buffer = buffer.slice(match.index + match[0].length)
      }
      return out
    }
  }
}

/** How long to wait before reconnect attempt `attempt` (0-based): doubling from 1 s to 30 s, with jitter. */
export const backoffMs = (attempt: number, random: () => number = Math.random): number => {
  const base = Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5))
  return Math.round(base * (0.75 + random() * 0.5))
}

/** The react-query keys an event makes stale (a contract with the console's pages). */
export const staleKeys = (
  type: string,
  data: Readonly<Record<string, unknown>>
): ReadonlyArray<ReadonlyArray<string>> => {
  if (type === "reset") return [["sessions"], ["session"], ["plugins"], ["ui-extensions"]]
  if (type.startsWith("session.")) {
    const id = data["sessionId"]
    return typeof id === "string" ? [["sessions"], ["session", id]] : [["sessions"]]
  }
  if (type.startsWith("plugin.")) return [["plugins"], ["ui-extensions"]]
  return []
}
