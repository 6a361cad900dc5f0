/**
 * Which session runtime runs: `auto` (the default) is `local` with Xvnc on
 * the PATH and `simulated` without it (then `GET /api/platform` carries the
 * command that installs real desktops); `local` without Xvnc refuses to
 * start, naming that command — in the test kit and in a real `bun start`.
 *
 * The PATH of this process is narrowed while a platform is built, then
 * restored: tests of one file run one after another.
 */
import { afterAll, afterEach, describe, expect, test } from "bun:test"
import { LocalRuntime, ServerConfig, SessionRuntimeLive } from "@streamspace/core"
import { ConfigSources } from "@streamspace/server"
import { ServerDatabase, ServerProcess, TestPlatform } from "@streamspace/testing"
import { Effect, Either } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const xvnc = Bun.which("Xvnc")
const originalPath = process.env["PATH"]
/** A PATH with bun and nothing else: no Xvnc on it. */
const binDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamspace-bin-"))
Fs.symlinkSync(process.execPath, Path.join(binDir, "bun"))
const pathWithoutXvnc = binDir

afterEach(() => {
  process.env["PATH"] = originalPath
})
afterAll(() => Fs.rmSync(binDir, { recursive: true, force: true }))

/** Builds a platform with `PATH` in force while it starts. */
const platformWith = async (path: string | undefined, runtime: "auto" | "local") => {
  process.env["PATH"] = path
  try {
    return await TestPlatform.make({ config: { sessions: { runtime } } })
  } finally {
    process.env["PATH"] = originalPath
  }
}

const platformInfo = async (p: TestPlatform.TestPlatform) => {
  const token = await p.login("admin", p.adminPassword)
  const res = await p.http<Record<string, unknown>>("GET", "/api/platform", { token })
  expect(res.status).toBe(200)
  return res.body
}

describe(`session runtime selection (${TestPlatform.engine()})`, () => {
  test("auto is the default, and SESSION_RUNTIME sets local", async () => {
    expect(ServerConfig.make({}).sessions.runtime).toBe("auto")
    const loaded = await Effect.runPromise(
      Effect.either(ConfigSources.load({ env: { SESSION_RUNTIME: "local" }, cwd: Os.tmpdir() }))
    )
    if (Either.isLeft(loaded)) throw new Error(loaded.left.message)
    expect(loaded.right.sessions.runtime).toBe("local")
    const bad = await Effect.runPromise(
      Effect.either(ConfigSources.load({ env: { SESSION_RUNTIME: "docker" }, cwd: Os.tmpdir() }))
    )
    expect(Either.isLeft(bad)).toBe(true)
  })

  test("the rules: auto follows Xvnc, local needs it, the others are taken as configured", () => {
    expect(Either.getOrThrow(SessionRuntimeLive.select("auto", "/usr/bin/Xvnc"))).toMatchObject({
      kind: "local",
      installHint: undefined
    })
    expect(Either.getOrThrow(SessionRuntimeLive.select("auto", null))).toMatchObject({
      kind: "simulated",
      installHint: "apt-get install tigervnc-standalone-server xterm"
    })
    expect(Either.getOrThrow(SessionRuntimeLive.select("simulated", "/usr/bin/Xvnc"))).toMatchObject({
      kind: "simulated",
      installHint: undefined
    })
    const refused = SessionRuntimeLive.select("local", null)
    expect(Either.isLeft(refused) && refused.left.message).toContain(LocalRuntime.installHint)
  })

  test("auto with Xvnc on the PATH runs sessions on the local runtime", async () => {
    expect(xvnc).not.toBeNull()
    const p = await platformWith(originalPath, "auto")
    try {
      expect(await platformInfo(p)).toMatchObject({ runtime: "local" })
      expect((await platformInfo(p))["installHint"]).toBeUndefined()
    } finally {
      await p.close()
    }
  })

  test("auto without Xvnc simulates sessions and says how to get real ones", async () => {
    expect(Bun.which("Xvnc", { PATH: pathWithoutXvnc })).toBeNull()
    const p = await platformWith(pathWithoutXvnc, "auto")
    try {
      expect(await platformInfo(p)).toMatchObject({
        runtime: "simulated",
        installHint: "apt-get install tigervnc-standalone-server xterm"
      })
    } finally {
      await p.close()
    }
  })

  test("local without Xvnc refuses to start, naming what to install", async () => {
    const failed = await platformWith(pathWithoutXvnc, "local").then(
      async (p) => {
        await p.close()
        return "started"
      },
      (e: unknown) => (e instanceof Error ? e.message : String(e))
    )
    expect(failed).toContain("Xvnc is not on the PATH")
    expect(failed).toContain("apt-get install tigervnc-standalone-server xterm")
  })

  // The runtime is chosen after the database is ready: on a busy machine a first PGlite start takes a while.
  test("bun start with SESSION_RUNTIME=local and no Xvnc exits with that message", async () => {
    const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "streamspace-no-xvnc-"))
    const database = TestPlatform.engine() === "postgres" ? await ServerDatabase.create() : undefined
    try {
      const result = await ServerProcess.run(
        {
          PATH: pathWithoutXvnc,
          SESSION_RUNTIME: "local",
          STREAMSPACE_DATA_DIR: dataDir,
          DATABASE_URL: database?.url
        },
        120_000
      )
      expect(result.stderr).toContain("Xvnc is not on the PATH")
      expect(result.stderr).toContain("apt-get install tigervnc-standalone-server xterm")
      expect(result.exitCode).toBe(1)
    } finally {
      await database?.drop()
      Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }, 150_000)
})
