/**
 * The health hysteresis: a node turns unhealthy after `failThreshold`
 * NotReady checks in a row and healthy again after `passThreshold` Ready
 * checks in a row. A first check decides at once.
 */
export interface HealthState {
  readonly status: "healthy" | "unhealthy"
  readonly consecutiveFailures: number
  readonly consecutivePasses: number
}

export const next = (
  prev: HealthState | undefined,
  ready: boolean,
  t: { readonly failThreshold: number; readonly passThreshold: number }
): HealthState => {
  if (!prev)
    return {
      status: ready ? "healthy" : "unhealthy",
      consecutiveFailures: ready ? 0 : 1,
      consecutivePasses: ready ? 1 : 0
    }
  if (ready) {
    const passes = prev.consecutivePasses + 1
    return {
      status: prev.status === "unhealthy" && passes < t.passThreshold ? "unhealthy" : "healthy",
      consecutiveFailures: 0,
      consecutivePasses: passes
    }
  }
  const failures = prev.consecutiveFailures + 1
  return {
    status: prev.status === "healthy" && failures < t.failThreshold ? "healthy" : "unhealthy",
    consecutiveFailures: failures,
    consecutivePasses: 0
  }
}
