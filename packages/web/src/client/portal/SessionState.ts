/**
 * How a session reads in the portal, and what the caller may do with it
 * (the server's rules in core/sessions/SessionPolicy.ts, mirrored so the
 * buttons match; the server checks anyway).
 */
export type State = "pending" | "running" | "hibernated" | "terminated" | "failed"
export type Desired = "running" | "hibernated" | "terminated"
export type Access = "owner" | "admin" | "control" | "view"

export interface SessionLike {
  readonly state: State
  readonly desired: Desired
  readonly access: Access
}

/** What the badge says: the state, or where it is going while it gets there. */
export const stateLabel = (s: Pick<SessionLike, "state" | "desired">): string => {
  if (s.state === "pending") return s.desired === "terminated" ? "Deleting…" : "Starting…"
  if (s.state === "running" && s.desired === "hibernated") return "Hibernating…"
  if (s.state === "hibernated" && s.desired === "running") return "Waking…"
  if (s.desired === "terminated" && s.state !== "terminated" && s.state !== "failed") return "Deleting…"
  return {
    running: "Running",
    hibernated: "Hibernated",
    terminated: "Deleted",
    failed: "Failed",
    pending: "Starting…"
  }[s.state]
}

export const stateColor = (s: Pick<SessionLike, "state" | "desired">): string => {
  if (s.state !== s.desired && s.state !== "failed" && s.state !== "terminated") return "yellow"
  return { running: "green", hibernated: "gray", terminated: "dark", failed: "red", pending: "yellow" }[s.state]
}

const controls = (a: Access) => a === "owner" || a === "admin" || a === "control"
const manages = (a: Access) => a === "owner" || a === "admin"
const settled = (s: SessionLike) => s.state === s.desired

export interface Actions {
  /** Open the desktop viewer (a hibernated session wakes on connect, except for a view share). */
  readonly open: boolean
  readonly hibernate: boolean
  readonly wake: boolean
  readonly delete: boolean
  readonly share: boolean
  readonly files: boolean
}

export const actionsFor = (s: SessionLike): Actions => {
  const ended = s.state === "terminated" || s.state === "failed"
  return {
    open: s.state === "running" || (s.state === "hibernated" && s.access !== "view"),
    hibernate: s.state === "running" && settled(s) && controls(s.access),
    wake: s.state === "hibernated" && settled(s) && controls(s.access),
    delete: !ended && s.desired !== "terminated" && manages(s.access),
    share: !ended && manages(s.access),
    files: !ended && manages(s.access)
  }
}

/** Ended sessions are history: the portal lists them apart. */
export const isActive = (s: Pick<SessionLike, "state">): boolean => s.state !== "terminated" && s.state !== "failed"

/** `1536` → "1.5 KB". */
export const formatBytes = (n: number): string => {
  if (n < 1024) return `${n} B`
  const units = ["KB", "MB", "GB", "TB"]
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v >= 10 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`
}

/** Millicores → "0.5 CPU"; MiB → "2 GiB". */
export const formatCpu = (millicores: number): string => `${Math.round(millicores / 100) / 10} CPU`
export const formatMemory = (mib: number): string =>
  mib >= 1024 ? `${Math.round((mib / 1024) * 10) / 10} GiB` : `${mib} MiB`

export interface UploadProgress {
  readonly loaded: number
  readonly total: number
}

/** An upload's progress in percent, 0–100, never NaN (an empty file is done at once). */
export const percent = (p: UploadProgress): number =>
  p.total <= 0 ? 100 : Math.min(100, Math.round((p.loaded / p.total) * 100))
