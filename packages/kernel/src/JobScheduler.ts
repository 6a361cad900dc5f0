/**
 * Runs plugins' cron and interval jobs. Each tick is claimed by inserting
 * (plugin, job, tick) into `plugin_job_runs`: the instance whose insert wins
 * runs it, the others skip, so a job runs once per tick across replicas.
 * Interval ticks are aligned to the epoch so every replica computes the same
 * tick. The row records start, end, outcome and error for admins. Jobs run
 * in their plugin's scope: disabling the plugin interrupts them.
 */
import { SqlClient } from "@effect/sql"
import type { SqlError } from "@effect/sql/SqlError"
import { Clock, Context, Cron, Duration, Effect, Either, Layer, Schedule, type Scope } from "effect"
import type { JobSchedule } from "./Scheduler.ts"
import { Timestamps } from "@streamspace/core"

const { now } = Timestamps

export interface JobRun {
  readonly job: string
  readonly tick: Date
  readonly startedAt: Date
  readonly finishedAt: Date | null
  readonly outcome: "success" | "failure" | null
  readonly error: string | null
}

export class JobScheduler extends Context.Tag("@streamspace/kernel/JobScheduler")<JobScheduler, {
  readonly schedule: <E>(plugin: string, name: string, schedule: JobSchedule, job: Effect.Effect<void, E>) => Effect.Effect<void, never, Scope.Scope>
  readonly runs: (plugin: string, limit: number) => Effect.Effect<ReadonlyArray<JobRun>, SqlError>
}>() {}

export const JobSchedulerLive = Layer.effect(
  JobScheduler,
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient

    const runTick = <E>(plugin: string, name: string, tick: Date, job: Effect.Effect<void, E>) =>
      Effect.gen(function*() {
        const claimed = yield* sql<{ job: string }>`
          INSERT INTO plugin_job_runs (plugin_id, job, tick, started_at) VALUES (${plugin}, ${name}, ${tick}, ${yield* now})
          ON CONFLICT DO NOTHING RETURNING job`
        if (claimed.length === 0) return
        const exit = yield* Effect.exit(job)
        yield* sql`UPDATE plugin_job_runs SET finished_at = ${yield* now}, outcome = ${exit._tag === "Success" ? "success" : "failure"},
          error = ${exit._tag === "Success" ? null : String(exit.cause).slice(0, 2000)}
          WHERE plugin_id = ${plugin} AND job = ${name} AND tick = ${tick}`
      }).pipe(Effect.catchAllCause((cause) => Effect.logError(`plugin ${plugin}: job ${name} could not run`, cause)))

    return {
      schedule: (plugin, name, schedule, job) =>
        Effect.gen(function*() {
          if ("cron" in schedule) {
            const parsed = Cron.parse(schedule.cron, schedule.timeZone)
            if (Either.isLeft(parsed)) return yield* Effect.dieMessage(`plugin ${plugin}: job ${name}: invalid cron ${schedule.cron}: ${parsed.left.message}`)
            const tick = Effect.flatMap(Clock.currentTimeMillis, (ms) => runTick(plugin, name, new Date(Math.floor(ms / 1000) * 1000), job))
            yield* Effect.schedule(tick, Schedule.cron(parsed.right)).pipe(Effect.forever, Effect.forkScoped)
            return
          }
          const every = Duration.toMillis(Duration.decode(schedule.every))
          // Sleep to the next multiple of the interval, so all replicas agree on the tick.
          const next = Effect.gen(function*() {
            const ms = yield* Clock.currentTimeMillis
            const boundary = (Math.floor(ms / every) + 1) * every
            yield* Effect.sleep(Duration.millis(boundary - ms))
            yield* runTick(plugin, name, new Date(boundary), job)
          })
          yield* next.pipe(Effect.forever, Effect.forkScoped)
        }),
      runs: (plugin, limit) =>
        Effect.map(
          sql<{ job: string; tick: Date; started_at: Date; finished_at: Date | null; outcome: "success" | "failure" | null; error: string | null }>`
            SELECT job, tick, started_at, finished_at, outcome, error FROM plugin_job_runs WHERE plugin_id = ${plugin} ORDER BY tick DESC LIMIT ${limit}`,
          (rows) => rows.map((r) => ({ job: r.job, tick: r.tick, startedAt: r.started_at, finishedAt: r.finished_at, outcome: r.outcome, error: r.error }))
        )
    }
  })
)
