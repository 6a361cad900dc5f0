/**
 * `bun run bench rfb`: what the VNC proxy's server-stream framer costs, in
 * process (no sockets). The proxy parses each connection with
 * `RfbConnection`; after ServerInit the session's stream goes through the
 * framer (packages/rfb/src/internal/ServerFramer.ts), which reads message,
 * rectangle and tile headers and skips the payloads. Four streams of at
 * least BENCH_RFB_MIB MiB each (default 32), built with the package's
 * message builders from a seeded generator, payloads random bytes:
 *
 * - desktop, Tight: updates of 5–60 rectangles (JPEG, basic zlib with and
 *   without a palette, with compact lengths; fills; CopyRect), payloads of
 *   200 B–20 KB, and a ServerCutText every 64 messages;
 * - Raw 1920×1080: full updates of 7.9 MiB of pixels;
 * - Hextile: rectangles of 16×16 tiles, most with subrectangles — the most
 *   headers per byte, the framer's worst case;
 * - ZRLE: updates of 1–20 rectangles of 200 B–64 KB.
 *
 * Each is cut into chunks as TCP delivers them (64 KiB; also 1460 B for
 * Tight and Hextile) and fed to `push("server", chunk)` of one connection
 * past a real RFB 3.8 handshake, pass after pass, interleaved with a
 * baseline that does what the proxy did before the framer: one copy of
 * each chunk (`chunk.slice()`), nothing else. Every stream goes through the
 * framer once before any is timed (the JIT then knows every encoding, as
 * in a proxy serving many desktops). Prints, per stream and chunk size, the
 * median over BENCH_RFB_ROUNDS passes (default 15, after one warm-up pass)
 * of MiB/s and ns per chunk of both, and how many 1080p desktops at 30 fps
 * of Raw the framer keeps up with on one core. Every pass checks that every
 * byte came out and every rectangle was counted. About 3 s and 0.6 GB of
 * memory at the defaults.
 */
import {
  Bytes,
  ClientMessages,
  Handshake,
  PixelFormat,
  RfbConnection,
  RfbEncodings,
  type RfbMessage,
  ServerMessages
} from "@streamspace/rfb"
import { Either } from "effect"
import { fixed, printTable, progress } from "./internal/BenchReport.ts"
import * as Interleaved from "./internal/Interleaved.ts"

const MiB = 1024 * 1024
const targetBytes = Number(process.env["BENCH_RFB_MIB"] ?? 32) * MiB
const rounds = Number(process.env["BENCH_RFB_ROUNDS"] ?? 15)
const width = 1920
const height = 1080
/** What noVNC asks for: 4 bytes a pixel, 3 per Tight TPIXEL. */
const format = PixelFormat.rgb888
/** A 1080p desktop at 30 fps of Raw, in MiB/s. */
const fullHd30 = (width * height * 4 * 30) / MiB

/** mulberry32: the same streams on every run. */
const random = (() => {
  let state = 0x2f6b3a1d
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
})()
const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1))
/** Sizes spread as they are on a desktop: as many between 200 B and 2 KB as between 2 KB and 20 KB. */
const logUniform = (min: number, max: number) => Math.round(min * (max / min) ** random())

const pool = new Uint8Array(MiB)
for (let i = 0; i < pool.length; i++) pool[i] = random() * 256
/** `n` random bytes: a view of the pool, or the pool repeated for more than it holds. */
const payload = (n: number) => {
  if (n <= pool.length) {
    const at = int(0, pool.length - n)
    return pool.subarray(at, at + n)
  }
  const out = new Uint8Array(n)
  for (let at = 0; at < n; at += pool.length) out.set(pool.subarray(0, n - at), at)
  return out
}

const { u32 } = Bytes
const compact = ServerMessages.tightLength

/** Bytes appended to a buffer that doubles when full. */
const writer = (capacity: number) => {
  let buffer = new Uint8Array(capacity)
  let size = 0
  const room = (n: number) => {
    if (size + n <= buffer.length) return
    const grown = new Uint8Array(Math.max(2 * buffer.length, size + n))
    grown.set(buffer.subarray(0, size))
    buffer = grown
  }
  return {
    byte: (b: number) => {
      room(1)
      buffer[size++] = b
    },
    bytes: (b: Uint8Array) => {
      room(b.length)
      buffer.set(b, size)
      size += b.length
    },
    size: () => size,
    done: () => buffer.subarray(0, size)
  }
}

/** What a stream holds besides its bytes: rectangles (the framer counts them too) and headers of any kind. */
interface Counts {
  rectangles: number
  /** Message, rectangle and Hextile tile headers. */
  headers: number
}

/** A rectangle at a random place of the desktop. */
const placed = (encoding: number, w: number, h: number, data: Uint8Array, counts: Counts): ServerMessages.Rectangle => {
  counts.rectangles++
  counts.headers++
  return { x: int(0, width - w), y: int(0, height - h), width: w, height: h, encoding, data }
}

/** An update of `n` rectangles from `rect`. */
const update = (n: number, rect: (counts: Counts) => ServerMessages.Rectangle, counts: Counts) => {
  counts.headers++
  return ServerMessages.framebufferUpdate(Array.from({ length: n }, () => rect(counts)))
}

const tightRect = (counts: Counts) => {
  const w = int(16, 512)
  const h = int(16, 384)
  const tight = (...parts: ReadonlyArray<Uint8Array>) =>
    placed(RfbEncodings.tight, w, h, Bytes.concat(...parts), counts)
  /** With a length: JPEG, or zlib data (basic compression, uncompressed ≥ 12 bytes at these sizes). */
  const data = (n: number) => Bytes.concat(compact(n), payload(n))
  /** One of the four zlib streams, in the control byte's bits 4–5. */
  const zlibStream = int(0, 3) << 4
  const r = random()
  if (r < 0.1) return placed(RfbEncodings.copyRect, w, h, payload(4), counts)
  if (r < 0.25) return tight(Uint8Array.of(0x80), payload(3))
  if (r < 0.55) return tight(Uint8Array.of(0x90), data(logUniform(2000, 20000)))
  if (r < 0.85) return tight(Uint8Array.of(zlibStream), data(logUniform(200, 20000)))
  const colours = int(2, 16)
  return tight(Uint8Array.of(0x40 | zlibStream, 1, colours - 1), payload(3 * colours), data(logUniform(200, 4000)))
}

/** Tiles as a text-heavy desktop sends them: mostly subrectangles, some raw, some the previous background. */
const hextileRect = (counts: Counts) => {
  const w = int(16, 640)
  const h = int(16, 480)
  const tilesX = Math.ceil(w / 16)
  const tiles = tilesX * Math.ceil(h / 16)
  const out = writer(tiles * 64)
  for (let tile = 0; tile < tiles; tile++) {
    const r = random()
    if (r < 0.15) out.byte(0)
    else if (r < 0.2) {
      const tw = Math.min(16, w - (tile % tilesX) * 16)
      const th = Math.min(16, h - Math.floor(tile / tilesX) * 16)
      out.byte(1)
      out.bytes(payload(tw * th * 4))
    } else if (r < 0.7) {
      // Background, coloured subrectangles: a pixel, then x/y and w/h a byte each.
      const n = int(1, 16)
      out.byte(2 | 8 | 16)
      out.bytes(payload(4))
      out.byte(n)
      out.bytes(payload(6 * n))
    } else {
      // Background and foreground, subrectangles in the foreground colour.
      const n = int(1, 32)
      out.byte(2 | 4 | 8)
      out.bytes(payload(8))
      out.byte(n)
      out.bytes(payload(2 * n))
    }
  }
  counts.headers += tiles
  return placed(RfbEncodings.hextile, w, h, out.done(), counts)
}

const zrleRect = (counts: Counts) => {
  const n = logUniform(200, 65536)
  return placed(RfbEncodings.zrle, int(64, 1024), int(64, 1024), Bytes.concat(u32(n), payload(n)), counts)
}

interface Case {
  readonly name: string
  readonly chunkSizes: ReadonlyArray<number>
  /** The stream's next message. */
  readonly message: (counts: Counts, index: number) => Uint8Array
}

const cases: ReadonlyArray<Case> = [
  {
    name: "desktop, Tight",
    chunkSizes: [65536, 1460],
    message: (counts, index) =>
      index % 64 === 63
        ? ServerMessages.serverCutText(Bytes.latin1Text(payload(100).map((b) => 32 + (b % 95))))
        : update(int(5, 60), tightRect, counts)
  },
  {
    name: "Raw 1920×1080 full update",
    chunkSizes: [65536],
    message: (counts) =>
      update(1, (counts) => placed(RfbEncodings.raw, width, height, payload(width * height * 4), counts), counts)
  },
  { name: "Hextile", chunkSizes: [65536, 1460], message: (counts) => update(int(1, 8), hextileRect, counts) },
  { name: "ZRLE", chunkSizes: [65536], message: (counts) => update(int(1, 20), zrleRect, counts) }
]

const build = (c: Case) => {
  const counts: Counts = { rectangles: 0, headers: 0 }
  const out = writer(targetBytes + MiB)
  for (let i = 0; out.size() < targetBytes; i++) out.bytes(c.message(counts, i))
  // A copy of its size: the writer's slack goes.
  return { bytes: out.done().slice(), ...counts }
}

const pushed = (rfb: RfbConnection.RfbConnection, direction: RfbMessage.Direction, chunk: Uint8Array) => {
  const result = rfb.push(direction, chunk)
  if (Either.isLeft(result)) throw new Error(`${result.left.direction}: ${result.left.message}`)
  return result.right
}

/** A connection past a real RFB 3.8 handshake (security None) to a 1920×1080 desktop, set up as noVNC sets it. */
const connected = () => {
  const rfb = RfbConnection.make()
  const steps: ReadonlyArray<Handshake.Step> = [
    ...Handshake.securityNone38(ServerMessages.serverInit({ width, height, format, name: "bench desktop" })),
    ["client", ClientMessages.setPixelFormat(format)],
    [
      "client",
      ClientMessages.setEncodings([
        RfbEncodings.copyRect,
        RfbEncodings.tight,
        RfbEncodings.zrle,
        RfbEncodings.hextile,
        RfbEncodings.raw
      ])
    ]
  ]
  for (const [direction, bytes] of steps) pushed(rfb, direction, bytes)
  if (!rfb.handshakeComplete()) throw new Error("the handshake did not complete")
  return rfb
}

interface Row {
  readonly stream: string
  readonly chunk: number
  readonly mib: number
  readonly headersPerMiB: number
  readonly framer: { readonly mibPerSecond: number; readonly nsPerChunk: number }
  readonly baseline: { readonly mibPerSecond: number; readonly nsPerChunk: number }
}

type Stream = ReturnType<typeof build>

const chunksOf = (bytes: Uint8Array, size: number) =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size))

/** Every chunk through the connection, as the proxy's socket handler does; the bytes of the messages out. */
const feed = (rfb: RfbConnection.RfbConnection, chunks: ReadonlyArray<Uint8Array>) => {
  let passed = 0
  for (const chunk of chunks) for (const m of pushed(rfb, "server", chunk)) passed += m.bytes.length
  return passed
}

/** Framer and baseline over `stream` cut into `chunkSize` chunks, interleaved pass by pass. */
const measure = async (c: Case, stream: Stream, chunkSize: number): Promise<Row> => {
  const { bytes } = stream
  const chunks = chunksOf(bytes, chunkSize)
  const check = (variant: string, passed: number) => {
    if (passed !== bytes.length) throw new Error(`${c.name}, ${variant}: ${passed} of ${bytes.length} bytes came out`)
  }
  const rfb = connected()
  let passes = 0
  const framer: Interleaved.Batch = async () => {
    check("framer", feed(rfb, chunks))
    passes++
  }
  const baseline: Interleaved.Batch = async () => {
    let passed = 0
    for (const chunk of chunks) passed += chunk.slice().length
    check("baseline", passed)
  }
  const [framerUs, baselineUs] = await Interleaved.measure([framer, baseline], {
    batch: chunks.length,
    batches: rounds,
    warmupBatches: 1
  })
  const counted = [...rfb.serverRectangles().values()].reduce((a, b) => a + b, 0)
  if (counted !== stream.rectangles * passes)
    throw new Error(`${c.name}: the framer counted ${counted} rectangles in ${passes} passes of ${stream.rectangles}`)
  const of = (us: number) => ({
    mibPerSecond: bytes.length / MiB / ((us * chunks.length) / 1e6),
    nsPerChunk: us * 1000
  })
  return {
    stream: c.name,
    chunk: chunkSize,
    mib: bytes.length / MiB,
    headersPerMiB: stream.headers / (bytes.length / MiB),
    framer: of(framerUs!),
    baseline: of(baselineUs!)
  }
}

const chunkLabel = (n: number) => (n % 1024 === 0 ? `${n / 1024} KiB` : `${n} B`)
const thousands = (n: number) => Math.round(n).toLocaleString("en-US")

export const run = async () => {
  const streams = cases.map((c) => {
    const stream = build(c)
    Bun.gc(true)
    progress(
      `${c.name}: ${fixed(stream.bytes.length / MiB)} MiB, ${thousands(stream.rectangles)} rectangles, ${thousands(stream.headers)} headers`
    )
    return { c, stream }
  })
  // The JIT tunes the framer to what it has seen: a proxy serves desktops of every kind, so every stream goes
  // through once before any is timed (and the order of the cases does not matter).
  for (const { c, stream } of streams) for (const size of c.chunkSizes) feed(connected(), chunksOf(stream.bytes, size))
  progress("every stream through the framer once (warm-up)")
  const rows: Array<Row> = []
  for (const { c, stream } of streams) {
    for (const chunkSize of c.chunkSizes) {
      // Each row from a collected heap: the previous row's garbage is not this one's pause.
      Bun.gc(true)
      const row = await measure(c, stream, chunkSize)
      rows.push(row)
      progress(
        `${c.name}, ${chunkLabel(chunkSize)} chunks: framer ${thousands(row.framer.mibPerSecond)} MiB/s, baseline ${thousands(row.baseline.mibPerSecond)} MiB/s`
      )
    }
  }
  console.log(
    `\nserver stream through RfbConnection.push after the handshake against one copy per chunk, median of ${rounds} interleaved passes:`
  )
  printTable(
    [
      "stream",
      "chunk",
      "MiB",
      "headers/MiB",
      "framer MiB/s",
      "baseline MiB/s",
      "framer ns/chunk",
      "baseline ns/chunk",
      "framer/baseline time"
    ],
    rows.map((r) => [
      r.stream,
      chunkLabel(r.chunk),
      fixed(r.mib),
      thousands(r.headersPerMiB),
      thousands(r.framer.mibPerSecond),
      thousands(r.baseline.mibPerSecond),
      thousands(r.framer.nsPerChunk),
      thousands(r.baseline.nsPerChunk),
      fixed(r.baseline.mibPerSecond / r.framer.mibPerSecond, 2)
    ])
  )
  const share = (mibPerSecond: number) => `${fixed((100 * fullHd30) / mibPerSecond)} %`
  const verdict = (r: Row) =>
    `${r.stream}, ${chunkLabel(r.chunk)} chunks: at ${thousands(r.framer.mibPerSecond)} MiB/s the framer handles ${thousands(r.framer.mibPerSecond)} / ${fixed(fullHd30)} = ${fixed(r.framer.mibPerSecond / fullHd30)} such desktops' bytes (one takes ${share(r.framer.mibPerSecond)} of a core; the copy alone ${share(r.baseline.mibPerSecond)})`
  const raw = rows.find((r) => r.stream.startsWith("Raw"))!
  const slowest = rows.reduce((a, b) => (b.framer.mibPerSecond < a.framer.mibPerSecond ? b : a))
  console.log(`\na 1080p desktop at 30 fps of Raw is 1920 × 1080 × 4 B × 30 = ${fixed(fullHd30)} MiB/s; on one core:`)
  console.log(`  ${verdict(raw)}`)
  console.log(`  slowest row, ${verdict(slowest)}`)
}
