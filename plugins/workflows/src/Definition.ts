/**
 * A workflow definition: its trigger and its steps, as a Schema (a bad field
 * is a 400 naming `body.<path>`) plus the checks a Schema cannot make
 * (unique step ids, references, cycles, expressions, cron and time zone),
 * which name their field the same way.
 *
 * Flow: steps run in list order by default (each waits for the previous
 * one); `after: [ids]` says what a step waits for instead, so two steps
 * after the same one run in parallel and a step after both joins them
 * (`after: []` starts at once). `if` skips a step (a skipped step counts as
 * done for those after it). A step named by another's `onFailure` is a
 * failure handler: it runs only when that step has failed (after its
 * retries), and the execution goes on from it.
 */
import { Cron, Either, Schema } from "effect"
import * as Expr from "./Expr.ts"

export const StepId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z][A-Za-z0-9_]{0,39}$/, {
    message: () => "a step id is a letter then up to 39 letters, digits or _"
  })
)

const Line = (max: number) => Schema.String.pipe(Schema.maxLength(max), Schema.pattern(/^[^\u0000]*$/))
const ExprText = Line(Expr.Limits.maxSource)

export const Retry = Schema.Struct({
  maxAttempts: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 10)), { default: () => 1 }),
  backoffSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.between(0, 3600)), { default: () => 1 }),
  multiplier: Schema.optionalWith(Schema.Number.pipe(Schema.between(1, 10)), { default: () => 2 })
})

const common = {
  id: StepId,
  name: Schema.optional(Line(200)),
  after: Schema.optional(Schema.Array(StepId).pipe(Schema.maxItems(20))),
  if: Schema.optional(ExprText),
  timeoutSeconds: Schema.optionalWith(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(3600)), {
    default: () => 30
  }),
  retry: Schema.optional(Retry),
  onFailure: Schema.optional(StepId),
  /** A template; a step with a key is never run twice for the same key (see docs/plugins/workflows.md). */
  idempotencyKey: Schema.optional(Line(500))
}

const JsonValue = Schema.Unknown

export const CallStep = Schema.Struct({
  ...common,
  type: Schema.Literal("call"),
  plugin: Line(40).pipe(Schema.pattern(/^[a-z][a-z0-9-]{1,39}$/, { message: () => "a plugin id" })),
  method: Line(100).pipe(Schema.minLength(1)),
  input: Schema.optionalWith(JsonValue, { default: () => ({}) })
})

export const HttpStep = Schema.Struct({
  ...common,
  type: Schema.Literal("http"),
  method: Schema.optionalWith(Schema.Literal("GET", "POST", "PUT", "PATCH", "DELETE"), { default: () => "POST" }),
  url: Line(2048).pipe(Schema.minLength(1)),
  headers: Schema.optionalWith(Schema.Record({ key: Line(100), value: Line(2048) }), { default: () => ({}) }),
  body: Schema.optional(JsonValue)
})

export const NotifyStep = Schema.Struct({
  ...common,
  type: Schema.Literal("notify"),
  /** The notification plugin that owns the integration: slack, teams, discord, pagerduty, email-smtp (or any defineNotifier plugin). */
  provider: Line(40).pipe(Schema.pattern(/^[a-z][a-z0-9-]{1,39}$/, { message: () => "a plugin id" })),
  /** The integration to send through (`GET /api/integrations?provider=…`); a template. */
  integrationId: Line(500).pipe(Schema.minLength(1)),
  severity: Schema.optionalWith(Schema.Literal("info", "warning", "error", "critical"), { default: () => "info" }),
  title: Line(500).pipe(Schema.minLength(1)),
  text: Line(4000)
})

export const SessionStep = Schema.Struct({
  ...common,
  type: Schema.Literal("session"),
  action: Schema.Literal("create", "hibernate", "wake", "delete"),
  sessionId: Schema.optional(Line(500)),
  templateId: Schema.optional(Line(500)),
  userId: Schema.optional(Line(500))
})

export const WaitStep = Schema.Struct({
  ...common,
  type: Schema.Literal("wait"),
  /** Wait this long… */
  seconds: Schema.optional(Schema.Number.pipe(Schema.greaterThan(0), Schema.lessThanOrEqualTo(30 * 86_400))),
  /** …or until the next instant this cron expression matches in its time zone (e.g. tonight at 22:00). */
  until: Schema.optional(
    Schema.Struct({ cron: Line(200), timeZone: Schema.optionalWith(Line(100), { default: () => "UTC" }) })
  )
})

export const SetStep = Schema.Struct({
  ...common,
  type: Schema.Literal("set"),
  /** name → expression; the values go to `vars.<name>`. */
  variables: Schema.Record({ key: StepId, value: ExprText })
})

export const Step = Schema.Union(CallStep, HttpStep, NotifyStep, SessionStep, WaitStep, SetStep)
export type Step = typeof Step.Type

export const Trigger = Schema.Union(
  Schema.Struct({ type: Schema.Literal("manual") }),
  Schema.Struct({
    type: Schema.Literal("event"),
    /** Exact types or prefixes (`session.*`); events of workflows itself never trigger (no loops). */
    events: Schema.Array(Line(200).pipe(Schema.pattern(/^[a-z0-9_.*-]+$/))).pipe(
      Schema.minItems(1),
      Schema.maxItems(20)
    ),
    filter: Schema.optional(ExprText)
  }),
  Schema.Struct({
    type: Schema.Literal("cron"),
    cron: Line(200),
    timeZone: Schema.optionalWith(Line(100), { default: () => "UTC" })
  }),
  Schema.Struct({ type: Schema.Literal("webhook") })
)
export type Trigger = typeof Trigger.Type

export const Definition = Schema.Struct({
  name: Line(200).pipe(Schema.minLength(1)),
  description: Schema.optionalWith(Line(2000), { default: () => "" }),
  enabled: Schema.optionalWith(Schema.Boolean, { default: () => true }),
  trigger: Trigger,
  /** At most this many executions of the workflow run at once; the others queue. */
  concurrency: Schema.optionalWith(Schema.Int.pipe(Schema.between(1, 100)), { default: () => 5 }),
  /** Initial `vars`. */
  variables: Schema.optionalWith(Schema.Record({ key: StepId, value: JsonValue }), { default: () => ({}) }),
  steps: Schema.Array(Step).pipe(Schema.minItems(1), Schema.maxItems(100))
})
export type Definition = typeof Definition.Type
export type DefinitionEncoded = typeof Definition.Encoded

/** The names expressions and templates of steps may read. */
export const STEP_ROOTS = ["trigger", "steps", "vars", "execution", "workflow"] as const
/** The names a trigger filter may read: the event envelope. */
export const FILTER_ROOTS = ["event"] as const

export interface Problem {
  readonly path: string
  readonly message: string
}

export interface Plan {
  readonly steps: ReadonlyArray<Step>
  /** What each step waits for (empty for a start step and for failure handlers). */
  readonly deps: ReadonlyMap<string, ReadonlyArray<string>>
  /** Steps that run only as another's `onFailure`. */
  readonly handlers: ReadonlySet<string>
}

/** The flow of a definition, defaults applied: `deps` of each step and which are handlers. */
export const plan = (def: Definition): Plan => {
  const handlers = new Set(def.steps.flatMap((s) => (s.onFailure ? [s.onFailure] : [])))
  const deps = new Map<string, ReadonlyArray<string>>()
  let previous: string | undefined
  for (const s of def.steps) {
    if (handlers.has(s.id)) deps.set(s.id, [])
    else {
      deps.set(s.id, s.after ?? (previous ? [previous] : []))
      previous = s.id
    }
  }
  return { steps: def.steps, deps, handlers }
}

const checkTimeZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz })
    return true
  } catch {
    return false
  }
}

const exprProblem = (src: string, roots: ReadonlyArray<string>, path: string): Problem | undefined => {
  const r = Expr.parse(src, roots)
  return r.ok ? undefined : { path, message: `${r.error.message} (at ${r.error.position})` }
}

/** The checks beyond the Schema; `at` prefixes every path (`body`). */
export const check = (def: Definition, at = "body"): ReadonlyArray<Problem> => {
  const problems: Array<Problem> = []
  const add = (p: Problem | undefined) => {
    if (p) problems.push({ path: `${at}.${p.path}`, message: p.message })
  }
  const t = def.trigger
  if (t.type === "event" && t.filter !== undefined) add(exprProblem(t.filter, FILTER_ROOTS, "trigger.filter"))
  if (t.type === "cron") {
    if (!checkTimeZone(t.timeZone)) add({ path: "trigger.timeZone", message: `unknown time zone ${t.timeZone}` })
    else if (Either.isLeft(Cron.parse(t.cron, t.timeZone)))
      add({ path: "trigger.cron", message: "not a cron expression (5 fields: minute hour day month weekday)" })
    else if (t.cron.trim().split(/\s+/).length !== 5)
      add({ path: "trigger.cron", message: "a cron expression has 5 fields: minute hour day month weekday" })
  }
  const ids = new Map<string, number>()
  def.steps.forEach((s, i) => {
    if (ids.has(s.id)) add({ path: `steps.${i}.id`, message: `duplicate step id ${s.id}` })
    ids.set(s.id, i)
  })
  const handlers = new Set(def.steps.flatMap((s) => (s.onFailure ? [s.onFailure] : [])))
  const roots = STEP_ROOTS
  def.steps.forEach((s, i) => {
    const p = `steps.${i}`
    for (const [j, a] of (s.after ?? []).entries()) {
      if (!ids.has(a)) add({ path: `${p}.after.${j}`, message: `no step ${a}` })
      else if (a === s.id) add({ path: `${p}.after.${j}`, message: "a step cannot wait for itself" })
    }
    if (s.onFailure !== undefined) {
      if (!ids.has(s.onFailure)) add({ path: `${p}.onFailure`, message: `no step ${s.onFailure}` })
      else if (s.onFailure === s.id)
        add({ path: `${p}.onFailure`, message: "a step cannot be its own failure handler" })
    }
    if (handlers.has(s.id) && s.after !== undefined)
      add({ path: `${p}.after`, message: "a failure handler runs after the step that failed: it takes no after" })
    if (s.if !== undefined) add(exprProblem(s.if, roots, `${p}.if`))
    if (s.idempotencyKey !== undefined) add(Expr.checkDeep(s.idempotencyKey, roots, `${p}.idempotencyKey`))
    switch (s.type) {
      case "call":
        add(Expr.checkDeep(s.input as Expr.Json, roots, `${p}.input`))
        break
      case "http":
        add(Expr.checkDeep(s.url, roots, `${p}.url`))
        add(Expr.checkDeep(s.headers, roots, `${p}.headers`))
        if (s.body !== undefined) add(Expr.checkDeep(s.body as Expr.Json, roots, `${p}.body`))
        break
      case "notify":
        add(Expr.checkDeep(s.integrationId, roots, `${p}.integrationId`))
        add(Expr.checkDeep(s.title, roots, `${p}.title`))
        add(Expr.checkDeep(s.text, roots, `${p}.text`))
        break
      case "session":
        for (const k of ["sessionId", "templateId", "userId"] as const) {
          const v = s[k]
          if (v !== undefined) add(Expr.checkDeep(v, roots, `${p}.${k}`))
        }
        if (s.action === "create" && s.templateId === undefined)
          add({ path: `${p}.templateId`, message: "create needs a templateId" })
        if (s.action !== "create" && s.sessionId === undefined)
          add({ path: `${p}.sessionId`, message: `${s.action} needs a sessionId` })
        break
      case "set":
        for (const [k, v] of Object.entries(s.variables)) add(exprProblem(v, roots, `${p}.variables.${k}`))
        break
      case "wait":
        if ((s.seconds === undefined) === (s.until === undefined))
          add({ path: `${p}.seconds`, message: "a wait has either seconds or until" })
        if (s.until !== undefined) {
          if (!checkTimeZone(s.until.timeZone))
            add({ path: `${p}.until.timeZone`, message: `unknown time zone ${s.until.timeZone}` })
          else if (
            Either.isLeft(Cron.parse(s.until.cron, s.until.timeZone)) ||
            s.until.cron.trim().split(/\s+/).length !== 5
          )
            add({ path: `${p}.until.cron`, message: "not a cron expression (5 fields: minute hour day month weekday)" })
        }
        break
    }
  })
  // Cycles over after (handlers have none).
  if (problems.length === 0) {
    const { deps } = plan(def)
    const state = new Map<string, 1 | 2>()
    const visit = (id: string, trail: ReadonlyArray<string>): string | undefined => {
      if (state.get(id) === 2) return undefined
      if (state.get(id) === 1) return [...trail, id].join(" → ")
      state.set(id, 1)
      for (const d of deps.get(id) ?? []) {
        const c = visit(d, [...trail, id])
        if (c) return c
      }
      state.set(id, 2)
      return undefined
    }
    for (const [i, s] of def.steps.entries()) {
      const c = visit(s.id, [])
      if (c) {
        add({ path: `steps.${i}.after`, message: `the steps wait for each other in a cycle: ${c}` })
        break
      }
    }
  }
  return problems
}
