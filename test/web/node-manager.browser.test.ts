/**
 * The node-manager plugin's UI in Chromium, against the test Kubernetes API
 * server: the admin dashboard's "Cluster health" widget counts ready,
 * NotReady and cordoned nodes; on the Nodes page an admin cordons a node,
 * opens the drain wizard, reads the dry run (the session to hibernate, the
 * pod to evict, the DaemonSet pod left) and confirms: the node is cordoned,
 * the session hibernates and the pod is evicted. Screenshots
 * "node-manager-widget", "node-manager-drain"; axe on both.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test"
import nodeManager from "@streamspace/plugin-node-manager"
import { BrowserKit, FakeKubeApiServer } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"

const api = FakeKubeApiServer.start({ autoReady: true })
const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-nodes-browser-"))
const kubeconfig = Path.join(dir, "kubeconfig")
Fs.writeFileSync(kubeconfig, api.kubeconfig())
let kit: BrowserKit.BrowserKit
let admin: string
let sessionId: string

beforeAll(async () => {
  api.addNode("node-a", { cpu: "8", memory: "32Gi" })
  api.addNode("node-b", { cpu: "8", memory: "32Gi", unschedulable: true })
  api.addNode("node-c", { cpu: "8", memory: "32Gi", ready: false })
  kit = await BrowserKit.start({
    plugins: [nodeManager],
    config: {
      sessions: { runtime: "kubernetes", kubernetes: { namespace: "desktops", kubeconfig } },
      plugins: { enabled: ["node-manager"] }
    }
  })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  const template = await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/templates", admin, {
    name: "xfce",
    displayName: "XFCE",
    image: "example/xfce:4.18",
    defaultCpu: 500,
    defaultMemory: 1024
  })
  sessionId = (
    await ConsoleTest.request<{ id: string }>(kit, "POST", "/api/sessions", admin, { templateId: template.id })
  ).id
  await kit.platform.eventually(async () => {
    const s = await kit.platform.http<{ state: string }>("GET", `/api/sessions/${sessionId}`, { token: admin })
    if (s.body.state !== "running") throw new Error(`session ${s.body.state}`)
    return true
  }, 60_000)
  api.addPod("web", { name: "web-1", nodeName: "node-a", owner: "ReplicaSet" })
  api.addPod("kube-system", { name: "fluentd-a", nodeName: "node-a", owner: "DaemonSet" })
}, 180_000)
afterAll(async () => {
  await kit?.close()
  await api.stop()
  Fs.rmSync(dir, { recursive: true, force: true })
})

const pages = ConsoleTest.pageTracker(() => kit)
afterEach(() => pages.closeAll())

test("the dashboard's cluster-health widget counts ready, NotReady and cordoned nodes", async () => {
  const { page, errors } = await pages.loggedIn("/admin")
  const widget = page.getByRole("region", { name: "Cluster health" })
  await widget.waitFor()
  await widget.getByText("of 3 nodes ready").waitFor()
  await widget.getByText("1 not ready").waitFor()
  await widget.getByText("1 cordoned").waitFor()
  await widget.getByText(/1 sessions/).waitFor()
  await kit.screenshot(page, "node-manager-widget")
  await ConsoleTest.expectAccessible(kit, page, { settle: true })
  expect(errors).toEqual([])
}, 120_000)

test("on the Nodes page an admin uncordons a node, reads the drain's dry run and confirms it", async () => {
  const { page, errors } = await pages.loggedIn("/admin")
  await page.getByRole("navigation", { name: "Administration" }).getByRole("link", { name: "Nodes" }).click()
  await page.getByRole("table", { name: "Kubernetes nodes" }).waitFor()
  await page.getByRole("button", { name: "Uncordon node-b" }).click()
  await page.getByRole("button", { name: "Cordon node-b" }).waitFor()
  expect(api.get("nodes", "", "node-b")?.spec?.["unschedulable"]).toBeUndefined()

  await page.getByRole("button", { name: "Drain node-a" }).click()
  const wizard = page.getByRole("dialog", { name: "Drain node-a" })
  await wizard.getByText("Dry run: what a drain of node-a would do").waitFor()
  await wizard.getByRole("cell", { name: sessionId, exact: true }).waitFor()
  await wizard.getByRole("cell", { name: "web-1" }).waitFor()
  await wizard.getByRole("cell", { name: "DaemonSet pod" }).waitFor()
  // The dry run changed nothing.
  expect(api.get("nodes", "", "node-a")?.spec?.["unschedulable"]).toBeUndefined()
  expect(api.evictions).toEqual([])
  await kit.screenshot(page, "node-manager-drain")
  await ConsoleTest.expectAccessible(kit, page, { settle: true })

  await wizard.getByRole("button", { name: "Cordon and drain node-a" }).click()
  await wizard.getByText("What the drain did on node-a").waitFor()
  await wizard.getByText("evicted", { exact: true }).waitFor()
  await wizard.getByText("hibernating", { exact: true }).waitFor()
  expect(api.get("nodes", "", "node-a")?.spec?.["unschedulable"]).toBe(true)
  expect(api.evictions.map((e) => [e.name, e.outcome])).toEqual([["web-1", "evicted"]])
  await kit.platform.eventually(async () => {
    const s = await kit.platform.http<{ state: string }>("GET", `/api/sessions/${sessionId}`, { token: admin })
    if (s.body.state !== "hibernated") throw new Error(`session ${s.body.state}`)
    return true
  }, 60_000)
  expect(errors).toEqual([])
}, 180_000)
