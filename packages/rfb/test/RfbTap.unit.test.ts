/** The tap's clipboard filters, both ways: what the proxy forwards for a paste (ClientCutText) and a copy (ServerCutText). */
import { describe, expect, test } from "bun:test"
import { Bytes, ClientMessages, RfbTap, ServerMessages } from "@streamspace/rfb"

const info: RfbTap.TapConnectionInfo = {
  sessionId: "s1",
  connectionId: "c1",
  userId: "u1",
  viewOnly: false,
  openedAt: 0
}

const open = () => {
  const hub = RfbTap.makeHub()
  const tap = hub.open(info, () => undefined)
  return { hub, tap }
}

const textOf = (message: Uint8Array | undefined) => (message ? Bytes.latin1Text(message.subarray(8)) : undefined)

describe("RfbTap clipboard filters", () => {
  test("without a subscriber both directions pass as the same bytes", () => {
    const { tap } = open()
    const copy = ServerMessages.serverCutText("copied")
    const paste = ClientMessages.clientCutText("pasted")
    expect(tap.active()).toBe(false)
    expect(tap.clipboard("server", copy)).toBe(copy)
    expect(tap.clipboard("client", paste)).toBe(paste)
  })

  test("a filter sees each direction; a replacement keeps the message's type", () => {
    const { hub, tap } = open()
    const seen: Array<readonly [string, RfbTap.ClipboardContext["direction"]]> = []
    hub.subscribe({
      sessionId: "s1",
      clipboard: (text, context) => {
        seen.push([text, context.direction])
        return text.includes("secret") ? { replace: text.replace("secret", "[gone]") } : "pass"
      }
    })
    const copy = ServerMessages.serverCutText("a secret copy")
    const replaced = tap.clipboard("server", copy)
    expect(replaced?.[0]).toBe(3)
    expect(textOf(replaced)).toBe("a [gone] copy")
    const paste = tap.clipboard("client", ClientMessages.clientCutText("a secret paste"))
    expect(paste?.[0]).toBe(6)
    expect(textOf(paste)).toBe("a [gone] paste")
    const clean = ServerMessages.serverCutText("clean")
    expect(tap.clipboard("server", clean)).toBe(clean)
    expect(seen).toEqual([
      ["a secret copy", "server"],
      ["a secret paste", "client"],
      ["clean", "server"]
    ])
  })

  test("a drop, or a filter that throws, stops the copy (fails closed)", () => {
    const { hub, tap } = open()
    const sub = hub.subscribe({
      sessionId: "s1",
      clipboard: (_, context) => (context.direction === "server" ? "drop" : "pass")
    })
    expect(tap.clipboard("server", ServerMessages.serverCutText("out"))).toBeUndefined()
    expect(textOf(tap.clipboard("client", ClientMessages.clientCutText("in")))).toBe("in")
    sub.close()
    hub.subscribe({
      sessionId: "s1",
      clipboard: () => {
        throw new Error("broken filter")
      }
    })
    expect(tap.clipboard("server", ServerMessages.serverCutText("out"))).toBeUndefined()
  })
})
