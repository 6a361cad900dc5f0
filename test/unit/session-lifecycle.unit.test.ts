/** What the orchestrator does with a session (SessionLifecycle): commands, retries, observed states, sweeps. */
import { describe, expect, test } from "bun:test"
import { SessionLifecycle } from "@streamspace/core"

const error = (retryable: boolean) => ({ operation: "create", message: "api server unavailable", retryable })

describe("runtime commands", () => {
  test("deleting removes, whatever the state; a pending session is created; otherwise hibernate or wake", () => {
    expect(SessionLifecycle.commandFor({ state: "running", desired: "terminated" })).toBe("remove")
    expect(SessionLifecycle.commandFor({ state: "pending", desired: "terminated" })).toBe("remove")
    expect(SessionLifecycle.commandFor({ state: "pending", desired: "running" })).toBe("create")
    expect(SessionLifecycle.commandFor({ state: "running", desired: "hibernated" })).toBe("hibernate")
    expect(SessionLifecycle.commandFor({ state: "hibernated", desired: "running" })).toBe("wake")
  })

  test("backoff doubles from one second and stops at 30 s", () => {
    expect([1, 2, 3, 4, 5].map(SessionLifecycle.backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000])
    expect(SessionLifecycle.backoffMs(6)).toBe(30_000)
    expect(SessionLifecycle.backoffMs(20)).toBe(30_000)
  })
})

describe("runtime errors", () => {
  test("a retryable error is retried with the next attempt's backoff", () => {
    expect(SessionLifecycle.afterRuntimeError({ desired: "running", attempts: 0 }, error(true))).toEqual({
      _tag: "Retry",
      attempts: 1,
      delayMs: 1000
    })
    expect(SessionLifecycle.afterRuntimeError({ desired: "running", attempts: 2 }, error(true))).toEqual({
      _tag: "Retry",
      attempts: 3,
      delayMs: 4000
    })
  })

  test("the last attempt fails the session, naming the operation and the attempts", () => {
    const outcome = SessionLifecycle.afterRuntimeError(
      { desired: "running", attempts: SessionLifecycle.MAX_ATTEMPTS - 1 },
      error(true)
    )
    expect(outcome).toEqual({ _tag: "Fail", reason: "create failed after 5 attempt(s): api server unavailable" })
  })

  test("a permanent error fails at once", () => {
    expect(SessionLifecycle.afterRuntimeError({ desired: "hibernated", attempts: 0 }, error(false))._tag).toBe("Fail")
  })

  test("a session being deleted ends instead of failing (the user asked for it to go)", () => {
    expect(SessionLifecycle.afterRuntimeError({ desired: "terminated", attempts: 0 }, error(false))).toEqual({
      _tag: "End",
      reason: "runtime: api server unavailable"
    })
  })

  test("ending keeps the reason and clears the endpoint only when the workload is known gone", () => {
    expect(SessionLifecycle.ended().transition).toMatchObject({
      to: "terminated",
      desired: ["terminated"],
      endpoint: null
    })
    expect(SessionLifecycle.ended("runtime: gone").transition).not.toHaveProperty("endpoint")
    expect(SessionLifecycle.ended("runtime: gone").event).toBe("session.deleted")
    expect(SessionLifecycle.failed("boom")).toMatchObject({
      transition: { to: "failed", reason: "boom" },
      event: "session.failed"
    })
  })
})

describe("observed runtime states", () => {
  test("running moves pending or hibernated sessions that should run, with the endpoint", () => {
    const move = SessionLifecycle.observed({
      sessionId: "s1",
      state: "running",
      endpoint: { host: "10.0.0.9", port: 5901 }
    })
    expect(move?.transition).toEqual({
      from: ["pending", "hibernated"],
      to: "running",
      desired: ["running"],
      endpoint: "10.0.0.9:5901"
    })
    expect(move?.event).toBeUndefined()
  })

  test("running without an endpoint keeps the stored one", () => {
    expect(SessionLifecycle.observed({ sessionId: "s1", state: "running" })?.transition).not.toHaveProperty("endpoint")
  })

  test("a workload stopped by the runtime ends the session with session.stopped, unless it was being deleted", () => {
    const move = SessionLifecycle.observed({ sessionId: "s1", state: "terminated" })
    expect(move?.event).toBe("session.stopped")
    expect(move?.transition.desired).toEqual(["running", "hibernated"])
    expect(move?.transition.reason).toBe("stopped by the runtime")
  })

  test("a failure fails the session with the runtime's reason; pending changes nothing", () => {
    expect(SessionLifecycle.observed({ sessionId: "s1", state: "failed", reason: "image pull" })).toMatchObject({
      transition: { reason: "image pull" },
      event: "session.failed"
    })
    expect(SessionLifecycle.observed({ sessionId: "s1", state: "pending" })).toBeUndefined()
  })

  test("the transition names the event: started, woken, hibernated; others none", () => {
    expect(SessionLifecycle.transitionEvent("pending", "running")).toBe("session.started")
    expect(SessionLifecycle.transitionEvent("hibernated", "running")).toBe("session.woken")
    expect(SessionLifecycle.transitionEvent("running", "hibernated")).toBe("session.hibernated")
    expect(SessionLifecycle.transitionEvent("running", "running")).toBeUndefined()
  })

  test("the sweep hibernates after the idle timeout and fails after the start timeout", () => {
    const at = new Date("2026-01-01T01:00:00Z")
    const { idleBefore, stuckBefore } = SessionLifecycle.sweepCutoffs(at, {
      idleTimeoutSeconds: 1800,
      startTimeoutSeconds: 300
    })
    expect(idleBefore.toISOString()).toBe("2026-01-01T00:30:00.000Z")
    expect(stuckBefore.toISOString()).toBe("2026-01-01T00:55:00.000Z")
  })
})
