/**
 * Runs plugins' cron and interval jobs. Each tick is claimed by inserting
 * (plugin, job, tick) into `plugin_job_runs`: the instance whose insert wins
 * runs it, the others skip, so a job runs once per tick across replicas.
 * A tick is the instant the job was due, computed before sleeping (interval
 * ticks aligned to the epoch, cron ticks from the expression), never the
 * time the timer happened to fire: replicas agree on it however late their
 * timers are. The row records start, end, outcome and error for admins.
 * Jobs run in their plugin's scope: disabling the plugin interrupts them,
 * and forgets them for `runNow`, which runs an enabled plugin's job at once
 * (an admin's "run now"), recorded like a tick at the current time.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Conflict, NotFound, Timestamps } from "@streamspace/core"
import { Clock, Context, Cron, Duration, Effect, Either, Exit, Fiber, Layer, Scope } from "effect"
import type { Scheduler } from "../Scheduler.ts"

const { now } = Timestamps

export interface JobRun {
  readonly job: string
  readonly tick: Date
  readonly startedAt: Date
  readonly finishedAt: Date | null
  readonly outcome: "success" | "failure" | null
  readonly error: string | null
}

export class JobScheduler extends Context.Tag("@streamspace/kernel/JobScheduler")<
  JobScheduler,
  {
    readonly schedule: <E>(
      plugin: string,
      name: string,
      schedule: Scheduler.Schedule,
      job: Effect.Effect<void, E>
    ) => Effect.Effect<void, never, Scope.Scope>
    readonly runs: (plugin: string, limit: number) => Effect.Effect<ReadonlyArray<JobRun>, SqlError>
    /** Runs a scheduled job of a running plugin now and returns its run (404 when the plugin has no such job scheduled). */
    readonly runNow: (plugin: string, name: string) => Effect.Effect<JobRun, NotFound | Conflict | SqlError>
    /** The jobs a running plugin has scheduled. */
    readonly jobsOf: (plugin: string) => ReadonlyArray<string>
    /** Ticks due and not yet done (claiming, running or recording): a test moving a simulated clock waits for 0. */
    readonly inFlight: () => number
    /** The ticks (epoch ms) that scheduled jobs are waiting for: a simulated clock stops at each. */
    readonly waitingFor: () => ReadonlyArray<number>
  }
>() {}

interface Scheduled {
  readonly job: Effect.Effect<void, unknown>
  readonly scope: Scope.Scope
}

type RunRow = {
  job: string
  tick: Date
  started_at: Date
  finished_at: Date | null
  outcome: "success" | "failure" | null
  error: string | null
}

const toRun = (r: RunRow): JobRun => ({
  job: r.job,
  tick: r.tick,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  outcome: r.outcome,
  error: r.error
})

export const JobSchedulerLive = Layer.effect(
  JobScheduler,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const scheduled = new Map<string, Map<string, Scheduled>>()
    let inFlight = 0
    const waiting = new Set<{ readonly tick: number }>()

    const claim = (plugin: string, name: string, tick: Date) =>
      Effect.flatMap(now, (at) =>
        Effect.map(
          sql<{ job: string }>`
            INSERT INTO plugin_job_runs (plugin_id, job, tick, started_at) VALUES (${plugin}, ${name}, ${tick}, ${at})
            ON CONFLICT DO NOTHING RETURNING job`,
          (rows) => rows.length > 0
        )
      )

    /** Runs a claimed tick and records its outcome. */
    const execute = <E>(plugin: string, name: string, tick: Date, job: Effect.Effect<void, E>) =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(job)
        yield* sql`UPDATE plugin_job_runs SET finished_at = ${yield* now}, outcome = ${exit._tag === "Success" ? "success" : "failure"},
          error = ${exit._tag === "Success" ? null : String(exit.cause).slice(0, 2000)}
          WHERE plugin_id = ${plugin} AND job = ${name} AND tick = ${tick}`
      })

    const runTick = <E>(plugin: string, name: string, tick: Date, job: Effect.Effect<void, E>) =>
      Effect.flatMap(claim(plugin, name, tick), (claimed) =>
        claimed ? execute(plugin, name, tick, job) : Effect.void
      ).pipe(Effect.catchAllCause((cause) => Effect.logError(`plugin ${plugin}: job ${name} could not run`, cause)))

    /** Sleeps until `next` (computed from the current time) and runs that tick, for ever. */
    const every = <E>(plugin: string, name: string, job: Effect.Effect<void, E>, next: (ms: number) => number) =>
      Effect.gen(function* () {
        const ms = yield* Clock.currentTimeMillis
        const tick = next(ms)
        const wait = { tick }
        // From waiting to in flight in one step, so that a watcher never sees the tick in neither.
        const run = Effect.acquireUseRelease(
          Effect.sync(() => {
            waiting.delete(wait)
            inFlight++
          }),
          () => runTick(plugin, name, new Date(tick), job),
          () => Effect.sync(() => inFlight--)
        )
        yield* Effect.acquireUseRelease(
          Effect.sync(() => waiting.add(wait)),
          () => Effect.zipRight(Effect.sleep(Duration.millis(tick - ms)), run),
          () => Effect.sync(() => waiting.delete(wait))
        )
      }).pipe(Effect.forever)

    const register = (plugin: string, name: string, entry: Scheduled) =>
      Effect.acquireRelease(
        Effect.sync(() => {
          const jobs = scheduled.get(plugin) ?? new Map<string, Scheduled>()
          jobs.set(name, entry)
          scheduled.set(plugin, jobs)
        }),
        () =>
          Effect.sync(() => {
            const jobs = scheduled.get(plugin)
            if (jobs?.get(name) !== entry) return
            jobs.delete(name)
            if (jobs.size === 0) scheduled.delete(plugin)
          })
      )

    const jobsOf = (plugin: string) => [...(scheduled.get(plugin)?.keys() ?? [])].sort()

    const runNow = (plugin: string, name: string) =>
      Effect.gen(function* () {
        const entry = scheduled.get(plugin)?.get(name)
        if (!entry) {
          const known = jobsOf(plugin)
          return yield* new NotFound({
            resource: "job",
            id: name,
            code: "job_not_found",
            detail: `plugin ${plugin} has no scheduled job named ${name}${known.length > 0 ? ` (its jobs: ${known.join(", ")})` : ""}`
          })
        }
        // A tick of its own at the current time; a scheduled tick at the same millisecond moves it on by one.
        const ms = yield* Clock.currentTimeMillis
        let tick: Date | undefined
        for (let i = 0; tick === undefined && i < 10; i++) {
          if (yield* claim(plugin, name, new Date(ms + i))) tick = new Date(ms + i)
        }
        if (tick === undefined)
          return yield* new Conflict({
            message: `job ${name} of plugin ${plugin} is already running`,
            code: "job_running"
          })
        const claimed = tick
        // In the plugin's scope, like its scheduled ticks: disabling the plugin interrupts the run.
        const counted = Effect.acquireUseRelease(
          Effect.sync(() => inFlight++),
          () => execute(plugin, name, claimed, entry.job),
          () => Effect.sync(() => inFlight--)
        )
        const fiber = yield* Effect.forkIn(counted.pipe(Effect.annotateLogs({ plugin })), entry.scope)
        const exit = yield* Fiber.await(fiber)
        if (Exit.isFailure(exit)) {
          if (Exit.isInterrupted(exit))
            return yield* new Conflict({
              message: `plugin ${plugin} stopped while job ${name} ran`,
              code: "plugin_disabled"
            })
          return yield* Effect.failCause(exit.cause)
        }
        const rows = yield* sql<RunRow>`
          SELECT job, tick, started_at, finished_at, outcome, error FROM plugin_job_runs WHERE plugin_id = ${plugin} AND job = ${name} AND tick = ${claimed}`
        return toRun(rows[0]!)
      })

    return {
      schedule: (plugin, name, schedule, job) =>
        Effect.gen(function* () {
          const scope = yield* Effect.scope
          if ("cron" in schedule) {
            const parsed = Cron.parse(schedule.cron, schedule.timeZone)
            if (Either.isLeft(parsed))
              return yield* Effect.dieMessage(
                `plugin ${plugin}: job ${name}: invalid cron ${schedule.cron}: ${parsed.left.message}`
              )
            const cron = parsed.right
            yield* register(plugin, name, { job, scope })
            yield* every(plugin, name, job, (ms) => Cron.next(cron, new Date(ms)).getTime()).pipe(Effect.forkScoped)
            return
          }
          const interval = Duration.toMillis(Duration.decode(schedule.every))
          yield* register(plugin, name, { job, scope })
          // The next multiple of the interval, so all replicas agree on the tick.
          yield* every(plugin, name, job, (ms) => (Math.floor(ms / interval) + 1) * interval).pipe(Effect.forkScoped)
        }),
      runs: (plugin, limit) =>
        Effect.map(
          sql<RunRow>`SELECT job, tick, started_at, finished_at, outcome, error FROM plugin_job_runs WHERE plugin_id = ${plugin} ORDER BY tick DESC LIMIT ${limit}`,
          (rows) => rows.map(toRun)
        ),
      runNow,
      jobsOf,
      inFlight: () => inFlight,
      waitingFor: () => [...waiting].map((w) => w.tick)
    }
  })
)
