/** Shared set-up for the sessions suites: users, templates and a reader for session state. */
import { expect } from "bun:test"
import type { TestPlatform } from "@streamspace/testing"
import type { Duration } from "effect"

export interface Problem {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly errors?: ReadonlyArray<{ path: string; message: string }>
  readonly limit?: string
  readonly scope?: string
}
export interface SessionBody {
  readonly id: string
  readonly state: string
  readonly desired: string
  readonly runtime: string
  readonly access: string
  readonly cpu: number
  readonly memory: number
  readonly reason: string | null
}

export const makeUser = async (
  p: TestPlatform.TestPlatform,
  admin: string,
  username: string,
  roles: ReadonlyArray<string> = ["user"]
) => {
  const password = "quiet-lantern-orbit-7"
  const res = await p.http<{ id: string }>("POST", "/api/users", { token: admin, body: { username, password, roles } })
  expect(res.status).toBe(201)
  return { id: res.body.id, token: await p.login(username, password) }
}

export const makeTemplate = async (
  p: TestPlatform.TestPlatform,
  admin: string,
  name: string,
  extra: Record<string, unknown> = {}
) => {
  const res = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: {
      name,
      displayName: name,
      image: `example/${name}:1`,
      defaultCpu: 500,
      maxCpu: 2000,
      defaultMemory: 1024,
      maxMemory: 4096,
      ...extra
    }
  })
  expect(res.status).toBe(201)
  return res.body.id
}

export const stateOf = async (p: TestPlatform.TestPlatform, token: string, id: string) =>
  (await p.http<SessionBody>("GET", `/api/sessions/${id}`, { token })).body.state

/** Advances the test clock in steps until the session reaches `state`. */
export const reach = (
  p: TestPlatform.TestPlatform,
  token: string,
  id: string,
  state: string,
  step: Duration.DurationInput = "1 second"
) =>
  p.eventually(async () => {
    if ((await stateOf(p, token, id)) === state) return true
    await p.adjustClock(step)
    return false
  })
