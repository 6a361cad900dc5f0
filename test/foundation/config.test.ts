import { describe, expect, test } from "bun:test"
import { ConfigSources } from "@streamspace/server"
import { Effect, Either, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const load = (env: Record<string, string>, cwd = Os.tmpdir()) =>
  Effect.runPromise(Effect.either(ConfigSources.load({ env, cwd })))

describe("config sources", () => {
  test("defaults apply with an empty environment", async () => {
    const result = await load({})
    if (Either.isLeft(result)) throw new Error(result.left.message)
    expect(result.right.port).toBe(8080)
    expect(result.right.dataDir).toBe("./data")
    expect(result.right.sessions.runtime).toBe("auto")
    expect(result.right.databaseUrl).toBeUndefined()
  })

  test("environment overrides and converts values", async () => {
    const result = await load({
      PORT: "9000",
      DATABASE_URL: "postgres://u:p@h/db",
      STREAMSPACE_PLUGINS: "slack, billing"
    })
    if (Either.isLeft(result)) throw new Error(result.left.message)
    expect(result.right.port).toBe(9000)
    expect(Redacted.value(result.right.databaseUrl!)).toBe("postgres://u:p@h/db")
    expect(result.right.plugins.enabled).toEqual(["slack", "billing"])
  })

  test("retry and retention settings come from the environment, and a config file's other keys in those sections survive", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-cfg-"))
    Fs.writeFileSync(
      Path.join(dir, "streamspace.config.json"),
      JSON.stringify({ webhooks: { backoffBaseMs: 500 }, retention: { intervalMinutes: 5 } })
    )
    const result = await load(
      {
        STREAMSPACE_WEBHOOK_MAX_ATTEMPTS: "3",
        STREAMSPACE_INTEGRATION_MAX_ATTEMPTS: "12",
        STREAMSPACE_RETENTION_DAYS: "7",
        STREAMSPACE_AUDIT_RETENTION_DAYS: "365"
      },
      dir
    )
    const bad = await load({ STREAMSPACE_RETENTION_DAYS: "0" })
    Fs.rmSync(dir, { recursive: true })
    if (Either.isLeft(result)) throw new Error(result.left.message)
    expect(result.right.webhooks).toMatchObject({ maxAttempts: 3, backoffBaseMs: 500 })
    expect(result.right.integrations.maxAttempts).toBe(12)
    expect(result.right.retention).toEqual({ days: 7, auditDays: 365, intervalMinutes: 5 })
    if (Either.isRight(bad)) throw new Error("expected a config error")
    expect(bad.left.problems).toEqual([expect.stringContaining("STREAMSPACE_RETENTION_DAYS")])
  })

  test("a bad PORT gives one line naming PORT, the expectation and the given value", async () => {
    const result = await load({ PORT: "abc" })
    if (Either.isRight(result)) throw new Error("expected a config error")
    expect(result.left.problems).toHaveLength(1)
    expect(result.left.problems[0]).toContain("PORT")
    expect(result.left.problems[0]).toContain("port")
    expect(result.left.problems[0]).toContain('"abc"')
  })

  test("every problem is reported, one line each", async () => {
    const result = await load({ PORT: "70000", SESSION_RUNTIME: "docker", STREAMSPACE_LOG_LEVEL: "loud" })
    if (Either.isRight(result)) throw new Error("expected a config error")
    expect(result.left.problems).toHaveLength(3)
    expect(result.left.problems.join("\n")).toMatch(/PORT[\s\S]*SESSION_RUNTIME|SESSION_RUNTIME[\s\S]*PORT/)
  })

  test("a config file is read and the environment wins over it", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-config-"))
    Fs.writeFileSync(
      Path.join(dir, "streamspace.config.yaml"),
      "port: 7000\nhost: 0.0.0.0\nsessions:\n  idleTimeoutSeconds: 60\n"
    )
    const fromFile = await load({}, dir)
    const overridden = await load({ PORT: "7001" }, dir)
    Fs.rmSync(dir, { recursive: true })
    if (Either.isLeft(fromFile) || Either.isLeft(overridden)) throw new Error("unexpected config error")
    expect(fromFile.right.port).toBe(7000)
    expect(fromFile.right.host).toBe("0.0.0.0")
    expect(fromFile.right.sessions.idleTimeoutSeconds).toBe(60)
    expect(overridden.right.port).toBe(7001)
  })

  test("unknown keys in a config file are errors naming the key and the file", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ss-config-"))
    Fs.writeFileSync(Path.join(dir, "streamspace.config.json"), JSON.stringify({ prot: 1 }))
    const result = await load({}, dir)
    Fs.rmSync(dir, { recursive: true })
    if (Either.isRight(result)) throw new Error("expected a config error")
    expect(result.left.problems[0]).toContain("prot")
    expect(result.left.problems[0]).toContain("streamspace.config.json")
  })

  test("the README documents every environment variable", () => {
    const readme = Fs.readFileSync(Path.join(import.meta.dir, "../../README.md"), "utf8")
    const missing = ConfigSources.envBindings.filter((b) => !readme.includes(`\`${b.env}\``)).map((b) => b.env)
    expect(missing).toEqual([])
  })
})
