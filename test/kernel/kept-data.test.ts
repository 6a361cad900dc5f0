/**
 * What a plugin keeps across uninstall and releases: `keepData=true` keeps
 * its schema, data, config and secrets for the next install; an install made
 * by an earlier release (host tables named `kv` and `migrations`, no kernel
 * functions) is brought up to date at its next enable.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { definePlugin, PluginBlobs, PluginConfig, PluginSql, PluginStorage, Routes } from "@streamspace/kernel"
import { Manifest } from "@streamspace/kernel/host"
import { BlobStore, HttpRoute } from "@streamspace/core"
import { TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Option, Schema } from "effect"

const KeeperConfig = Schema.Struct({
  label: Schema.optionalWith(Schema.String, { default: () => "default" }),
  token: Schema.optional(PluginConfig.secret(Schema.String))
})

const keeper = definePlugin({
  id: "keeper",
  name: "Keeper",
  version: "1.0.0",
  type: "extension",
  category: "example",
  grants: ["blobs"],
  config: KeeperConfig,
  migrations: [{ id: 1, name: "notes", sql: "CREATE TABLE notes (body text NOT NULL)" }],
  layer: Layer.scopedDiscard(
    Effect.gen(function* () {
      const config = yield* PluginConfig.get(KeeperConfig)
      const sql = yield* PluginSql
      const storage = yield* PluginStorage
      const blobs = yield* PluginBlobs
      yield* (yield* Routes).add(
        HttpRoute.make({
          method: "POST",
          path: "/notes",
          summary: "keep a note and count it",
          permission: "authenticated",
          response: Schema.Struct({
            label: Schema.String,
            token: Schema.NullOr(Schema.String),
            notes: Schema.Number,
            count: Schema.Number
          }),
          handler: () =>
            Effect.gen(function* () {
              yield* sql`INSERT INTO notes (body) VALUES ('n')`
              const count = Option.getOrElse(yield* storage.get("count", Schema.Number), () => 0) + 1
              yield* storage.set("count", count)
              yield* blobs.put(`notes/${count}`, new TextEncoder().encode("n"))
              const notes = (yield* sql<{ n: string }>`SELECT count(*) AS n FROM notes`)[0]!.n
              return { label: config.label, token: config.token ?? null, notes: Number(notes), count }
            }).pipe(Effect.orDie)
        })
      )
    })
  )
})

let p: TestPlatform.TestPlatform
let admin: string
beforeAll(async () => {
  p = await TestPlatform.make({ plugins: [keeper] })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(() => p.close())

const call = (method: string, path: string, body?: unknown) =>
  p.http<Record<string, unknown>>(method, path, { token: admin, ...(body === undefined ? {} : { body }) })
const note = () => call("POST", "/api/plugins/keeper/notes").then((r) => r.body)
const blobKeys = () =>
  p
    .run(Effect.flatMap(BlobStore.BlobStore, (store) => store.list("plugins/keeper/")))
    .then((found) => found.map((b) => b.key).sort())

describe(`kept data (${TestPlatform.engine()})`, () => {
  test("uninstall with keepData keeps data, config and secrets; the next install picks them up", async () => {
    expect((await call("POST", "/api/admin/plugins/keeper/install")).status).toBe(200)
    expect(
      (await call("PUT", "/api/admin/plugins/keeper/config", { label: "kept", token: "s3cret-token" })).status
    ).toBe(200)
    expect((await call("POST", "/api/admin/plugins/keeper/enable")).status).toBe(200)
    expect(await note()).toEqual({ label: "kept", token: "s3cret-token", notes: 1, count: 1 })

    expect((await call("DELETE", "/api/admin/plugins/keeper?keepData=true")).status).toBe(204)
    expect(await blobKeys()).toEqual(["plugins/keeper/notes/1"])
    // The secret is kept sealed, never in clear.
    const kept = await p.query<{ config: unknown; secrets: string }>(
      "SELECT config, secrets FROM plugin_kept_config WHERE id = 'keeper'"
    )
    expect(kept[0]!.config).toEqual({ label: "kept" })
    expect(kept[0]!.secrets).not.toContain("s3cret-token")

    expect((await call("POST", "/api/admin/plugins/keeper/install")).status).toBe(200)
    expect((await call("GET", "/api/admin/plugins/keeper/config")).body["value"]).toEqual({
      label: "kept",
      token: "********"
    })
    expect((await call("POST", "/api/admin/plugins/keeper/enable")).status).toBe(200)
    expect(await note()).toEqual({ label: "kept", token: "s3cret-token", notes: 2, count: 2 })
  })

  test("uninstall without keepData drops data, blobs and the kept config", async () => {
    expect(await blobKeys()).toEqual(["plugins/keeper/notes/1", "plugins/keeper/notes/2"])
    expect((await call("DELETE", "/api/admin/plugins/keeper")).status).toBe(204)
    expect(await p.query("SELECT 1 FROM plugin_kept_config WHERE id = 'keeper'")).toEqual([])
    expect(await blobKeys()).toEqual([])
    expect((await call("POST", "/api/admin/plugins/keeper/install")).status).toBe(200)
    expect((await call("POST", "/api/admin/plugins/keeper/enable")).status).toBe(200)
    expect(await note()).toEqual({ label: "default", token: null, notes: 1, count: 1 })
  })

  test("an install from an earlier release (tables kv and migrations, no kernel functions) is brought up to date at enable", async () => {
    expect((await call("POST", "/api/admin/plugins/keeper/disable")).status).toBe(200)
    await p.query("ALTER TABLE plugin_keeper._streamspace_kv RENAME TO kv")
    await p.query("ALTER TABLE plugin_keeper._streamspace_migrations RENAME TO migrations")
    await p.query("DROP FUNCTION kernel.publish_keeper(uuid, text, jsonb, text)")
    await p.query("DROP FUNCTION kernel.audit_keeper(text, text, text, text, text, text, text, text, text)")
    expect((await call("POST", "/api/admin/plugins/keeper/enable")).body["status"]).toBe("enabled")
    expect(await note()).toEqual({ label: "default", token: null, notes: 2, count: 2 })
    const tables = await p.query<{ t: string }>(
      "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'plugin_keeper' ORDER BY 1"
    )
    expect(tables.map((r) => r.t)).toEqual(["_streamspace_kv", "_streamspace_migrations", "notes"])
    const functions = await p.query<{ f: string }>(
      "SELECT proname AS f FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'kernel' AND proname LIKE '%keeper' ORDER BY 1"
    )
    expect(functions.map((r) => r.f)).toEqual(["audit_keeper", "publish_keeper"])
  })
})

test("a migration naming a host table (_streamspace_…) is refused when the manifest is validated", () => {
  const clash = definePlugin({
    ...keeper,
    id: "clash",
    migrations: [{ id: 1, name: "kv", sql: "CREATE TABLE _streamspace_kv (key text)" }]
  })
  expect(Manifest.validate(clash)).toEqual([
    {
      path: "clash.migrations.0",
      message: "migration 1_kv uses a name beginning _streamspace_, which the host reserves for its tables"
    }
  ])
  expect(Manifest.validate(keeper)).toEqual([])
})
