/** Shapes of node-manager's API as the UI modules read them. */
export interface Resources {
  readonly cpuMillis: number
  readonly memoryBytes: number
}
export interface Summary {
  readonly totalNodes: number
  readonly readyNodes: number
  readonly notReadyNodes: number
  readonly cordonedNodes: number
  readonly unhealthyNodes: number
  readonly totalPods: number
  readonly sessions: number
  readonly allocatable: Resources
  readonly requested: Resources
  readonly usage:
    | { readonly state: "available"; readonly cpuMillis: number; readonly memoryBytes: number }
    | {
        readonly state: "no-metrics"
        readonly reason: string
      }
}
export interface NodeView {
  readonly name: string
  readonly ready: boolean
  readonly schedulable: boolean
  readonly allocatable: Resources
  readonly requested: Resources
  readonly pods: number
  readonly sessions: ReadonlyArray<{ readonly sessionId: string }>
  readonly health: { readonly status: "healthy" | "unhealthy" | "unknown" }
  readonly taints: ReadonlyArray<{ readonly key: string; readonly effect: string }>
}
export interface DrainItem {
  readonly kind: "session" | "pod"
  readonly namespace: string
  readonly pod: string
  readonly sessionId: string | null
  readonly action: "hibernate" | "evict" | "skip"
  readonly outcome: string
  readonly detail: string | null
}
export interface DrainResult {
  readonly id: string
  readonly node: string
  readonly dryRun: boolean
  readonly complete: boolean
  readonly status: "waiting" | "retrying" | "done"
  readonly items: ReadonlyArray<DrainItem>
}

/** A share in whole percent (0 when there is nothing to share). */
export const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part / whole) * 100) : 0)
