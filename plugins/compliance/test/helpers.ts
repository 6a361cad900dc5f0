/** Shared set-up: a platform with the plugin enabled, users in groups, a template, sessions, uploads. */
import { expect } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import compliance from "@streamspace/plugin-compliance"

export const password = "quiet-lantern-orbit-7"
export const base = "/api/plugins/compliance"

export const start = async (options: { clock?: "test" | "live"; config?: Record<string, unknown> } = {}) => {
  const p = await TestPlatform.make({
    plugins: [compliance],
    ...(options.clock ? { clock: options.clock } : {}),
    config: { plugins: { enabled: ["compliance"] }, sessions: { simulatedDelayMs: 20 }, ...options.config }
  })
  const admin = await p.login("admin", p.adminPassword)
  return { p, admin }
}

export const makeUser = async (
  p: TestPlatform.TestPlatform,
  admin: string,
  username: string,
  groups: ReadonlyArray<string> = []
) => {
  const user = await p.makeUser(username, { password, adminToken: admin })
  for (const group of groups) {
    const existing = await p.http<{ items: Array<{ id: string; name: string }> }>("GET", "/api/groups", {
      token: admin
    })
    let id = existing.body.items.find((g) => g.name === group)?.id
    if (!id) {
      const created = await p.http<{ id: string }>("POST", "/api/groups", { token: admin, body: { name: group } })
      expect(created.status).toBe(201)
      id = created.body.id
    }
    const added = await p.http("POST", `/api/groups/${id}/members`, { token: admin, body: { userId: user.id } })
    expect(added.status).toBeLessThan(300)
  }
  return user
}

export const makeTemplate = async (p: TestPlatform.TestPlatform, admin: string, name: string) => {
  const res = await p.http<{ id: string }>("POST", "/api/templates", {
    token: admin,
    body: { name, displayName: name, image: `example/${name}:1` }
  })
  expect(res.status).toBe(201)
  return res.body.id
}

export const createPolicy = async (p: TestPlatform.TestPlatform, admin: string, body: Record<string, unknown>) => {
  const res = await p.http<{ id: string }>("POST", `${base}/policies`, { token: admin, body })
  expect(res.status).toBe(201)
  return res.body.id
}

export const deletePolicy = async (p: TestPlatform.TestPlatform, admin: string, id: string) =>
  expect((await p.http("DELETE", `${base}/policies/${id}`, { token: admin })).status).toBe(204)

export const upload = (
  p: TestPlatform.TestPlatform,
  token: string,
  session: string,
  name: string,
  bytes: Uint8Array | string
) =>
  p.http<{ id: string; code?: string; detail?: string }>(
    "POST",
    `/api/sessions/${session}/files?name=${encodeURIComponent(name)}`,
    {
      token,
      raw: bytes,
      headers: { "content-type": "application/octet-stream" }
    }
  )

export interface Violation {
  readonly id: string
  readonly policyName: string
  readonly userId: string | null
  readonly type: string
  readonly action: string
  readonly status: string
  readonly severity: string
  readonly details: Record<string, unknown>
}

export const violations = async (p: TestPlatform.TestPlatform, admin: string, query = "") =>
  (await p.http<{ items: ReadonlyArray<Violation> }>("GET", `${base}/violations${query}`, { token: admin })).body.items

/** The violations one policy recorded. */
export const violationsOf = async (p: TestPlatform.TestPlatform, admin: string, policyName: string) =>
  (await violations(p, admin)).filter((v) => v.policyName === policyName)

export const launch = (p: TestPlatform.TestPlatform, token: string, templateId: string, signal?: AbortSignal) =>
  p.http<{ id: string; detail?: string }>("POST", "/api/sessions", { token, body: { templateId }, signal })
