/**
 * `bun run build:edition enterprise` makes one executable that boots on
 * PGlite, answers /readyz and carries its plugins. The build and the server
 * are waited on with deadlines sized for a busy machine (never fixed
 * sleeps), and the server runs under the kit's `ServerProcess`, so it is
 * stopped with this file even when an assertion fails.
 */
import { afterAll, expect, test } from "bun:test"
import { ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as EditionBuild from "./fixtures/EditionBuild.ts"

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-edition-"))
afterAll(async () => {
  await ServerProcess.stopAll()
  Fs.rmSync(dir, { recursive: true, force: true })
})

test("the enterprise edition compiles to one executable that serves", async () => {
  const outfile = Path.join(dir, "streamspace-enterprise")
  await EditionBuild.expectBuilt("enterprise", outfile)
  expect(Fs.existsSync(outfile)).toBe(true)
  const server = await ServerProcess.start(
    {
      STREAMSPACE_DATA_DIR: Path.join(dir, "data"),
      STREAMSPACE_ADMIN_PASSWORD: "edition-root-pw",
      STREAMSPACE_PLUGINS: "slack,email-smtp",
      DATABASE_URL: ""
    },
    { command: [outfile], cwd: dir }
  )
  expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
  // The edition's plugins are inside the executable (nodemailer included) and enabled on first boot.
  const token = await ServerProcess.login(server.url, "edition-root-pw")
  const plugins = (await (
    await fetch(`${server.url}/api/admin/plugins`, { headers: { authorization: `Bearer ${token}` } })
  ).json()) as { items: ReadonlyArray<{ id: string; status: string }> }
  expect(Object.fromEntries(plugins.items.map((i) => [i.id, i.status]))).toEqual({
    slack: "enabled",
    teams: "available",
    discord: "available",
    pagerduty: "available",
    "email-smtp": "enabled",
    calendar: "available",
    "multi-monitor": "available",
    billing: "available",
    compliance: "available",
    "node-manager": "available",
    "session-recorder": "available",
    workflows: "available"
  })
  expect(await server.stop("SIGINT")).toBe(0)
}, 300_000)
