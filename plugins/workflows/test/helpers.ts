/** Shared set-up of the workflows suites: config, users, creating workflows and waiting for executions. */
import { expect } from "bun:test"
import type { TestPlatform } from "@streamspace/testing"

export const password = "amber-falcon-ridge-42"
export const signingKey = "k".repeat(16) + "-test-signing-key-0123456789"

export interface Execution {
  readonly id: string
  readonly status: string
  readonly version: number
  readonly error: string | null
  readonly triggerType: string
  readonly triggerData: unknown
  readonly vars: Record<string, unknown>
  readonly steps: ReadonlyArray<{
    readonly stepId: string
    readonly status: string
    readonly attempts: number
    readonly output: unknown
    readonly error: string | null
    readonly activatedBy: string | null
  }>
}

export const configure = async (p: TestPlatform.TestPlatform, admin: string, config: Record<string, unknown>) => {
  const res = await p.http("PUT", "/api/admin/plugins/workflows/config", { token: admin, body: config })
  expect(res.status).toBe(200)
}

/** A workflow author: an operator unless `roles` says otherwise. */
export const makeUser = (p: TestPlatform.TestPlatform, username: string, roles: ReadonlyArray<string> = ["operator"]) =>
  p.makeUser(username, { roles, password })

export const create = async (p: TestPlatform.TestPlatform, token: string, definition: Record<string, unknown>) => {
  const res = await p.http<{ id: string; version: number; webhook?: { url: string; secret: string } }>(
    "POST",
    "/api/plugins/workflows/workflows",
    { token, body: definition }
  )
  if (res.status !== 201) throw new Error(`create: ${res.status} ${res.text}`)
  return res.body
}

export const run = async (
  p: TestPlatform.TestPlatform,
  token: string,
  workflowId: string,
  input: unknown = {},
  headers: Record<string, string> = {}
) => {
  const res = await p.http<{ executionId: string; status: string; created: boolean }>(
    "POST",
    `/api/plugins/workflows/workflows/${workflowId}/run`,
    { token, body: { input }, headers }
  )
  if (res.status !== 201) throw new Error(`run: ${res.status} ${res.text}`)
  return res.body
}

export const execution = async (p: TestPlatform.TestPlatform, token: string, id: string) => {
  const res = await p.http<Execution>("GET", `/api/plugins/workflows/executions/${id}`, { token })
  expect(res.status).toBe(200)
  return res.body
}

/** Waits until the execution is in one of `statuses` (default: finished), moving a test clock a second at a time when asked. */
export const settle = async (
  p: TestPlatform.TestPlatform,
  token: string,
  id: string,
  statuses: ReadonlyArray<string> = ["completed", "failed", "cancelled"],
  tick = false
) =>
  p.eventually(
    async () => {
      const e = await execution(p, token, id)
      if (statuses.includes(e.status)) return e
      if (tick) await p.adjustClock("1 second")
      return undefined
    },
    { what: `execution ${id} to be ${statuses.join(" or ")}` }
  )

export const step = (e: Execution, id: string) => {
  const s = e.steps.find((x) => x.stepId === id)
  if (!s) throw new Error(`no step ${id} in ${JSON.stringify(e.steps)}`)
  return s
}
