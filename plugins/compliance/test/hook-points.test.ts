/**
 * The two hook points this plugin added to the core, on their own:
 * `file.inspectUpload` sees the stored bytes (a veto removes them, nothing
 * is listed), `file.beforeDownload` sees the file about to be answered, and
 * both fail closed when a handler hangs or dies (403 naming the plugin).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { BlobStore } from "@streamspace/core"
import { definePlugin, Hooks, PluginConfig, Veto } from "@streamspace/kernel"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Schema } from "effect"
import { makeTemplate, makeUser, upload } from "./helpers.ts"

const Config = Schema.Struct({
  mode: Schema.optionalWith(Schema.Literal("inspect", "hang", "die"), { default: () => "inspect" as const })
})
const seen: Array<{ point: string; name: string; head: string; ownerId: string; size: number }> = []

const probe = definePlugin({
  id: "probe",
  name: "Probe",
  version: "1.0.0",
  type: "extension",
  category: "example",
  config: Config,
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const { mode } = yield* PluginConfig.get(Config)
      const hooks = yield* Hooks
      const handler =
        (point: string) =>
        <I extends { name: string; size: number; ownerId: string; head: (n: number) => Effect.Effect<Uint8Array> }>(
          input: I
        ) =>
          mode === "hang"
            ? Effect.never
            : mode === "die"
              ? Effect.die(new Error("probe broke"))
              : Effect.gen(function* () {
                  const head = new TextDecoder().decode(yield* input.head(5))
                  seen.push({ point, name: input.name, head, ownerId: input.ownerId, size: input.size })
                  if (head.startsWith("VETO")) return yield* new Veto({ reason: `saw ${head}` })
                  return input
                })
      yield* hooks.intercept("file.inspectUpload", handler("file.inspectUpload"), { timeoutMs: 200 })
      yield* hooks.intercept("file.beforeDownload", handler("file.beforeDownload"), { timeoutMs: 200 })
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
let user: { id: string; token: string }
let session: string

beforeAll(async () => {
  p = await TestPlatform.make({
    plugins: [probe],
    config: { plugins: { enabled: ["probe"] }, sessions: { simulatedDelayMs: 20 } }
  })
  admin = await p.login("admin", p.adminPassword)
  user = await makeUser(p, admin, "erin")
  const template = await makeTemplate(p, admin, "desk")
  session = (
    await p.http<{ id: string }>("POST", "/api/sessions", { token: user.token, body: { templateId: template } })
  ).body.id
})
afterAll(() => p.close())

const configure = async (mode: string) =>
  expect((await p.http("PUT", "/api/admin/plugins/probe/config", { token: admin, body: { mode } })).status).toBe(200)

describe(`content hook points (${TestPlatform.engine()})`, () => {
  test("file.inspectUpload reads the stored bytes; a veto removes them", async () => {
    const ok = await upload(p, user.token, session, "hello.txt", "hello world")
    expect(ok.status).toBe(201)
    expect(seen).toContainEqual({
      point: "file.inspectUpload",
      name: "hello.txt",
      head: "hello",
      ownerId: user.id,
      size: 11
    })
    const refused = await upload(p, user.token, session, "bad.txt", "VETO this")
    expect(refused.status).toBe(403)
    expect(refused.body.detail).toBe("probe: saw VETO ")
    const files = await p.http<{ items: Array<{ name: string }> }>("GET", `/api/sessions/${session}/files`, {
      token: user.token
    })
    expect(files.body.items.map((f) => f.name)).toEqual(["hello.txt"])
    // The vetoed bytes are gone from the blob store too: one blob for this user, the accepted file's.
    const blobs = await p.run(Effect.flatMap(BlobStore.BlobStore, (b) => b.list(`users/${user.id}/`)))
    expect(blobs.map((b) => b.size)).toEqual([11])
  })

  test("file.beforeDownload sees the file and can refuse", async () => {
    const file = await upload(p, user.token, session, "d.txt", "downloadable")
    const ok = await p.http("GET", `/api/sessions/${session}/files/${file.body.id}`, { token: user.token })
    expect(ok.status).toBe(200)
    expect(seen.at(-1)).toMatchObject({ point: "file.beforeDownload", name: "d.txt", head: "downl" })
  })

  test("both fail closed when the handler hangs or dies", async () => {
    const file = await upload(p, user.token, session, "e.txt", "anything")
    for (const mode of ["hang", "die"]) {
      await configure(mode)
      const up = await upload(p, user.token, session, "f.txt", "anything")
      expect(up.status).toBe(403)
      expect(up.body.detail).toContain("probe could not check this action")
      const down = await p.http<{ detail: string }>("GET", `/api/sessions/${session}/files/${file.body.id}`, {
        token: user.token
      })
      expect(down.status).toBe(403)
      expect(down.body.detail).toContain("probe could not check this action")
    }
    await configure("inspect")
  })
})
