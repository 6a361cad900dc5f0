/**
 * Clipboard policies at the VNC proxy, through the `vnc` grant's stream tap.
 *
 * Each replica subscribes to the tap of every session the plugin tracks
 * (its projection of the core's session events), but only while some
 * enabled policy has clipboard rules: with none, nothing is subscribed and
 * the proxy does no tap work. The subscription's `clipboard` filter runs
 * synchronously on every clipboard transfer before the proxy forwards it,
 * both ways: a paste into the desktop (ClientCutText, `to_session`) and a
 * copy out of it (ServerCutText, `from_session`). A blocked transfer never
 * reaches the other side and a redacted one reaches it redacted.
 * Violations go to the engine's writer like every other hook's.
 *
 * The filter needs who pastes or copies (roles and groups, for scope) and the
 * session's template; both are resolved ahead (when a connection opens,
 * and on each refresh), never inside the filter. If a transfer comes
 * before they are known, it is dropped when a blocking clipboard policy
 * exists (fail closed) and passed otherwise.
 *
 * Only built-in patterns inspect the clipboard (custom patterns need the
 * worker, which is asynchronous); policy validation refuses custom ones
 * there.
 */
import { PluginSql, VncTap } from "@streamspace/kernel"
import type { RfbTap } from "@streamspace/rfb"
import { Clock, Duration, Effect, ExecutionStrategy, Exit, Queue, Runtime, Scope } from "effect"
import { evaluateClipboard } from "./Evaluate.ts"
import { type Engine, uncachedMs } from "./Engine.ts"
import { needsDirectory, type Policy, type Subject } from "./Policy.ts"

/** How often a replica looks for sessions to watch (at once when policies or sessions change on it). */
const refreshEvery = Duration.seconds(2)
const afterChange = Duration.millis(uncachedMs + 100)
/** How long a user's roles and groups are trusted before they are read again. */
const subjectTtlMs = 30_000

interface Watch {
  readonly scope: Scope.CloseableScope
  template: { readonly id: string; readonly name: string } | null
}

export const guardClipboard = (engine: Engine) =>
  Effect.gen(function* () {
    const tap = yield* VncTap
    const sql = yield* PluginSql
    const runSync = Runtime.runSync(yield* Effect.runtime<never>())

    let policies: ReadonlyArray<Policy> = []
    const subjects = new Map<string, { readonly subject: Subject; readonly at: number }>()
    const watches = new Map<string, Watch>()

    const resolveSubject = (userId: string) =>
      Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const known = subjects.get(userId)
        if (known && now - known.at < subjectTtlMs) return
        const subject = yield* engine.subjectOf(userId, policies)
        subjects.set(userId, { subject, at: now })
      })

    /** One paste or copy, inline in the proxy: nothing here waits or reads the database. */
    const filter = (text: string, context: RfbTap.ClipboardContext): RfbTap.ClipboardVerdict => {
      if (policies.length === 0) return "pass"
      const { sessionId, userId } = context.info
      const watch = watches.get(sessionId)
      const subject: Subject | undefined =
        userId === null
          ? { userId: "", roles: [], groups: [] }
          : (subjects.get(userId)?.subject ??
            (needsDirectory(policies) ? undefined : { userId, roles: [], groups: [] }))
      const templateUnknown = policies.some((p) => p.appliesTo.templates.length > 0) && !watch?.template
      if (!subject || templateUnknown) return policies.some((p) => p.enforcement === "blocking") ? "drop" : "pass"
      const outcome = evaluateClipboard(policies, subject, {
        direction: context.direction === "client" ? "to_session" : "from_session",
        text,
        template: watch?.template ?? null
      })
      if (outcome.decision.findings.length > 0) runSync(engine.record(outcome.decision, userId, sessionId))
      if (outcome.outcome === "block") return "drop"
      if (outcome.outcome === "redact" && outcome.text !== null) return { replace: outcome.text }
      return "pass"
    }

    /** Reads the subscription until it ends; resolves each connecting user's scope ahead of their pastes. */
    const drain = (subscription: RfbTap.TapSubscription) =>
      Effect.gen(function* () {
        for (;;) {
          const events = yield* Effect.promise(() => subscription.next())
          if (events.length === 0 && subscription.state() !== "open") return
          for (const event of events)
            if (event._tag === "Connected" && event.info.userId !== null)
              yield* resolveSubject(event.info.userId).pipe(
                Effect.catchAllCause((cause) =>
                  Effect.logWarning("compliance: could not resolve a VNC user's scope", cause)
                )
              )
        }
      })

    const watch = (sessionId: string, templateId: string, parent: Scope.Scope) =>
      Effect.gen(function* () {
        const scope = yield* Scope.fork(parent, ExecutionStrategy.sequential)
        const w: Watch = { scope, template: null }
        watches.set(sessionId, w)
        const subscription = yield* tap
          .subscribe({ sessionId, clipboard: filter, name: "compliance clipboard policy" })
          .pipe(Scope.extend(scope))
        yield* drain(subscription).pipe(
          // A dropped subscription (it fell behind) loses its filter: forget it so the next refresh subscribes again.
          Effect.ensuring(
            Effect.suspend(() => {
              if (watches.get(sessionId) !== w) return Effect.void
              watches.delete(sessionId)
              // Its scope closes from outside this fiber (closing it interrupts the fiber).
              return Effect.asVoid(Effect.forkDaemon(Scope.close(scope, Exit.void)))
            })
          ),
          Effect.forkIn(scope)
        )
        if (policies.some((p) => p.appliesTo.templates.length > 0)) w.template = yield* engine.templateOf(templateId)
      })

    const unwatch = (sessionId: string) =>
      Effect.gen(function* () {
        const w = watches.get(sessionId)
        if (!w) return
        watches.delete(sessionId)
        yield* Scope.close(w.scope, Exit.void)
      })

    const take = (all: ReadonlyArray<Policy>) => {
      const previous = policies
      policies = all.filter((p) => p.rules.clipboard)
      // Subjects read while no policy needed roles or groups carry none: read them again.
      if (needsDirectory(policies) && !needsDirectory(previous)) subjects.clear()
    }
    yield* engine.onPolicies(take)

    const refresh = (parent: Scope.Scope) =>
      Effect.gen(function* () {
        const loaded = yield* engine.load
        // While a change is in flight this read may predate its commit; the change itself told `take`.
        if (yield* engine.settled) take(loaded.policies)
        if (policies.length === 0) {
          for (const id of [...watches.keys()]) yield* unwatch(id)
          subjects.clear()
          return
        }
        const sessions = yield* sql<{
          session_id: string
          user_id: string
          template_id: string
        }>`SELECT session_id, user_id, template_id FROM tracked_sessions`
        const current = new Set(sessions.map((s) => s.session_id))
        for (const id of [...watches.keys()]) if (!current.has(id)) yield* unwatch(id)
        for (const s of sessions) {
          const w = watches.get(s.session_id)
          if (!w) yield* watch(s.session_id, s.template_id, parent)
          else if (!w.template && policies.some((p) => p.appliesTo.templates.length > 0))
            w.template = yield* engine.templateOf(s.template_id)
        }
        // The owners' scope ahead of their first connection; every connected user's through `Connected`.
        for (const userId of new Set([...sessions.map((s) => s.user_id), ...subjects.keys()]))
          yield* resolveSubject(userId)
      })

    const parent = yield* Effect.scope
    const refreshed = refresh(parent).pipe(
      Effect.catchAllCause((cause) => Effect.logWarning("compliance: clipboard policy refresh failed", cause))
    )
    yield* Effect.forkScoped(
      Effect.forever(
        Effect.gen(function* () {
          yield* refreshed
          const nudged = yield* Effect.race(
            Effect.as(Queue.take(engine.changes), true),
            Effect.as(Effect.sleep(refreshEvery), false)
          )
          // A change is announced before its transaction commits: look now (new sessions) and again once it surely has.
          if (nudged) yield* Effect.zipRight(refreshed, Effect.sleep(afterChange))
        })
      )
    )
  })
