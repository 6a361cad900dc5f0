/**
 * Choosing a node for a session, as pure functions over a snapshot of the
 * candidates: the filters (Ready now and not held back by the health
 * hysteresis, schedulable, no repelling taint, the selector, the thresholds)
 * and the six strategies. Randomness comes in as a function and the
 * round-robin position from the shared cursor, so both are testable.
 */
import type { Strategy, Thresholds } from "./Config.ts"

export interface Candidate {
  readonly name: string
  /** The node's `kubernetes.io/hostname` label: what the session pod's nodeSelector names. */
  readonly hostname: string
  readonly labels: Readonly<Record<string, string>>
  readonly ready: boolean
  /** The health check's verdict with hysteresis (`unknown` before the first check). */
  readonly health: "healthy" | "unhealthy" | "unknown"
  readonly schedulable: boolean
  readonly repelled: boolean
  readonly sessions: number
  readonly allocatable: { readonly cpuMillis: number; readonly memoryBytes: number }
  readonly requested: { readonly cpuMillis: number; readonly memoryBytes: number }
}

export interface Request {
  readonly cpuMillis: number
  readonly memoryBytes: number
}

/** Why a node is not a candidate (none: it is). */
export const excluded = (
  c: Candidate,
  selector: Readonly<Record<string, string>>,
  thresholds: Thresholds,
  req: Request
): string | undefined => {
  if (!c.ready) return "NotReady"
  if (c.health === "unhealthy") return "unhealthy (waiting for the pass threshold)"
  if (!c.schedulable) return "cordoned"
  if (c.repelled) return "tainted"
  for (const [k, v] of Object.entries(selector)) if (c.labels[k] !== v) return `label ${k}≠${v}`
  if (thresholds.maxSessions > 0 && c.sessions >= thresholds.maxSessions) return "at maxSessions"
  const cpu =
    c.allocatable.cpuMillis > 0 ? ((c.requested.cpuMillis + req.cpuMillis) / c.allocatable.cpuMillis) * 100 : 101
  const mem =
    c.allocatable.memoryBytes > 0
      ? ((c.requested.memoryBytes + req.memoryBytes) / c.allocatable.memoryBytes) * 100
      : 101
  if (cpu > thresholds.cpuPercent) return `cpu would reach ${cpu.toFixed(0)} %`
  if (mem > thresholds.memoryPercent) return `memory would reach ${mem.toFixed(0)} %`
  return undefined
}

/** Free share of a node after placing `req` (the mean of CPU and memory). */
const freeShare = (c: Candidate, req: Request) =>
  ((c.allocatable.cpuMillis - c.requested.cpuMillis - req.cpuMillis) / Math.max(1, c.allocatable.cpuMillis) +
    (c.allocatable.memoryBytes - c.requested.memoryBytes - req.memoryBytes) / Math.max(1, c.allocatable.memoryBytes)) /
  2

const byName = (a: Candidate, b: Candidate) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)

/** Weighted pick: `rand()` in [0, 1). Zero total weight: none. */
export const weightedPick = <A>(
  items: ReadonlyArray<A>,
  weight: (a: A) => number,
  rand: () => number
): A | undefined => {
  const total = items.reduce((s, a) => s + Math.max(0, weight(a)), 0)
  if (total <= 0) return undefined
  let x = rand() * total
  for (const a of items) {
    x -= Math.max(0, weight(a))
    if (x < 0) return a
  }
  return items.findLast((a) => weight(a) > 0)
}

export interface Choice {
  readonly strategy: Strategy
  readonly weights: Readonly<Record<string, number>>
  readonly defaultWeight: number
  readonly rand: () => number
  /** The shared cursor's next position (round-robin only; 0-based). */
  readonly position: number
}

/** The node for a session among `candidates` (already filtered), or none. */
export const pick = (candidates: ReadonlyArray<Candidate>, req: Request, o: Choice): Candidate | undefined => {
  const sorted = [...candidates].sort(byName)
  if (sorted.length === 0) return undefined
  switch (o.strategy) {
    case "least-sessions":
      // Fewest sessions; ties go to the freer node, then the name.
      return sorted.reduce((best, c) =>
        c.sessions < best.sessions || (c.sessions === best.sessions && freeShare(c, req) > freeShare(best, req))
          ? c
          : best
      )
    case "most-resources":
      return sorted.reduce((best, c) => (freeShare(c, req) > freeShare(best, req) ? c : best))
    case "bin-pack":
      // The fullest node that still fits (the filters checked the thresholds), so others stay empty.
      return sorted.reduce((best, c) => (freeShare(c, req) < freeShare(best, req) ? c : best))
    case "random":
      return sorted[Math.min(sorted.length - 1, Math.floor(o.rand() * sorted.length))]
    case "weighted":
      return weightedPick(sorted, (c) => o.weights[c.name] ?? o.defaultWeight, o.rand)
    case "round-robin":
      return sorted[((o.position % sorted.length) + sorted.length) % sorted.length]
  }
}
