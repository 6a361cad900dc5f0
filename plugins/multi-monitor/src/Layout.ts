/**
 * Monitor layouts: up to 16 monitors (each a rectangle of the one desktop
 * framebuffer), validated so the platform can apply them with RandR:
 *
 * - names are unique, 1–32 of `A-Z a-z 0-9 _ -` (they become RandR monitor names);
 * - sizes and offsets are whole pixels; every monitor lies within 16384×16384
 *   (the X server's largest screen);
 * - monitors do not overlap, unless mirrored (the very same rectangle, as
 *   RandR mirroring is);
 * - at most one is `primary` (none given: the first one is);
 * - at most `maxMonitors` monitors and `maxTotalPixels` pixels in the
 *   bounding box (bandwidth: the one stream carries the whole framebuffer).
 *
 * Problems name the field (`body.monitors.1.x`), as a 400 problem document.
 */
import { ValidationError } from "@streamspace/core"
import { Schema } from "effect"

export const MAX_SCREEN = 16384
export const HARD_MAX_MONITORS = 16

export const Monitor = Schema.Struct({
  name: Schema.String.pipe(
    Schema.pattern(/^[A-Za-z0-9_-]{1,32}$/, { message: () => "1–32 letters, digits, '_' or '-'" })
  ),
  width: Schema.Int.pipe(
    Schema.between(320, MAX_SCREEN, { message: () => `a whole number of pixels, 320–${MAX_SCREEN}` })
  ),
  height: Schema.Int.pipe(
    Schema.between(200, MAX_SCREEN, { message: () => `a whole number of pixels, 200–${MAX_SCREEN}` })
  ),
  x: Schema.Int.pipe(
    Schema.between(0, MAX_SCREEN - 1, { message: () => `a whole number of pixels, 0–${MAX_SCREEN - 1}` })
  ),
  y: Schema.Int.pipe(
    Schema.between(0, MAX_SCREEN - 1, { message: () => `a whole number of pixels, 0–${MAX_SCREEN - 1}` })
  ),
  primary: Schema.optionalWith(Schema.Boolean, { default: () => false })
})
export type Monitor = typeof Monitor.Type

export const Monitors = Schema.Array(Monitor).pipe(
  Schema.minItems(1, { message: () => "at least one monitor" }),
  Schema.maxItems(HARD_MAX_MONITORS, { message: () => `at most ${HARD_MAX_MONITORS} monitors` })
)

export interface Limits {
  readonly maxMonitors: number
  readonly maxTotalPixels: number
}

export interface BoundingBox {
  readonly width: number
  readonly height: number
}

/** The framebuffer a layout needs: from the origin to the furthest right and bottom edges. */
export const boundingBox = (monitors: ReadonlyArray<Monitor>): BoundingBox => ({
  width: Math.max(...monitors.map((m) => m.x + m.width)),
  height: Math.max(...monitors.map((m) => m.y + m.height))
})

const sameRect = (a: Monitor, b: Monitor) => a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height
const overlaps = (a: Monitor, b: Monitor) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height

/**
 * Checks a decoded layout against the rules above and the limits; answers it with exactly one primary.
 * `path` prefixes the field names (`body.monitors`).
 */
export const validate = (
  monitors: ReadonlyArray<Monitor>,
  limits: Limits,
  path = "body.monitors"
): { readonly ok: ReadonlyArray<Monitor> } | { readonly error: ValidationError } => {
  const fail = (field: string, message: string) => ({ error: ValidationError.field(field, message) })
  if (monitors.length === 0) return fail(path, "at least one monitor")
  if (monitors.length > limits.maxMonitors) return fail(path, `at most ${limits.maxMonitors} monitors`)
  const names = new Set<string>()
  for (const [i, m] of monitors.entries()) {
    if (names.has(m.name)) return fail(`${path}.${i}.name`, `"${m.name}" is used by another monitor`)
    names.add(m.name)
    if (m.x + m.width > MAX_SCREEN) return fail(`${path}.${i}.width`, `x + width must be at most ${MAX_SCREEN}`)
    if (m.y + m.height > MAX_SCREEN) return fail(`${path}.${i}.height`, `y + height must be at most ${MAX_SCREEN}`)
    for (let j = 0; j < i; j++) {
      const other = monitors[j]!
      if (overlaps(m, other) && !sameRect(m, other))
        return fail(
          `${path}.${i}`,
          `overlaps monitor ${j} ("${other.name}"); only mirrored monitors (the same rectangle) may`
        )
    }
  }
  const primaries = monitors.flatMap((m, i) => (m.primary ? [i] : []))
  if (primaries.length > 1) return fail(`${path}.${primaries[1]}.primary`, "only one monitor may be primary")
  const box = boundingBox(monitors)
  if (box.width * box.height > limits.maxTotalPixels)
    return fail(
      path,
      `the layout's bounding box ${box.width}×${box.height} is more than ${limits.maxTotalPixels} pixels`
    )
  return { ok: monitors.map((m, i) => ({ ...m, primary: primaries.length === 0 ? i === 0 : m.primary })) }
}

const hd = { width: 1920, height: 1080 }
const row = (count: number, primaryAt: number): ReadonlyArray<Monitor> =>
  Array.from({ length: count }, (_, i) => ({
    name: `M${i + 1}`,
    ...hd,
    x: i * hd.width,
    y: 0,
    primary: i === primaryAt
  }))

export interface Preset {
  readonly id: string
  readonly title: string
  readonly monitors: ReadonlyArray<Monitor>
}

/** Ready-made layouts (1920×1080 monitors, as upstream's presets). */
export const presets: ReadonlyArray<Preset> = [
  { id: "single", title: "One monitor (1920×1080)", monitors: row(1, 0) },
  { id: "dual-horizontal", title: "Two side by side (3840×1080)", monitors: row(2, 0) },
  {
    id: "dual-vertical",
    title: "Two stacked (1920×2160)",
    monitors: [
      { name: "M1", ...hd, x: 0, y: 0, primary: true },
      { name: "M2", ...hd, x: 0, y: hd.height, primary: false }
    ]
  },
  { id: "triple-horizontal", title: "Three in a row, the middle one primary (5760×1080)", monitors: row(3, 1) },
  {
    id: "quad-grid",
    title: "Four in a 2×2 grid (3840×2160)",
    monitors: [
      { name: "M1", ...hd, x: 0, y: 0, primary: true },
      { name: "M2", ...hd, x: hd.width, y: 0, primary: false },
      { name: "M3", ...hd, x: 0, y: hd.height, primary: false },
      { name: "M4", ...hd, x: hd.width, y: hd.height, primary: false }
    ]
  },
  {
    id: "mirrored",
    title: "Two mirrored (1920×1080, the same picture)",
    monitors: [
      { name: "M1", ...hd, x: 0, y: 0, primary: true },
      { name: "M2", ...hd, x: 0, y: 0, primary: false }
    ]
  }
]

export const PresetId = Schema.Literal(
  "single",
  "dual-horizontal",
  "dual-vertical",
  "triple-horizontal",
  "quad-grid",
  "mirrored"
)
export const presetOf = (id: string): Preset | undefined => presets.find((p) => p.id === id)
