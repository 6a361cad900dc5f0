import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { SqlClient } from "@effect/sql"
import { BlobStore } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import S3rver from "s3rver"

interface FileBody {
  readonly id: string
  readonly name: string
  readonly size: number
  readonly sha256: string
}

const s3Dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-s3rver-"))
const s3 = new S3rver({
  port: 0,
  address: "127.0.0.1",
  silent: true,
  directory: s3Dir,
  configureBuckets: [{ name: "blobs", configs: [] }]
})
let s3Port = 0

const setup = async (config: TestPlatform.TestPlatformOptions["config"]) => {
  const p = await TestPlatform.make({ config })
  const admin = await p.login("admin", p.adminPassword)
  const template = (
    await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "files-app", displayName: "x", image: "x:1" }
    })
  ).body.id
  const user = async (username: string) => {
    const { id, token } = await p.makeUser(username)
    const session = (await p.http<{ id: string }>("POST", "/api/sessions", { token, body: { templateId: template } }))
      .body.id
    return { token, id, session }
  }
  return { p, admin, user }
}

const upload = (
  p: TestPlatform.TestPlatform,
  token: string,
  session: string,
  name: string,
  bytes: Uint8Array | string
) =>
  p.http<FileBody>("POST", `/api/sessions/${session}/files?name=${encodeURIComponent(name)}`, {
    token,
    raw: bytes,
    headers: { "content-type": "text/plain" }
  })

beforeAll(async () => {
  s3Port = ((await s3.run()) as unknown as { port: number }).port
})
afterAll(async () => {
  await s3.close()
  Fs.rmSync(s3Dir, { recursive: true, force: true })
})

for (const kind of ["local", "s3"] as const) {
  describe(`files on ${kind} storage (${TestPlatform.engine()})`, () => {
    let ctx: Awaited<ReturnType<typeof setup>>
    beforeAll(async () => {
      ctx = await setup({
        storage:
          kind === "local"
            ? { maxUploadBytes: 1024 * 1024 }
            : {
                kind: "s3",
                maxUploadBytes: 1024 * 1024,
                s3: {
                  endpoint: `http://127.0.0.1:${s3Port}`,
                  bucket: "blobs",
                  accessKeyId: "S3RVER",
                  secretAccessKey: "S3RVER"
                }
              }
      })
    })
    afterAll(() => ctx.p.close())

    test("upload, list, download and delete; file.uploaded is published", async () => {
      const { p } = ctx
      const u = await ctx.user(`files-${kind}`)
      const contents = "hello from a session\n".repeat(1000)
      const res = await upload(p, u.token, u.session, "notes.txt", contents)
      expect(res.status).toBe(201)
      expect(res.body).toMatchObject({
        name: "notes.txt",
        size: contents.length,
        sha256: createHash("sha256").update(contents).digest("hex")
      })
      const list = await p.http<{ items: ReadonlyArray<FileBody> }>("GET", `/api/sessions/${u.session}/files`, {
        token: u.token
      })
      expect(list.body.items.map((f) => f.name)).toEqual(["notes.txt"])
      const download = await p.http("GET", `/api/sessions/${u.session}/files/${res.body.id}`, { token: u.token })
      expect(download.status).toBe(200)
      expect(download.text).toBe(contents)
      expect(download.headers.get("content-disposition")).toContain("notes.txt")
      const events = await p.run(
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) => sql<{ payload: { fileId: string } }>`SELECT payload FROM events WHERE type = 'file.uploaded'`
        )
      )
      expect(events.map((e) => e.payload.fileId)).toContain(res.body.id)
      expect(
        (await p.http("DELETE", `/api/sessions/${u.session}/files/${res.body.id}`, { token: u.token })).status
      ).toBe(204)
      expect((await p.http("GET", `/api/sessions/${u.session}/files/${res.body.id}`, { token: u.token })).status).toBe(
        404
      )
      const blobs = await p.run(Effect.flatMap(BlobStore.BlobStore, (b) => b.list(`users/${u.id}/`)))
      expect(blobs).toEqual([])
    })

    test("over the upload limit is 413 and nothing is kept", async () => {
      const { p } = ctx
      const u = await ctx.user(`big-${kind}`)
      const res = await upload(p, u.token, u.session, "big.bin", new Uint8Array(1024 * 1024 + 1))
      expect(res.status).toBe(413)
      const list = await p.http<{ items: ReadonlyArray<FileBody> }>("GET", `/api/sessions/${u.session}/files`, {
        token: u.token
      })
      expect(list.body.items).toEqual([])
      expect(await p.run(Effect.flatMap(BlobStore.BlobStore, (b) => b.list(`users/${u.id}/`)))).toEqual([])
    })

    test("other users get 404; a missing name is 400; the storage quota applies", async () => {
      const { p, admin } = ctx
      const owner = await ctx.user(`owner-${kind}`)
      const other = await ctx.user(`other-${kind}`)
      expect((await upload(p, other.token, owner.session, "x.txt", "x")).status).toBe(404)
      expect((await p.http("GET", `/api/sessions/${owner.session}/files`, { token: other.token })).status).toBe(404)
      const noName = await p.http<{ errors: ReadonlyArray<{ path: string }> }>(
        "POST",
        `/api/sessions/${owner.session}/files`,
        { token: owner.token, raw: "x" }
      )
      expect(noName.status).toBe(400)
      expect(noName.body.errors[0]?.path).toBe("query.name")
      await p.http("PUT", `/api/quotas/users/${owner.id}`, { token: admin, body: { maxStorage: 100 } })
      expect((await upload(p, owner.token, owner.session, "a.txt", "a".repeat(80))).status).toBe(201)
      const over = await upload(p, owner.token, owner.session, "b.txt", "b".repeat(80))
      expect(over.status).toBe(403)
      expect(over.body).toMatchObject({ code: "quota_exceeded", limit: "storage" })
    })
  })
}
