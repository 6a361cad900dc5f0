/**
 * The rest of the admin console in Chromium: groups and their members,
 * the read-only roles page, templates CRUD, a user's quota, and the list
 * of every session with its owner and the hibernate / end actions. axe on
 * each page.
 */
import { afterAll, afterEach, beforeAll, expect, test } from "bun:test"
import { definePlugin } from "@streamspace/kernel"
import { BrowserKit } from "@streamspace/testing"
import { Layer, Schema } from "effect"
import type { Page } from "playwright-core"
import * as ConsoleTest from "./fixtures/ConsoleTest.ts"

/** A plugin whose config has what the generated form must handle: an enum, an array, a nested object. */
const FormsConfig = Schema.Struct({
  mode: Schema.optionalWith(Schema.Literal("fast", "careful"), { default: () => "fast" as const }),
  tags: Schema.optionalWith(Schema.Array(Schema.String.pipe(Schema.minLength(2))), { default: () => [] }),
  server: Schema.optionalWith(
    Schema.Struct({
      host: Schema.String.pipe(Schema.minLength(1)),
      port: Schema.Int.pipe(Schema.between(1, 65535))
    }),
    { default: () => ({ host: "localhost", port: 8080 }) }
  )
})
const forms = definePlugin({
  id: "forms",
  name: "Forms",
  version: "1.0.0",
  type: "extension",
  category: "example",
  description: "A config with an enum, an array and a nested object",
  config: FormsConfig,
  layer: Layer.empty
})

let kit: BrowserKit.BrowserKit
let admin: string
let daveId: string
const { waitMs } = ConsoleTest

const api = <T>(method: string, path: string, body?: unknown, token = admin) =>
  ConsoleTest.request<T>(kit, method, path, token, body)

beforeAll(async () => {
  kit = await BrowserKit.start({ plugins: [forms], config: { sessions: { simulatedDelayMs: 200 } } })
  admin = await kit.platform.login("admin", kit.platform.adminPassword)
  daveId = await ConsoleTest.createUser(kit, admin, { username: "dave", password: "amber-kettle-Wq7rTz4-meadow" })
}, 180_000)
afterAll(() => kit?.close())

const pages = ConsoleTest.pageTracker(() => kit)
afterEach(() => pages.closeAll())
const loggedIn = (path: string) => pages.loggedIn(path)
const expectAccessible = (page: Page) => ConsoleTest.expectAccessible(kit, page)

test("groups: create, add a member by searching, remove the member, delete", async () => {
  const { page, errors } = await loggedIn("/admin/groups")
  await page.getByText("No groups yet.").waitFor()
  await page.getByRole("button", { name: "New group" }).click()
  const dialog = page.getByRole("dialog", { name: "New group" })
  await dialog.getByLabel("Name").fill("designers")
  await dialog.getByRole("button", { name: "Create group" }).click()
  await dialog.waitFor({ state: "hidden" })
  await page.getByRole("button", { name: "Members of designers" }).click()
  await page.getByRole("combobox", { name: "Add a user" }).fill("dav")
  await page.getByRole("option", { name: "dave" }).click()
  await page.getByRole("button", { name: "Add", exact: true }).click()
  const members = page.getByRole("table", { name: "Members of designers" })
  await members.getByRole("cell", { name: "dave", exact: true }).first().waitFor()
  await page.getByRole("table", { name: "Groups" }).getByRole("cell", { name: "1", exact: true }).waitFor()
  await expectAccessible(page)
  await page.getByRole("button", { name: "Remove dave" }).click()
  await page
    .getByRole("dialog", { name: "Remove dave from designers?" })
    .getByRole("button", { name: "Remove" })
    .click()
  await page.getByText("No members yet.").waitFor()
  await page.getByRole("button", { name: "Delete designers" }).click()
  await page.getByRole("dialog", { name: "Delete designers?" }).getByRole("button", { name: "Delete group" }).click()
  await page.getByText("No groups yet.").waitFor()
  expect((await api<{ items: ReadonlyArray<unknown> }>("GET", "/api/groups")).items).toEqual([])
  expect(errors).toEqual([])
}, 240_000)

test("roles: each role with its permissions, and every permission with its owner", async () => {
  const { page, errors } = await loggedIn("/admin/roles")
  await page.getByRole("heading", { name: "operator" }).waitFor()
  const permissions = page.getByRole("table", { name: "Permissions" })
  await permissions.getByRole("cell", { name: "plugins:admin" }).waitFor()
  await expectAccessible(page)
  expect(errors).toEqual([])
}, 240_000)

test("templates: create (server field error first), edit, delete", async () => {
  const { page, errors } = await loggedIn("/admin/templates")
  await page.getByText("The catalog is empty.").waitFor()
  await page.getByRole("button", { name: "New template" }).click()
  const dialog = page.getByRole("dialog", { name: "New template" })
  await dialog.getByLabel("Name (id in URLs)").fill("Not A Name!")
  await dialog.getByLabel("Display name").fill("Terminal")
  await dialog.getByLabel("Container image").fill("example/xterm:1")
  await dialog.getByRole("button", { name: "Create template" }).click()
  // The server's message for body.name, under the field the input points at.
  const nameError = dialog.getByText(/lowercase letters, digits/)
  await nameError.waitFor()
  expect(await dialog.getByLabel("Name (id in URLs)").getAttribute("aria-describedby")).toContain(
    (await nameError.getAttribute("id")) ?? "no id"
  )
  await dialog.getByLabel("Name (id in URLs)").fill("terminal")
  await dialog.getByRole("button", { name: "Create template" }).click()
  await dialog.waitFor({ state: "hidden" })
  const table = page.getByRole("table", { name: "Templates" })
  await table.getByText("example/xterm:1").waitFor()
  await expectAccessible(page)
  await page.getByRole("button", { name: "Edit Terminal" }).click()
  const edit = page.getByRole("dialog", { name: "Edit Terminal" })
  await edit.getByLabel("Display name").fill("XTerm")
  await edit.getByRole("button", { name: "Save" }).click()
  await edit.waitFor({ state: "hidden" })
  await table.getByText("XTerm", { exact: true }).waitFor()
  await page.getByRole("button", { name: "Delete XTerm" }).click()
  await page.getByRole("dialog", { name: "Delete XTerm?" }).getByRole("button", { name: "Delete template" }).click()
  await page.getByText("The catalog is empty.").waitFor()
  expect(errors).toEqual([])
}, 240_000)

test("quotas: a user's limits are set from the console (empty = no limit), with usage shown", async () => {
  const { page, errors } = await loggedIn("/admin/quotas")
  await page.getByRole("combobox", { name: "User" }).fill("dav")
  await page.getByRole("option", { name: "dave" }).click()
  await page.getByLabel("Sessions").fill("3")
  await page.getByLabel("Memory (MiB)").fill("abc")
  await page.getByRole("button", { name: "Save quota" }).click()
  const memoryError = page.locator(`#${await page.getByLabel("Memory (MiB)").getAttribute("id")}-error`)
  await memoryError.waitFor()
  await page.getByLabel("Memory (MiB)").fill("")
  await page.getByRole("button", { name: "Save quota" }).click()
  await page.getByText("Quota saved").waitFor()
  const quota = await api<{ quota: Record<string, number | null> }>("GET", `/api/quotas/users/${daveId}`)
  expect(quota.quota).toEqual({ maxSessions: 3, maxCpu: null, maxMemory: null, maxStorage: null })
  await page.getByText("In use: 0").first().waitFor()
  await expectAccessible(page)
  expect(errors).toEqual([])
}, 240_000)

test("all sessions: every user's sessions with their owner; hibernate and end from the console", async () => {
  const template = await api<{ id: string }>("POST", "/api/templates", {
    name: "desk",
    displayName: "Desk",
    image: "example/desk:1"
  })
  const dave = await kit.platform.login("dave", "amber-kettle-Wq7rTz4-meadow")
  const session = await api<{ id: string }>("POST", "/api/sessions", { templateId: template.id }, dave)
  await kit.platform.eventually(
    async () => (await api<{ state: string }>("GET", `/api/sessions/${session.id}`)).state === "running",
    waitMs
  )
  const { page, errors } = await loggedIn("/admin/sessions")
  const table = page.getByRole("table", { name: "Sessions" })
  await table.getByRole("cell", { name: "dave" }).waitFor()
  await expectAccessible(page)
  await table.getByRole("button", { name: "Hibernate" }).click()
  await kit.platform.eventually(
    async () => (await api<{ state: string }>("GET", `/api/sessions/${session.id}`)).state === "hibernated",
    waitMs
  )
  await page.getByRole("button", { name: "Refresh" }).click()
  await table.getByText("hibernated").waitFor()
  await page.getByRole("button", { name: `End session ${session.id}` }).click()
  await page.getByRole("dialog", { name: "End this session?" }).getByRole("button", { name: "End session" }).click()
  await kit.platform.eventually(
    async () => (await api<{ desired: string }>("GET", `/api/sessions/${session.id}`)).desired === "terminated",
    waitMs
  )
  await page.getByRole("combobox", { name: "State" }).click()
  await page.getByRole("option", { name: "running" }).click()
  await page.getByText("No sessions in state running.").waitFor()
  expect(errors).toEqual([])
}, 240_000)

test("the generated config form: enum as a select, arrays, nested objects, a nested field's server error", async () => {
  await api("POST", "/api/admin/plugins/forms/install")
  const { page, errors } = await loggedIn("/admin/plugins/forms")
  const port = page.getByLabel("Port")
  await port.waitFor()
  // Defaults from the schema, nested object inlined.
  expect(await port.inputValue()).toBe("8080")
  expect(await page.getByLabel("Host").inputValue()).toBe("localhost")
  // The enum is a select.
  await page.getByRole("combobox", { name: "Mode" }).click()
  await page.getByRole("option", { name: "careful" }).click()
  // An array item.
  await page.locator("#root_tags__add").click()
  await page.locator("#root_tags_0").fill("blue")
  // A nested field out of range: the server names body.server.port; the message sits under Port.
  await port.fill("70000")
  await page.getByRole("button", { name: "Save configuration" }).click()
  const portError = page.locator("#root_server_port-error")
  await portError.getByText(/between 1 and 65535/).waitFor()
  await port.fill("9090")
  await page.getByRole("button", { name: "Save configuration" }).click()
  await page.getByText("Configuration saved").waitFor()
  const stored = await api<{ value: unknown }>("GET", "/api/admin/plugins/forms/config")
  expect(stored.value).toEqual({ mode: "careful", tags: ["blue"], server: { host: "localhost", port: 9090 } })
  await expectAccessible(page)
  await kit.screenshot(page, "admin-plugin-config-nested")
  expect(errors).toEqual([])
}, 240_000)
