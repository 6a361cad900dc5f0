/** A platform on the `kubernetes` runtime against the test API server, with node-manager enabled. */
import nodeManager from "@streamspace/plugin-node-manager"
import { FakeKubeApiServer, TestPlatform } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export const NS = "desktops"

export interface Setup {
  readonly api: FakeKubeApiServer.FakeKubeApiServer
  readonly p: TestPlatform.TestPlatform
  readonly admin: string
  readonly template: string
  readonly close: () => Promise<void>
}

export const setup = async (pluginConfig: Record<string, unknown> = {}): Promise<Setup> => {
  const api = FakeKubeApiServer.start({ autoReady: true })
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-nodes-"))
  const kubeconfig = Path.join(dir, "kubeconfig")
  Fs.writeFileSync(kubeconfig, api.kubeconfig())
  const p = await TestPlatform.make({
    plugins: [nodeManager],
    clock: "test",
    config: {
      sessions: { runtime: "kubernetes", kubernetes: { namespace: NS, kubeconfig } },
      plugins: { enabled: ["node-manager"] }
    }
  })
  const admin = await p.login("admin", p.adminPassword)
  if (Object.keys(pluginConfig).length > 0) {
    const res = await p.http("PUT", "/api/admin/plugins/node-manager/config", { token: admin, body: pluginConfig })
    if (res.status !== 200) throw new Error(`config: ${res.status} ${res.text}`)
  }
  const template = (
    await p.http<{ id: string }>("POST", "/api/templates", {
      token: admin,
      body: { name: "xfce", displayName: "XFCE", image: "example/xfce:4.18", defaultCpu: 500, defaultMemory: 1024 }
    })
  ).body.id
  return {
    api,
    p,
    admin,
    template,
    close: async () => {
      await p.close()
      await api.stop()
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  }
}

export interface SessionBody {
  readonly id: string
  readonly state: string
  readonly desired: string
  readonly reason: string | null
}

/** Launches a session as `token` and waits until the runtime reports it (pod placed, running). */
export const launch = async (s: Setup, token: string) => {
  const res = await s.p.http<SessionBody>("POST", "/api/sessions", { token, body: { templateId: s.template } })
  if (res.status !== 201) throw new Error(`launch: ${res.status} ${res.text}`)
  return res.body.id
}

export const session = async (s: Setup, id: string) =>
  (await s.p.http<SessionBody>("GET", `/api/sessions/${id}`, { token: s.admin })).body

/** The node the session's pod runs on (once it exists). */
export const nodeOf = (s: Setup, id: string) =>
  s.api.pods().find((p) => p.metadata.labels?.["streamspace.io/session"] === id)?.spec?.["nodeName"] as
    | string
    | undefined

export const until = async <A>(s: Setup, check: () => Promise<A | undefined> | A | undefined) =>
  s.p.eventually(async () => {
    const v = await check()
    if (v !== undefined && v !== false) return v
    await s.p.adjustClock("1 second")
    return undefined
  }, 20_000)
