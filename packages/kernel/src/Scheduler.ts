/**
 * Cron (5 fields, with time zone) and interval jobs of one plugin. Each tick
 * runs once across all API instances; runs are recorded (start, end, outcome,
 * error). A job's fiber is interrupted when its plugin is disabled.
 */
import { Context, type Duration, type Effect, type Scope } from "effect"

export class Scheduler extends Context.Tag("@streamspace/kernel/Scheduler")<
  Scheduler,
  {
    readonly schedule: <E>(
      name: string,
      schedule: Scheduler.Schedule,
      job: Effect.Effect<void, E>
    ) => Effect.Effect<void, never, Scope.Scope>
  }
>() {}

export declare namespace Scheduler {
  export type Schedule =
    | { readonly cron: string; readonly timeZone?: string }
    | { readonly every: Duration.DurationInput }
}
