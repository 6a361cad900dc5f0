/**
 * The kernel's granted platform services (Kubernetes, SessionControl): a
 * plugin without the grant is refused on every call; with it, requests go
 * to the configured API server and nowhere else (a URL or an escaping path
 * is refused before anything is sent), and nothing reaches core data.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { HttpRoute, ServiceUnavailable } from "@streamspace/core"
import { definePlugin, Kubernetes, PlatformAccessDenied, Routes, SessionControl } from "@streamspace/kernel"
import { FakeKubeApiServer, TestPlatform } from "@streamspace/testing"
import { Effect, Layer, Schema } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const probe = (id: string, grants: ReadonlyArray<"kubernetes" | "sessions">) =>
  definePlugin({
    id,
    name: id,
    version: "1.0.0",
    type: "extension",
    category: "test",
    grants,
    layer: Layer.scopedDiscard(
      Effect.gen(function* () {
        const kube = yield* Kubernetes
        const sessions = yield* SessionControl
        const routes = yield* Routes
        yield* routes.add(
          HttpRoute.make({
            method: "POST",
            path: "/kube",
            summary: "Asks the Kubernetes API for a path",
            permission: "authenticated",
            body: Schema.Struct({ path: Schema.String }),
            response: Schema.Struct({ outcome: Schema.String }),
            transactional: false,
            errors: [PlatformAccessDenied, ServiceUnavailable],
            handler: ({ body }) =>
              kube.request("GET", body.path).pipe(
                Effect.as({ outcome: "ok" }),
                Effect.catchTag("KubernetesError", (e) => Effect.succeed({ outcome: `${e.reason} ${e.status}` }))
              )
          })
        )
        yield* routes.add(
          HttpRoute.make({
            method: "POST",
            path: "/hibernate",
            summary: "Hibernates a session",
            permission: "authenticated",
            response: Schema.Struct({ outcome: Schema.String }),
            transactional: false,
            errors: [PlatformAccessDenied],
            handler: () =>
              sessions.hibernate(crypto.randomUUID()).pipe(
                Effect.as({ outcome: "ok" }),
                Effect.catchTag("SessionControlError", (e) => Effect.succeed({ outcome: `session ${e.status}` }))
              )
          })
        )
      })
    )
  })

let api: FakeKubeApiServer.FakeKubeApiServer
let p: TestPlatform.TestPlatform
let admin: string
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-grants-"))
beforeAll(async () => {
  api = FakeKubeApiServer.start()
  Fs.writeFileSync(Path.join(dir, "kubeconfig"), api.kubeconfig())
  p = await TestPlatform.make({
    plugins: [probe("granted", ["kubernetes", "sessions"]), probe("ungranted", [])],
    config: {
      sessions: { runtime: "simulated", kubernetes: { kubeconfig: Path.join(dir, "kubeconfig") } },
      plugins: { enabled: ["granted", "ungranted"] }
    }
  })
  admin = await p.login("admin", p.adminPassword)
})
afterAll(async () => {
  await p.close()
  await api.stop()
  Fs.rmSync(dir, { recursive: true, force: true })
})

const ask = (plugin: string, path: string) =>
  p.http<{ outcome?: string; code?: string }>("POST", `/api/plugins/${plugin}/kube`, { token: admin, body: { path } })

describe(`platform grants (${TestPlatform.engine()})`, () => {
  test("without the grant, Kubernetes and SessionControl refuse every call and nothing is sent", async () => {
    const before = api.requests.length
    const res = await ask("ungranted", "/api/v1/nodes")
    expect(res.status).toBe(403)
    expect(res.body.code).toBe("platform_access_denied")
    const hib = await p.http<{ code: string }>("POST", "/api/plugins/ungranted/hibernate", { token: admin })
    expect(hib.status).toBe(403)
    expect(api.requests.length).toBe(before)
  })

  test("with the grant, requests reach the configured API server with its credentials", async () => {
    api.addNode("n1")
    expect((await ask("granted", "/api/v1/nodes")).body.outcome).toBe("ok")
    expect(api.requests.at(-1)?.path).toBe("/api/v1/nodes")
    expect((await ask("granted", "/api/v1/nodes/none")).body.outcome).toBe("NotFound 404")
    // The session service goes through the core's rules: an unknown session is the core's 404.
    expect(
      (await p.http<{ outcome: string }>("POST", "/api/plugins/granted/hibernate", { token: admin })).body.outcome
    ).toBe("session 404")
  })

  test("only the API server: a URL, a protocol-relative or an escaping path is refused before sending", async () => {
    const before = api.requests.length
    for (const path of [
      "http://127.0.0.1:5432/",
      "//127.0.0.1:5432/x",
      "api/v1/nodes",
      "/api/v1/../../etc/passwd",
      "/api/v1/nodes\r\nHost: x"
    ])
      expect((await ask("granted", path)).body.outcome).toBe("InvalidPath null")
    expect(api.requests.length).toBe(before)
  })
})
