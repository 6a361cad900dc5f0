/**
 * Limits per user and per group. A group's limits bind each of its members
 * (like the user's own); a request must fit all of them (the arithmetic is
 * QuotaPolicy). Going over is a 403 naming the limit, plus a
 * `quota.exceeded` event that survives the refused request. `null` means
 * no limit.
 */
import { Context, Effect, Layer } from "effect"
import { CurrentActor, onRequestFailure } from "../Actor.ts"
import { QuotaExceeded } from "../Errors.ts"
import { EventOutbox } from "../events/EventOutbox.ts"
import { now } from "../Timestamps.ts"
import { type Quota, type Request, type Scope, type ScopedQuota, unlimited, type Usage } from "./QuotaModel.ts"
import { exceeded, exceededMessage } from "./QuotaPolicy.ts"
import { QuotaRepo } from "./QuotaRepo.ts"

export { Quota, QuotaInput, type Request, type Scope, type Usage } from "./QuotaModel.ts"

export class Quotas extends Context.Tag("@streamspace/core/Quotas")<
  Quotas,
  {
    readonly get: (scope: Scope, id: string) => Effect.Effect<Quota>
    readonly set: (scope: Scope, id: string, quota: Quota) => Effect.Effect<Quota>
    readonly usage: (userId: string) => Effect.Effect<Usage>
    /** Fails with QuotaExceeded when `request` on top of current usage breaks any limit of the user or their groups. */
    readonly check: (userId: string, request: Request) => Effect.Effect<void, QuotaExceeded, CurrentActor>
    /**
     * `check` on facts the caller read itself (the quotas binding the user, and their usage when any
     * binds), e.g. in the statement that also read what the request needs.
     */
    readonly enforce: (
      userId: string,
      binding: ReadonlyArray<ScopedQuota>,
      usage: Usage,
      request: Request
    ) => Effect.Effect<void, QuotaExceeded, CurrentActor>
  }
>() {}

export const QuotasLive = Layer.effect(
  Quotas,
  Effect.gen(function* () {
    const repo = yield* QuotaRepo
    const outbox = yield* EventOutbox
    const enforce = (userId: string, binding: ReadonlyArray<ScopedQuota>, usage: Usage, request: Request) =>
      Effect.gen(function* () {
        const over = exceeded(binding, usage, request)
        if (over === undefined) return
        const actor = yield* CurrentActor
        // The refused request rolls back; the event must not.
        yield* onRequestFailure(
          outbox
            .publish("quota.exceeded", {
              userId,
              scope: over.scope,
              scopeId: over.scopeId,
              limit: over.limit,
              max: over.max,
              requested: over.requested
            })
            .pipe(Effect.provideService(CurrentActor, actor))
        )
        return yield* new QuotaExceeded({
          message: exceededMessage(over),
          limit: over.limit,
          max: over.max,
          requested: over.requested,
          scope: over.scope
        })
      })
    return {
      enforce,
      get: (scope, id) => Effect.map(repo.find(scope, id), (quota) => quota ?? unlimited),
      set: (scope, id, quota) =>
        Effect.as(
          Effect.flatMap(now, (at) => repo.upsert(scope, id, quota, at)),
          quota
        ),
      usage: repo.usage,
      check: (userId, request) =>
        Effect.gen(function* () {
          const binding = yield* repo.binding(userId)
          if (binding.length === 0) return
          yield* enforce(userId, binding, yield* repo.usage(userId), request)
        })
    }
  })
)
