/**
 * Draining a node: the plan (sessions → hibernate, DaemonSet / mirror /
 * finished pods → skip, the rest → evict), and carrying it out: cordon;
 * hibernate the sessions at once (`hibernate`) or tell each owner and wait
 * (`notify`: `node-manager.drain.notice` per owner, then at the deadline
 * hibernate what is still there); evict the other pods through the Eviction
 * API. Evictions refused because of a PodDisruptionBudget (429) are retried
 * with backoff until `retrySeconds` have passed; what stayed is reported.
 * A drain that waits or retries is stored `waiting` / `retrying` and the
 * drain job (once per tick across replicas) moves it on; when it ends it is
 * `done` and `node-manager.node.drained` is published.
 */
import { Actor, Timestamps } from "@streamspace/core"
import { Events, Kubernetes, PluginSql, SessionControl } from "@streamspace/kernel"
import { Effect, Schema } from "effect"
import { type Kube, patchNode } from "./Cluster.ts"
import { DrainNotice, NodeDrained } from "./Events.ts"
import { isFinished, type KPod } from "./Kube.ts"

export const DrainItem = Schema.Struct({
  kind: Schema.Literal("session", "pod"),
  namespace: Schema.String,
  pod: Schema.String,
  sessionId: Schema.NullOr(Schema.String),
  userId: Schema.NullOr(Schema.String),
  action: Schema.Literal("hibernate", "evict", "skip"),
  outcome: Schema.Literal(
    "planned",
    "notified",
    "ended",
    "hibernating",
    "evicted",
    "blocked",
    "gone",
    "failed",
    "skipped"
  ),
  detail: Schema.NullOr(Schema.String)
})
export type DrainItem = typeof DrainItem.Type

export const DrainResult = Schema.Struct({
  id: Schema.String,
  node: Schema.String,
  dryRun: Schema.Boolean,
  cordoned: Schema.Boolean,
  complete: Schema.Boolean,
  gracePeriodSeconds: Schema.Number,
  mode: Schema.optionalWith(Schema.Literal("hibernate", "notify"), { default: () => "hibernate" as const }),
  /** `waiting` for owners (notify), `retrying` blocked evictions, or `done`. */
  status: Schema.optionalWith(Schema.Literal("waiting", "retrying", "done"), { default: () => "done" as const }),
  /** notify: when the sessions still on the node are hibernated. */
  waitUntil: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  /** Blocked evictions are retried until then. */
  retryUntil: Schema.optionalWith(Schema.NullOr(Schema.String), { default: () => null }),
  attempts: Schema.optionalWith(Schema.Number, { default: () => 1 }),
  items: Schema.Array(DrainItem)
})
export type DrainResult = typeof DrainResult.Type

export interface DrainOptions {
  readonly dryRun: boolean
  readonly mode: "hibernate" | "notify"
  readonly gracePeriodSeconds: number
  readonly waitSeconds: number
  readonly retrySeconds: number
}

/** Pods a drain leaves: DaemonSet pods (their controller ignores cordons), mirror pods, finished pods. */
const skipReason = (p: KPod) =>
  p.metadata.ownerReferences?.some((o) => o.kind === "DaemonSet")
    ? "DaemonSet pod"
    : p.metadata.annotations?.["kubernetes.io/config.mirror"]
      ? "mirror (static) pod"
      : isFinished(p)
        ? "finished"
        : undefined

/** Seconds before the next try of blocked evictions after `attempts` tries: 5, 10, 20, 40, then every 60. */
export const backoffSeconds = (attempts: number) => Math.min(60, 5 * 2 ** Math.max(0, attempts - 1))

/** The DisruptionBudget cause of a 429 from the Eviction API. */
const pdbMessage = (details: unknown): string | undefined => {
  const d = details as
    | { message?: string; details?: { causes?: ReadonlyArray<{ reason?: string; message?: string }> } }
    | undefined
  const cause = d?.details?.causes?.find((c) => c.reason === "DisruptionBudget")
  return cause?.message ? `${d?.message ?? "refused"} ${cause.message}` : d?.message
}

const statusOf = (items: ReadonlyArray<DrainItem>, retryOpen: boolean) =>
  items.some((i) => i.outcome === "notified")
    ? ("waiting" as const)
    : retryOpen && items.some((i) => i.outcome === "blocked")
      ? ("retrying" as const)
      : ("done" as const)
const completeOf = (items: ReadonlyArray<DrainItem>) =>
  items.every((i) => i.outcome !== "blocked" && i.outcome !== "failed" && i.outcome !== "notified")

export const make = Effect.gen(function* () {
  const kube: Kube = yield* Kubernetes
  const sql = yield* PluginSql
  const events = yield* Events
  const sessions = yield* SessionControl

  const podsOn = (node: string) =>
    kube.request<{ items: ReadonlyArray<KPod> }>(
      "GET",
      `/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`
    )

  // No unpinning: waking a session runs placement again, which replaces its pin to this node.
  const hibernate = (item: DrainItem) =>
    sessions.hibernate(item.sessionId!).pipe(
      Effect.map(
        (s): DrainItem => ({ ...item, outcome: "hibernating", detail: `state ${s.state}, desired ${s.desired}` })
      ),
      Effect.catchAll((e) =>
        Effect.succeed<DrainItem>({
          ...item,
          outcome: e._tag === "SessionControlError" && e.status === 409 ? "gone" : "failed",
          detail: e.message
        })
      )
    )

  const evict = (item: DrainItem, grace: number) =>
    kube
      .request("POST", `/api/v1/namespaces/${item.namespace}/pods/${item.pod}/eviction`, {
        body: {
          apiVersion: "policy/v1",
          kind: "Eviction",
          metadata: { name: item.pod, namespace: item.namespace },
          deleteOptions: { gracePeriodSeconds: grace }
        }
      })
      .pipe(
        Effect.as<DrainItem>({ ...item, outcome: "evicted", detail: null }),
        Effect.catchAll((e) =>
          Effect.succeed<DrainItem>(
            e._tag === "KubernetesError" && e.status === 429
              ? { ...item, outcome: "blocked", detail: pdbMessage(e.details) ?? e.message }
              : e._tag === "KubernetesError" && e.status === 404
                ? { ...item, outcome: "gone", detail: null }
                : { ...item, outcome: "failed", detail: e.message }
          )
        )
      )

  const drained = (r: DrainResult) =>
    events.publish(NodeDrained, {
      node: r.node,
      complete: r.complete,
      sessions: r.items.filter((i) => i.outcome === "hibernating" || i.outcome === "ended").length,
      evicted: r.items.filter((i) => i.outcome === "evicted").length,
      blocked: r.items.filter((i) => i.outcome === "blocked").length
    })

  /** Plans and (unless a dry run) starts a drain; the node exists (the caller read it). */
  const start = (node: { name: string; cordoned: boolean }, o: DrainOptions, actor: Actor.Actor) =>
    Effect.gen(function* () {
      const pods = (yield* podsOn(node.name)).items
      const plan: Array<DrainItem> = pods
        .map((p): DrainItem => {
          const sessionId = p.metadata.labels?.["streamspace.io/session"] ?? null
          const base = {
            namespace: p.metadata.namespace ?? "",
            pod: p.metadata.name,
            sessionId,
            userId: p.metadata.labels?.["streamspace.io/user"] ?? null
          }
          const skip = skipReason(p)
          if (skip) return { ...base, kind: "pod", action: "skip", outcome: "skipped", detail: skip }
          if (sessionId && p.metadata.namespace === kube.sessionNamespace)
            return { ...base, kind: "session", action: "hibernate", outcome: "planned", detail: null }
          return { ...base, kind: "pod", action: "evict", outcome: "planned", detail: null }
        })
        .sort((a, b) => (a.kind === b.kind ? a.pod.localeCompare(b.pod) : a.kind === "session" ? -1 : 1))
      const id = crypto.randomUUID()
      const at = yield* Timestamps.now
      const waitUntil = o.mode === "notify" ? new Date(at.getTime() + o.waitSeconds * 1000) : null
      const retryUntil = o.retrySeconds > 0 ? new Date(at.getTime() + o.retrySeconds * 1000) : null
      let items = plan
      let cordoned = node.cordoned
      if (!o.dryRun) {
        if (!cordoned) {
          yield* patchNode(kube, node.name, { spec: { unschedulable: true } })
          cordoned = true
        }
        items = yield* Effect.forEach(plan, (item) =>
          item.action === "hibernate"
            ? o.mode === "notify"
              ? Effect.succeed<DrainItem>({
                  ...item,
                  outcome: "notified",
                  detail: `hibernated at ${waitUntil!.toISOString()} unless it ends or hibernates first`
                })
              : hibernate(item)
            : item.action === "evict"
              ? evict(item, o.gracePeriodSeconds)
              : Effect.succeed(item)
        )
        if (o.mode === "notify") {
          const owners = new Map<string, Array<string>>()
          for (const i of items)
            if (i.outcome === "notified" && i.userId)
              owners.set(i.userId, [...(owners.get(i.userId) ?? []), i.sessionId!])
          for (const [userId, sessionIds] of owners)
            yield* events.publish(DrainNotice, {
              node: node.name,
              userId,
              sessionIds,
              deadline: waitUntil!.toISOString()
            })
        }
      }
      const status = o.dryRun ? "done" : statusOf(items, retryUntil !== null)
      const result: DrainResult = {
        id,
        node: node.name,
        dryRun: o.dryRun,
        cordoned,
        complete: !o.dryRun && status === "done" && completeOf(items),
        gracePeriodSeconds: o.gracePeriodSeconds,
        mode: o.mode,
        status,
        waitUntil: waitUntil?.toISOString() ?? null,
        retryUntil: retryUntil?.toISOString() ?? null,
        attempts: 1,
        items
      }
      const next =
        retryUntil !== null && items.some((i) => i.outcome === "blocked")
          ? new Date(at.getTime() + backoffSeconds(1) * 1000)
          : null
      yield* sql`INSERT INTO drains (id, node, actor, dry_run, complete, result, at, status, wait_until, retry_until, next_attempt_at, attempts)
        VALUES (${id}, ${node.name}, ${Actor.actorLabel(actor)}, ${o.dryRun}, ${result.complete}, ${JSON.stringify(result)}, ${at},
          ${status}, ${waitUntil}, ${retryUntil}, ${next}, 1)`
      if (!o.dryRun && status === "done") yield* drained(result)
      return result
    })

  /** The drain job: moves every waiting or retrying drain on (once per tick across replicas). */
  const advance = Effect.gen(function* () {
    const rows = yield* sql<{
      id: string
      result: unknown
      retry_until: Date | null
      next_attempt_at: Date | null
      attempts: number
    }>`SELECT id, result, retry_until, next_attempt_at, attempts FROM drains WHERE status <> 'done' ORDER BY at`
    for (const row of rows) {
      const r = Schema.decodeUnknownSync(DrainResult)(
        typeof row.result === "string" ? JSON.parse(row.result) : row.result
      )
      const at = yield* Timestamps.now
      const onNode = yield* podsOn(r.node).pipe(
        Effect.map(
          (l) => new Set(l.items.filter((p) => !isFinished(p)).map((p) => `${p.metadata.namespace}/${p.metadata.name}`))
        ),
        Effect.catchAll((e) =>
          Effect.as(Effect.logWarning(`node-manager: drain ${r.id} waits, Kubernetes API: ${e.message}`), undefined)
        )
      )
      if (!onNode) continue
      const deadline = r.waitUntil !== null && at.getTime() >= Date.parse(r.waitUntil)
      const retryNow = row.next_attempt_at !== null && at.getTime() >= row.next_attempt_at.getTime()
      const retryOpen = row.retry_until !== null && at.getTime() < row.retry_until.getTime()
      let retried = false
      const items = yield* Effect.forEach(r.items, (item) => {
        const here = onNode.has(`${item.namespace}/${item.pod}`)
        if (item.outcome === "notified") {
          if (!here)
            return Effect.succeed<DrainItem>({
              ...item,
              outcome: "ended",
              detail: "ended or hibernated by its owner before the deadline"
            })
          return deadline ? hibernate(item) : Effect.succeed(item)
        }
        if (item.outcome === "blocked") {
          if (!here) return Effect.succeed<DrainItem>({ ...item, outcome: "gone", detail: "left the node meanwhile" })
          if (retryNow && retryOpen) {
            retried = true
            return evict(item, r.gracePeriodSeconds)
          }
        }
        return Effect.succeed(item)
      })
      const attempts = row.attempts + (retried ? 1 : 0)
      const stillBlocked = items.some((i) => i.outcome === "blocked")
      const status = statusOf(items, retryOpen)
      // Given up: say how long and how often it was tried.
      const final =
        status === "done" && stillBlocked
          ? items.map((i) =>
              i.outcome === "blocked"
                ? {
                    ...i,
                    detail: `${i.detail ?? "refused"} (still refused after ${attempts} attempts; run the drain again)`
                  }
                : i
            )
          : items
      const result: DrainResult = {
        ...r,
        items: final,
        status,
        attempts,
        complete: status === "done" && completeOf(final)
      }
      const next =
        stillBlocked && retryOpen
          ? retried || row.next_attempt_at === null
            ? new Date(at.getTime() + backoffSeconds(attempts) * 1000)
            : row.next_attempt_at
          : null
      yield* sql`UPDATE drains SET result = ${JSON.stringify(result)}, status = ${status}, complete = ${result.complete},
        attempts = ${attempts}, next_attempt_at = ${next} WHERE id = ${row.id}`
      if (status === "done") yield* drained(result)
    }
  })

  return { start, advance }
})
