/**
 * An X display's CLIPBOARD selection the way any X client uses it (no xclip
 * or xsel installed): a minimal X11 protocol client over the display's Unix
 * socket.
 *
 * `readClipboard`: setup, InternAtom, CreateWindow, ConvertSelection to
 * UTF8_STRING, wait for SelectionNotify, GetProperty. TigerVNC's Xvnc owns
 * the selection once a VNC client sent ClientCutText, so this is what the
 * desktop's programs would paste; null when nobody owns it.
 *
 * `ownClipboard`: what a program does when the user copies — it takes the
 * selection (SetSelectionOwner) and answers each SelectionRequest (TARGETS,
 * UTF8_STRING, STRING) with a ChangeProperty on the requestor's window and
 * a SelectionNotify. Xvnc asks as soon as the owner changes and sends the
 * text to its VNC clients as ServerCutText: a copy out of the desktop.
 */
const pad4 = (n: number) => (4 - (n % 4)) % 4

class Wire {
  private buffer = new Uint8Array(0)
  private waiter: (() => void) | undefined
  private closed = false
  constructor(private readonly socket: { write: (b: Uint8Array) => number; end: () => void }) {}
  push(chunk: Uint8Array) {
    const next = new Uint8Array(this.buffer.length + chunk.length)
    next.set(this.buffer)
    next.set(chunk, this.buffer.length)
    this.buffer = next
    this.wake()
  }
  end() {
    this.closed = true
    this.wake()
  }
  private wake() {
    const w = this.waiter
    this.waiter = undefined
    w?.()
  }
  write(bytes: Uint8Array) {
    this.socket.write(bytes)
  }
  close() {
    this.socket.end()
  }
  /** The next `n` bytes. */
  async take(n: number): Promise<Uint8Array> {
    while (this.buffer.length < n) {
      if (this.closed) throw new Error("the X server closed the connection")
      await new Promise<void>((resolve) => {
        this.waiter = resolve
      })
    }
    const out = this.buffer.slice(0, n)
    this.buffer = this.buffer.slice(n)
    return out
  }
  /** The next reply, error or event: 32 bytes, plus a reply's extra length. */
  async message(): Promise<Uint8Array> {
    const head = await this.take(32)
    if (head[0] !== 1) return head
    const extra = new DataView(head.buffer, head.byteOffset).getUint32(4, true) * 4
    if (extra === 0) return head
    const rest = await this.take(extra)
    const all = new Uint8Array(32 + extra)
    all.set(head)
    all.set(rest, 32)
    return all
  }
}

const request = (opcode: number, data: number, body: Uint8Array) => {
  const out = new Uint8Array(4 + body.length)
  const view = new DataView(out.buffer)
  out[0] = opcode
  out[1] = data
  view.setUint16(2, out.length / 4, true)
  out.set(body, 4)
  return out
}

const words = (...values: ReadonlyArray<number>) => {
  const out = new Uint8Array(values.length * 4)
  const view = new DataView(out.buffer)
  values.forEach((v, i) => view.setUint32(i * 4, v, true))
  return out
}

/** A connected X client: its wire, a 1×1 window of its own and InternAtom. */
const openDisplay = async (display: number) => {
  let wire: Wire | undefined
  const socket = await Bun.connect({
    unix: `/tmp/.X11-unix/X${display}`,
    socket: {
      data: (_s, chunk) => wire?.push(new Uint8Array(chunk)),
      close: () => wire?.end()
    }
  })
  const opened = new Wire(socket)
  wire = opened
  try {
    // Setup: little-endian, protocol 11.0, no authorisation (Xvnc runs without -auth; local clients connect).
    opened.write(new Uint8Array([0x6c, 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
    const head = await opened.take(8)
    const more = new DataView(head.buffer).getUint16(6, true) * 4
    const setup = await opened.take(more)
    if (head[0] !== 1) throw new Error(`X setup refused: ${new TextDecoder().decode(setup)}`)
    const sv = new DataView(setup.buffer)
    const idBase = sv.getUint32(4, true)
    const vendorLength = sv.getUint16(16, true)
    const formats = setup[21]!
    const root = sv.getUint32(32 + vendorLength + pad4(vendorLength) + formats * 8, true)

    const intern = async (name: string) => {
      const bytes = new TextEncoder().encode(name)
      const body = new Uint8Array(4 + bytes.length + pad4(bytes.length))
      new DataView(body.buffer).setUint16(0, bytes.length, true)
      body.set(bytes, 4)
      opened.write(request(16, 0, body))
      const reply = await opened.message()
      if (reply[0] !== 1) throw new Error(`InternAtom ${name} failed (error ${reply[1]})`)
      return new DataView(reply.buffer).getUint32(8, true)
    }

    const window = idBase | 1
    // CreateWindow: 1x1 InputOutput child of the root, CopyFromParent depth and visual, no attributes.
    const create = new Uint8Array(28)
    const cv = new DataView(create.buffer)
    cv.setUint32(0, window, true)
    cv.setUint32(4, root, true)
    cv.setUint16(12, 1, true)
    cv.setUint16(14, 1, true)
    cv.setUint16(18, 1, true)
    opened.write(request(1, 0, create))
    return { wire: opened, window, intern }
  } catch (e) {
    opened.close()
    throw e
  }
}

export const readClipboard = async (display: number): Promise<string | null> => {
  const { wire, window, intern } = await openDisplay(display)
  try {
    const clipboard = await intern("CLIPBOARD")
    const utf8 = await intern("UTF8_STRING")
    const property = await intern("STREAMSPACE_TEST_SELECTION")
    wire.write(request(24, 0, words(window, clipboard, utf8, property, 0)))
    for (;;) {
      const m = await wire.message()
      if (m[0] === 0) throw new Error(`X error ${m[1]} for opcode ${m[10]}`)
      if ((m[0]! & 0x7f) !== 31) continue
      const converted = new DataView(m.buffer).getUint32(20, true)
      if (converted === 0) return null
      break
    }
    wire.write(request(20, 1, words(window, property, 0, 0, 1 << 20)))
    const reply = await wire.message()
    if (reply[0] !== 1) throw new Error(`GetProperty failed (error ${reply[1]})`)
    const length = new DataView(reply.buffer).getUint32(16, true)
    return new TextDecoder().decode(reply.subarray(32, 32 + length))
  } finally {
    wire.close()
  }
}

export interface ClipboardOwner {
  /** The targets requested so far (TARGETS, UTF8_STRING, …), in order. */
  readonly requests: () => ReadonlyArray<string>
  /** Gives the selection up (closes the connection). */
  readonly release: () => void
}

/** ATOM and STRING are predefined atoms. */
const atomType = 4
const stringType = 31

/** Copies `text` in the desktop: owns CLIPBOARD and serves it until released (or another owner takes it). */
export const ownClipboard = async (display: number, text: string): Promise<ClipboardOwner> => {
  const { wire, window, intern } = await openDisplay(display)
  const requests: Array<string> = []
  try {
    const clipboard = await intern("CLIPBOARD")
    const targets = await intern("TARGETS")
    const utf8 = await intern("UTF8_STRING")
    const names = new Map([
      [targets, "TARGETS"],
      [utf8, "UTF8_STRING"],
      [stringType, "STRING"]
    ])
    wire.write(request(22, 0, words(window, clipboard, 0)))
    const latin1 = Uint8Array.from(text, (c) => (c.charCodeAt(0) > 0xff ? 0x3f : c.charCodeAt(0)))

    /** ChangeProperty (Replace) of `data` in `format`-bit units on the requestor's window. */
    const changeProperty = (target: number, property: number, type: number, format: 8 | 32, data: Uint8Array) => {
      const body = new Uint8Array(20 + data.length + pad4(data.length))
      const view = new DataView(body.buffer)
      view.setUint32(0, target, true)
      view.setUint32(4, property, true)
      view.setUint32(8, type, true)
      view.setUint8(12, format)
      view.setUint32(16, data.length / (format / 8), true)
      body.set(data, 20)
      wire.write(request(18, 0, body))
    }

    const serve = async () => {
      for (;;) {
        const m = await wire.message()
        const code = m[0]! & 0x7f
        // SelectionClear: another program copied; this one no longer serves.
        if (code === 29) return
        if (code !== 30) continue
        const v = new DataView(m.buffer, m.byteOffset)
        const time = v.getUint32(4, true)
        const requestor = v.getUint32(12, true)
        const selection = v.getUint32(16, true)
        const target = v.getUint32(20, true)
        // An obsolete requestor names no property: the target is the property.
        const property = v.getUint32(24, true) || target
        requests.push(names.get(target) ?? `atom ${target}`)
        let answered = property
        if (target === targets) changeProperty(requestor, property, atomType, 32, words(targets, utf8, stringType))
        else if (target === utf8) changeProperty(requestor, property, utf8, 8, new TextEncoder().encode(text))
        else if (target === stringType) changeProperty(requestor, property, stringType, 8, latin1)
        else answered = 0
        // SendEvent (no propagation, no mask) of a SelectionNotify to the requestor.
        const event = new Uint8Array(32)
        const ev = new DataView(event.buffer)
        event[0] = 31
        ev.setUint32(4, time, true)
        ev.setUint32(8, requestor, true)
        ev.setUint32(12, selection, true)
        ev.setUint32(16, target, true)
        ev.setUint32(20, answered, true)
        const send = new Uint8Array(40)
        const sv = new DataView(send.buffer)
        sv.setUint32(0, requestor, true)
        send.set(event, 8)
        wire.write(request(25, 0, send))
      }
    }
    serve().catch(() => undefined)
  } catch (e) {
    wire.close()
    throw e
  }
  return { requests: () => requests, release: () => wire.close() }
}
