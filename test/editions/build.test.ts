/** `bun run build:edition enterprise` makes one executable that boots on PGlite, answers /readyz and carries its plugins. */
import { afterAll, expect, test } from "bun:test"
import { ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-edition-"))
afterAll(() => Fs.rmSync(dir, { recursive: true, force: true }))

test("the enterprise edition compiles to one executable that serves", async () => {
  const outfile = Path.join(dir, "streamspace-enterprise")
  const build = Bun.spawnSync(["bun", "run", "build:edition", "enterprise", "--outfile", outfile], { cwd: Path.join(import.meta.dir, "../.."), stdout: "pipe", stderr: "pipe" })
  expect(build.exitCode).toBe(0)
  expect(Fs.existsSync(outfile)).toBe(true)
  const proc = Bun.spawn([outfile], {
    cwd: dir,
    env: { ...process.env, PORT: "0", STREAMSPACE_DATA_DIR: Path.join(dir, "data"), STREAMSPACE_ADMIN_PASSWORD: "edition-admin-pw", STREAMSPACE_PLUGINS: "slack,email-smtp", DATABASE_URL: "", STREAMSPACE_LOG_FORMAT: "json" },
    stdout: "pipe",
    stderr: "pipe"
  })
  let out = ""
  const reader = (async () => {
    for await (const chunk of proc.stdout) out += new TextDecoder().decode(chunk)
  })()
  const deadline = Date.now() + 45_000
  let url: string | undefined
  while (!url && Date.now() < deadline && proc.exitCode === null) {
    url = /listening on (http:\/\/\S+)/.exec(out)?.[1]
    await Bun.sleep(50)
  }
  expect(url).toBeString()
  expect((await fetch(`${url}/readyz`)).status).toBe(200)
  // The edition's plugins are inside the executable (nodemailer included) and enabled on first boot.
  const token = await ServerProcess.login(url!, "edition-admin-pw")
  const plugins = (await (await fetch(`${url}/api/admin/plugins`, { headers: { authorization: `Bearer ${token}` } })).json()) as { items: ReadonlyArray<{ id: string; status: string }> }
  expect(Object.fromEntries(plugins.items.map((i) => [i.id, i.status]))).toEqual({ slack: "enabled", teams: "available", discord: "available", pagerduty: "available", "email-smtp": "enabled" })
  proc.kill("SIGINT")
  expect(await proc.exited).toBe(0)
  await reader
}, 120_000)
