/**
 * The `session.placement` hook: picks a node for a session's workload, when
 * it is created and again each time it wakes from hibernation (the node it
 * had may be cordoned, drained, gone or full by then), with the strategy of
 * the first policy matching the user (or the default),
 * among the nodes that are Ready, not held back by the health hysteresis,
 * schedulable, untainted, matching the selector and within the thresholds.
 * The choice becomes the pod's nodeSelector (`kubernetes.io/hostname`, plus
 * the policy's labels). The round-robin cursor is one row per scope in the
 * plugin's table, advanced atomically, so replicas share it. When the
 * Kubernetes API cannot be read the hook leaves the input as it is (the
 * scheduler decides); when no node fits it refuses, or defers, as configured.
 */
import { Directory, Timestamps } from "@streamspace/core"
import { type Hooks, Kubernetes, PluginSql, Veto } from "@streamspace/kernel"
import { Effect, Option, Random } from "effect"
import { type HealthRow, requestedOn, type Snapshot, sessionsOn, snapshot } from "./Cluster.ts"
import type { NodeManagerConfig, Policy } from "./Config.ts"
import { HOSTNAME, isReady, type KPod, quantity, repels, SESSION_LABEL } from "./Kube.ts"
import { type Candidate, excluded, pick } from "./Placement.ts"

type Input = Hooks.Input<"session.placement">

const policyFor = (config: NodeManagerConfig, roles: ReadonlyArray<string>, groups: ReadonlyArray<string>) =>
  config.placement.policies.find(
    (p: Policy) =>
      (p.roles.length === 0 && p.groups.length === 0) ||
      p.roles.some((r) => roles.includes(r)) ||
      p.groups.some((g) => groups.includes(g))
  )

/**
 * The cluster as if the session had no pod: a waking session's pod from before its hibernation may still
 * be terminating; it is going away, so it must not count against its own node.
 */
const withoutSession = (snap: Snapshot, sessionId: string): Snapshot => {
  const other = (p: KPod) => p.metadata.labels?.[SESSION_LABEL] !== sessionId
  return { ...snap, pods: snap.pods.filter(other), sessionPods: snap.sessionPods.filter(other) }
}

export const make = (config: NodeManagerConfig) =>
  Effect.gen(function* () {
    const kube = yield* Kubernetes
    const sql = yield* PluginSql
    const directory = yield* Directory.Directory

    const place = (input: Input): Effect.Effect<Input, Veto | "unavailable"> =>
      Effect.gen(function* () {
        const user = yield* directory.user(input.userId).pipe(Effect.orElseSucceed(() => Option.none()))
        const policy = Option.match(user, {
          onNone: () => undefined,
          onSome: (u) => policyFor(config, u.roles, u.groups)
        })
        const strategy = policy?.strategy ?? config.placement.strategy
        const selector = { ...config.placement.nodeSelector, ...(policy?.nodeSelector ?? {}), ...input.nodeSelector }
        const thresholds = policy?.thresholds ?? config.thresholds
        const req = { cpuMillis: input.cpu, memoryBytes: input.memory * 1024 * 1024 }
        const snap = withoutSession(
          yield* snapshot(kube, false).pipe(Effect.mapError(() => "unavailable" as const)),
          input.sessionId
        )
        const at = yield* Timestamps.now
        const health =
          yield* sql<HealthRow>`SELECT node, status, consecutive_failures, consecutive_passes, changed_at, checked_at FROM node_health`
        // Sessions placed in the last minutes whose pods do not exist yet count where they were placed.
        const seen = new Set(snap.sessionPods.map((p) => p.metadata.labels?.["streamspace.io/session"]))
        const pending = (yield* sql<{ session_id: string; node: string; cpu_millis: number; memory_mib: number }>`
          SELECT session_id, node, cpu_millis, memory_mib FROM placements WHERE at > ${new Date(at.getTime() - 300_000)}`).filter(
          (r) => !seen.has(r.session_id) && r.session_id !== input.sessionId
        )
        const candidates: Array<Candidate> = snap.nodes.map((n) => {
          const name = n.metadata.name
          const waiting = pending.filter((r) => r.node === name)
          const requested = requestedOn(snap, name)
          return {
            name,
            hostname: n.metadata.labels?.[HOSTNAME] ?? name,
            labels: n.metadata.labels ?? {},
            ready: isReady(n),
            health: health.find((h) => h.node === name)?.status ?? "unknown",
            schedulable: n.spec?.unschedulable !== true,
            repelled: repels(n),
            sessions: sessionsOn(snap, name).length + waiting.length,
            allocatable: {
              cpuMillis: Math.round(quantity(n.status?.allocatable?.["cpu"]) * 1000),
              memoryBytes: Math.round(quantity(n.status?.allocatable?.["memory"]))
            },
            requested: {
              cpuMillis: requested.cpuMillis + waiting.reduce((s, r) => s + r.cpu_millis, 0),
              memoryBytes: requested.memoryBytes + waiting.reduce((s, r) => s + r.memory_mib * 1024 * 1024, 0)
            }
          }
        })
        const why = candidates.map((c) => [c, excluded(c, selector, thresholds, req)] as const)
        const fits = why.filter(([, reason]) => reason === undefined).map(([c]) => c)
        const scope = policy?.name ?? "default"
        const position =
          strategy === "round-robin" && fits.length > 0
            ? Number(
                (yield* sql<{ position: string }>`INSERT INTO placement_cursors (scope, position) VALUES (${scope}, 1)
                  ON CONFLICT (scope) DO UPDATE SET position = placement_cursors.position + 1 RETURNING position`)[0]!
                  .position
              ) - 1
            : 0
        const seed = yield* Random.nextIntBetween(0, 2 ** 30)
        let state = seed
        const rand = () => {
          // mulberry32 from one Effect random draw: deterministic under a seeded Random.
          state = (state + 0x6d2b79f5) | 0
          let t = Math.imul(state ^ (state >>> 15), 1 | state)
          t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
          return ((t ^ (t >>> 14)) >>> 0) / 4294967296
        }
        const chosen = pick(fits, req, {
          strategy,
          weights: policy?.weights ?? config.placement.weights,
          defaultWeight: config.placement.defaultWeight,
          rand,
          position
        })
        if (!chosen) {
          if (config.placement.onNoCandidate === "default-scheduler") return { ...input, nodeSelector: selector }
          return yield* new Veto({
            reason: `no node fits (${strategy}): ${why.map(([c, r]) => `${c.name} ${r ?? "ok"}`).join(", ") || "no nodes"}`
          })
        }
        yield* sql`INSERT INTO placements (session_id, node, strategy, policy, cpu_millis, memory_mib, at)
          VALUES (${input.sessionId}, ${chosen.name}, ${strategy}, ${policy?.name ?? null}, ${input.cpu}, ${input.memory}, ${at})
          ON CONFLICT (session_id) DO UPDATE SET node = EXCLUDED.node, strategy = EXCLUDED.strategy, policy = EXCLUDED.policy, at = EXCLUDED.at`
        return { ...input, nodeSelector: { ...selector, [HOSTNAME]: chosen.hostname } }
      }).pipe(Effect.catchTag("SqlError", () => Effect.fail("unavailable" as const)))

    return (input: Input): Effect.Effect<Input, Veto> =>
      config.placement.enabled
        ? place(input).pipe(
            Effect.catchIf(
              (e): e is "unavailable" => e === "unavailable",
              () =>
                Effect.as(
                  Effect.logWarning(
                    `node-manager: placement of ${input.sessionId} left to the scheduler (Kubernetes API or database unavailable)`
                  ),
                  input
                )
            )
          )
        : Effect.succeed(input)
  })
