/** Config validation (ServerConfig): defaults fill what is absent; invalid values are refused naming the key. */
import { describe, expect, test } from "bun:test"
import { ServerConfig } from "@streamspace/core"
import { Redacted } from "effect"

describe("server config", () => {
  test("an empty config is the documented defaults", () => {
    const config = ServerConfig.make()
    expect(config).toMatchObject({
      host: "127.0.0.1",
      port: 8080,
      dataDir: "./data",
      rateLimit: true,
      shutdownTimeoutMs: 10_000
    })
    expect(config.sessions).toMatchObject({ runtime: "auto", idleTimeoutSeconds: 1800, startTimeoutSeconds: 300 })
    expect(config.webhooks).toEqual({ maxAttempts: 8, backoffBaseMs: 2000, timeoutMs: 10_000 })
    expect(config.retention).toEqual({ days: 30, intervalMinutes: 60 })
    expect(config.auth).toMatchObject({ accessTokenTtlSeconds: 900, maxFailedLogins: 5, failedLoginWindowSeconds: 900 })
  })

  test("nested sections fill their own defaults around what is given", () => {
    const config = ServerConfig.make({ sessions: { idleTimeoutSeconds: 60, kubernetes: { namespace: "desk" } } })
    expect(config.sessions.idleTimeoutSeconds).toBe(60)
    expect(config.sessions.startTimeoutSeconds).toBe(300)
    expect(config.sessions.kubernetes).toMatchObject({ namespace: "desk", homeSize: "5Gi", resyncSeconds: 300 })
  })

  test("secrets are redacted values, never plain strings", () => {
    const config = ServerConfig.make({ databaseUrl: "postgres://u:secret@db/x" })
    expect(String(config.databaseUrl)).not.toContain("secret")
    expect(config.databaseUrl && Redacted.value(config.databaseUrl)).toBe("postgres://u:secret@db/x")
  })

  test("out-of-range and mistyped values are refused with the key's own message", () => {
    expect(() => ServerConfig.make({ port: 70000 })).toThrow("expected an integer port between 0 and 65535")
    expect(() => ServerConfig.make({ webhooks: { maxAttempts: 0 } })).toThrow("expected a positive integer")
    expect(() => ServerConfig.make({ sessions: { runtime: "docker" as "simulated" } })).toThrow()
    expect(() => ServerConfig.make({ auth: { jwtSecret: "" } })).toThrow()
  })
})
