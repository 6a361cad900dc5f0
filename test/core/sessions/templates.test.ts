import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { TestPlatform } from "@streamspace/testing"
import { makeTemplate, makeUser, type Problem } from "./helpers.ts"

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make()
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

interface TemplateBody {
  readonly id: string
  readonly name: string
  readonly enabled: boolean
  readonly defaultCpu: number
  readonly tags: ReadonlyArray<string>
}

describe(`templates (${TestPlatform.engine()})`, () => {
  test("admins create with defaults; duplicates 409; bad fields 400 naming them", async () => {
    const res = await p.http<TemplateBody>("POST", "/api/templates", {
      token: admin,
      body: { name: "gimp", displayName: "GIMP", image: "linuxserver/gimp:2.10" }
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ name: "gimp", enabled: true, defaultCpu: 1000 })
    expect(
      (
        await p.http<Problem>("POST", "/api/templates", {
          token: admin,
          body: { name: "gimp", displayName: "x", image: "y:1" }
        })
      ).body.code
    ).toBe("template_name_taken")
    const bad = await p.http<Problem>("POST", "/api/templates", {
      token: admin,
      body: { name: "Bad Name", displayName: "x", image: "y:1", vncPort: 70000 }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.errors?.map((e) => e.path)).toEqual(expect.arrayContaining(["body.name", "body.vncPort"]))
    const limits = await p.http<Problem>("POST", "/api/templates", {
      token: admin,
      body: { name: "big", displayName: "x", image: "y:1", defaultCpu: 3000, maxCpu: 2000 }
    })
    expect(limits.status).toBe(400)
    expect(limits.body.errors?.[0]?.path).toBe("body.defaultCpu")
  })

  test("users list and search enabled templates only; 401 without a token; 403 to manage", async () => {
    const user = await makeUser(p, admin, "browser")
    await makeTemplate(p, admin, "vscode", { category: "dev", tags: ["editor", "code"] })
    const hidden = await makeTemplate(p, admin, "secret-app", { enabled: false })
    const list = await p.http<{ items: ReadonlyArray<TemplateBody> }>("GET", "/api/templates", { token: user.token })
    expect(list.body.items.map((t) => t.name)).not.toContain("secret-app")
    expect((await p.http("GET", `/api/templates/${hidden}`, { token: user.token })).status).toBe(404)
    expect((await p.http("GET", `/api/templates/${hidden}`, { token: admin })).status).toBe(200)
    const byTag = await p.http<{ items: ReadonlyArray<TemplateBody> }>("GET", "/api/templates?tag=editor", {
      token: user.token
    })
    expect(byTag.body.items.map((t) => t.name)).toEqual(["vscode"])
    const byQuery = await p.http<{ items: ReadonlyArray<TemplateBody> }>("GET", "/api/templates?q=VSC&category=dev", {
      token: user.token
    })
    expect(byQuery.body.items.map((t) => t.name)).toEqual(["vscode"])
    expect((await p.http("GET", "/api/templates")).status).toBe(401)
    expect(
      (
        await p.http("POST", "/api/templates", {
          token: user.token,
          body: { name: "mine", displayName: "x", image: "y:1" }
        })
      ).status
    ).toBe(403)
  })

  test("update, 404 for unknown ids, and delete refused while sessions are live", async () => {
    const id = await makeTemplate(p, admin, "libreoffice")
    const updated = await p.http<TemplateBody>("PATCH", `/api/templates/${id}`, {
      token: admin,
      body: { tags: ["office"], enabled: false }
    })
    expect(updated.body).toMatchObject({ tags: ["office"], enabled: false })
    const tooLow = await p.http<Problem>("PATCH", `/api/templates/${id}`, { token: admin, body: { maxCpu: 100 } })
    expect(tooLow.status).toBe(400)
    expect((await p.http("PATCH", "/api/templates/none", { token: admin, body: { tags: [] } })).status).toBe(404)
    await p.http("PATCH", `/api/templates/${id}`, { token: admin, body: { enabled: true } })
    const session = await p.http<{ id: string }>("POST", "/api/sessions", { token: admin, body: { templateId: id } })
    expect(session.status).toBe(201)
    const refused = await p.http<Problem>("DELETE", `/api/templates/${id}`, { token: admin })
    expect(refused.status).toBe(409)
    expect(refused.body.code).toBe("template_in_use")
    await p.http("DELETE", `/api/sessions/${session.body.id}`, { token: admin })
    await p.eventually(
      async () =>
        (await p.http<{ state: string }>("GET", `/api/sessions/${session.body.id}`, { token: admin })).body.state ===
        "terminated"
    )
    expect((await p.http("DELETE", `/api/templates/${id}`, { token: admin })).status).toBe(204)
    expect((await p.http("DELETE", `/api/templates/${id}`, { token: admin })).status).toBe(404)
  })
})
