import { afterAll, beforeAll, expect, test } from "bun:test"
import hello, { Greeted } from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
import { Schema } from "effect"

let p: TestPlatform.TestPlatform
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [hello], config: { plugins: { enabled: ["hello"] } } })
})
afterAll(() => p.close())

test("greets new users", async () => {
  const admin = await p.login("admin", p.adminPassword)
  await p.http("POST", "/api/users", { token: admin, body: { username: "ada", password: "long-enough-pw" } })
  await p.awaitDelivered()
  expect(
    (await p.http<{ usernames: string[] }>("GET", "/api/plugins/hello/greetings", { token: admin })).body.usernames
  ).toEqual(["ada"])
})

test("announces each greeting as its declared event hello.greeted", async () => {
  const rows = await p.query<{ source: string; payload: unknown }>(
    "SELECT source, payload FROM events WHERE type = 'hello.greeted'"
  )
  expect(rows.map((r) => r.source)).toEqual(["hello"])
  expect(Schema.decodeUnknownSync(Greeted.schema)(rows[0]!.payload)).toEqual({ username: "ada" })
})
