/**
 * Apply-on-start (`applyOnStart`, on by default): when a session starts or
 * wakes (`session.started`, `session.woken`; a woken local desktop is a new
 * Xvnc), its owner's effective layout for its template is applied to the new
 * desktop through the `desktops` grant, as the platform — what
 * `POST /sessions/:id/activate` does, without the click.
 *
 * - The default single screen (one monitor at the origin with the `single`
 *   preset's size, e.g. nobody saved a layout) is not applied: the desktop
 *   keeps the screen its runtime gave it.
 * - Runtimes that cannot change displays (simulated, kubernetes: 501) are
 *   noted once at info level; later sessions are skipped without asking.
 * - xrandr failing (500) is tried again four times, half a second apart:
 *   Xvnc accepts X clients before its RFB port greets (which is when the
 *   session is reported running), so this is rare. Then the failure is
 *   logged with the session id. A session that is no longer running (409)
 *   or gone (404) is skipped: its next wake applies the layout again.
 * - Every outcome of applying counts as handled, so an event is never
 *   retried for ever nor dead-lettered for a desktop that refuses (a
 *   database error reading the layout fails it, as any handler's would). Delivery is at least once:
 *   applying the same layout again leaves the same display (Xrandr.apply
 *   deletes the monitors it defined before defining them anew).
 */
import { CoreEvents } from "@streamspace/core"
import { DesktopControlError, Events } from "@streamspace/kernel"
import { Duration, Effect, Ref, Schedule } from "effect"
import { type Monitor, presetOf } from "./Layout.ts"

export interface ApplyOnStartOptions<E> {
  readonly enabled: boolean
  /** The layout that applies to `userId` on `templateId` (the rule of `GET /effective`). */
  readonly effective: (
    userId: string,
    templateId: string
  ) => Effect.Effect<{ readonly id: string; readonly monitors: ReadonlyArray<Monitor> }, E>
  /** Applies monitors to the session's desktop through the `desktops` grant (as `activate` does). */
  readonly apply: (
    sessionId: string,
    monitors: ReadonlyArray<Monitor>
  ) => Effect.Effect<ReadonlyArray<unknown>, DesktopControlError>
}

/** Below the event delivery's 10 s handler timeout, so that a hung xrandr is logged here rather than retried there. */
const BUDGET = Duration.seconds(8)

const single = presetOf("single")!.monitors[0]!

/** One monitor at the origin with the `single` preset's size: what a desktop has without a layout of its own. */
export const isDefaultScreen = (monitors: ReadonlyArray<Monitor>): boolean =>
  monitors.length === 1 &&
  monitors.every((m) => m.x === 0 && m.y === 0 && m.width === single.width && m.height === single.height)

/** Subscribes to session starts and wakes (`apply-on-start`; it reads on while the option is off, so turning it on replays nothing). */
export const subscribe = <E>(options: ApplyOnStartOptions<E>) =>
  Effect.gen(function* () {
    const events = yield* Events
    const unsupported = yield* Ref.make(false)

    const outcome = (sessionId: string, layoutId: string) => ({
      onSuccess: () => Effect.logInfo(`apply-on-start: layout ${layoutId} applied to session ${sessionId}`),
      onFailure: (e: DesktopControlError) =>
        e.status === 501
          ? Effect.zipRight(
              Ref.set(unsupported, true),
              Effect.logInfo(`apply-on-start: skipped from now on, as session ${sessionId} showed: ${e.message}`)
            )
          : e.status === 404 || e.status === 403 || e.status === 409
            ? Effect.logDebug(`apply-on-start: session ${sessionId} skipped: ${e.message}`)
            : Effect.logWarning(`apply-on-start: layout ${layoutId} not applied to session ${sessionId}: ${e.message}`)
    })

    yield* events.subscribe(
      { name: "apply-on-start", events: [CoreEvents.SessionStarted, CoreEvents.SessionWoken] },
      (event) =>
        Effect.gen(function* () {
          if (!options.enabled || (yield* Ref.get(unsupported))) return
          const { sessionId, userId, templateId } = event.payload
          const layout = yield* options.effective(userId, templateId)
          if (isDefaultScreen(layout.monitors)) return
          yield* options.apply(sessionId, layout.monitors).pipe(
            Effect.retry({ schedule: Schedule.spaced("500 millis"), times: 4, while: (e) => e.status === 500 }),
            Effect.timeoutFail({
              duration: BUDGET,
              onTimeout: () =>
                new DesktopControlError({
                  sessionId,
                  status: 504,
                  message: `not applied within ${Duration.format(BUDGET)}`
                })
            }),
            Effect.matchEffect(outcome(sessionId, layout.id)),
            Effect.annotateLogs({ sessionId })
          )
        })
    )
  })
