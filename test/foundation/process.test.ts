import { afterAll, describe, expect, test } from "bun:test"
import { ServerProcess } from "@streamspace/testing"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

// The real `bun start` process on embedded PGlite: start-up, readiness,
// signals, restart on the same data directory, and bad config.
const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-process-"))
afterAll(() => Fs.rmSync(dataDir, { recursive: true, force: true }))

describe("bun start on PGlite", () => {
  test("first boot says it creates the database, migrates, serves, is ready, and exits 0 on SIGINT", async () => {
    const server = await ServerProcess.start({
      STREAMSPACE_DATA_DIR: dataDir,
      DATABASE_URL: undefined,
      STREAMSPACE_ADMIN_PASSWORD: undefined
    })
    const ready = await fetch(`${server.url}/readyz`)
    expect(ready.status).toBe(200)
    const health = await fetch(`${server.url}/healthz`)
    expect(await health.json()).toEqual({ status: "ok" })
    expect(server.output()).toMatch(/creating the embedded database in .*first start only/)
    expect(server.output()).toMatch(/applied \d+ core migration/)
    expect(await server.stop("SIGINT")).toBe(0)
  }, 60_000)

  test("a second boot reuses the data directory and applies no migration twice", async () => {
    const server = await ServerProcess.start({ STREAMSPACE_DATA_DIR: dataDir, DATABASE_URL: undefined })
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200)
    expect(server.output()).not.toMatch(/applied \d+ core migration|creating the embedded database/)
    expect(await server.stop("SIGTERM")).toBe(0)
  }, 60_000)

  test("PORT=abc exits 2 with one line naming PORT", async () => {
    const result = await ServerProcess.run({ PORT: "abc", STREAMSPACE_DATA_DIR: dataDir })
    expect(result.exitCode).toBe(2)
    const lines = result.stderr.trim().split("\n")
    expect(lines).toHaveLength(1)
    expect(lines[0]).toContain("PORT")
  }, 60_000)
})
