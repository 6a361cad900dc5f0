/**
 * The legacy migration against a fixture database built from upstream's DDL
 * (api/internal/db/database.go: invoices, payment_methods, sessions with
 * Kubernetes quantities, and the billing_config the handler expected): a dry
 * run writes nothing, a real run maps every row (legacy ids kept), a second
 * run is a no-op; the counts are printed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import billing from "@streamspace/plugin-billing"
import { ServerDatabase, TestPlatform } from "@streamspace/testing"
import { SQL } from "bun"
import { mebibytes, migrate, millicores } from "../scripts/migrate-legacy.ts"

let legacyDb: ServerDatabase.ServerDatabase
let p: TestPlatform.TestPlatform
let target: string

const LEGACY_DDL = `
CREATE TABLE users (id VARCHAR(255) PRIMARY KEY, username VARCHAR(255) NOT NULL);
CREATE TABLE sessions (
  id VARCHAR(255) PRIMARY KEY, user_id VARCHAR(255) REFERENCES users(id) ON DELETE CASCADE,
  template_name VARCHAR(255), state VARCHAR(50), cpu VARCHAR(50), memory VARCHAR(50),
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, terminated_at TIMESTAMP);
CREATE TABLE invoices (
  id VARCHAR(255) PRIMARY KEY, user_id VARCHAR(255) REFERENCES users(id) ON DELETE CASCADE,
  invoice_number VARCHAR(100) NOT NULL UNIQUE, period_start TIMESTAMP NOT NULL, period_end TIMESTAMP NOT NULL,
  amount DECIMAL(10,2) NOT NULL, status VARCHAR(50) DEFAULT 'pending', created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP, paid_at TIMESTAMP);
CREATE INDEX idx_invoices_user_id ON invoices(user_id);
CREATE TABLE payment_methods (
  id VARCHAR(255) PRIMARY KEY, user_id VARCHAR(255) REFERENCES users(id) ON DELETE CASCADE,
  type VARCHAR(50) NOT NULL, last4 VARCHAR(4) NOT NULL, is_default BOOLEAN DEFAULT false, created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE billing_config (key VARCHAR(255) PRIMARY KEY, value TEXT, updated_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP);
INSERT INTO users VALUES ('u-1', 'ada'), ('u-2', 'grace');
INSERT INTO invoices VALUES
  ('inv_1700000000000000001', 'u-1', 'INV-u-1-202510', '2025-10-01', '2025-11-01', 12.34, 'pending', '2025-11-01 00:05', NULL),
  ('inv_1700000000000000002', 'u-2', 'INV-u-2-202510', '2025-10-01', '2025-11-01', 0.10, 'paid', '2025-11-01 00:05', '2025-11-03 09:00');
INSERT INTO payment_methods VALUES ('pm_1', 'u-1', 'visa', '4242', true, '2025-09-01'), ('pm_2', 'u-2', 'mastercard', '5555', false, '2025-09-02');
INSERT INTO sessions VALUES
  ('s-1', 'u-1', 'firefox', 'terminated', '1000m', '2Gi', '2025-11-05 10:00', '2025-11-05 13:00', '2025-11-05 12:30'),
  ('s-2', 'u-2', 'xterm', 'hibernated', '2', '512Mi', '2025-11-06 08:00', '2025-11-06 09:00', NULL),
  ('s-3', 'u-2', 'broken', 'running', 'lots', '1Gi', '2025-11-07 08:00', '2025-11-07 09:00', NULL);
INSERT INTO billing_config VALUES ('cpu_rate', '0.02'), ('memory_rate', '0.005'), ('storage_rate', '0.10');
`

beforeAll(async () => {
  legacyDb = await ServerDatabase.create()
  const legacy = new SQL(legacyDb.url)
  await legacy.unsafe(LEGACY_DDL)
  await legacy.close()
  p = await TestPlatform.make({ plugins: [billing], config: { plugins: { enabled: ["billing"] } } })
  const [db] = await p.query<{ name: string }>("SELECT current_database() AS name")
  const url = new URL(process.env["TEST_DATABASE_URL"]!)
  url.pathname = `/${db!.name}`
  target = url.toString()
}, 120_000)

afterAll(async () => {
  await p?.close()
  await legacyDb?.drop()
})

const counts = async () =>
  (
    await p.query<{ invoices: number; methods: number; usage: number; sessions: number; rules: number }>(
      `SELECT (SELECT count(*)::int FROM plugin_billing.invoices) AS invoices,
              (SELECT count(*)::int FROM plugin_billing.payment_methods) AS methods,
              (SELECT count(*)::int FROM plugin_billing.usage_records) AS usage,
              (SELECT count(*)::int FROM plugin_billing.meter_sessions) AS sessions,
              (SELECT count(*)::int FROM plugin_billing.price_rules) AS rules`
    )
  )[0]!

describe("billing legacy migration (postgres)", () => {
  test("Kubernetes quantities", () => {
    expect([millicores("1000m"), millicores("2"), millicores("0.5"), millicores("lots")]).toEqual([
      1000,
      2000,
      500,
      undefined
    ])
    expect([mebibytes("2Gi"), mebibytes("512Mi"), mebibytes("1048576"), mebibytes("x")]).toEqual([
      2048,
      512,
      1,
      undefined
    ])
  })

  test("dry run, real run, second run is a no-op; counts printed", async () => {
    const before = await counts()
    const printed: Array<string> = []
    const dry = await migrate({ from: legacyDb.url, to: target, dryRun: true, log: (l) => printed.push(l) })
    expect(await counts()).toEqual(before)
    expect(printed[0]).toContain("DRY RUN")
    const inserted = Object.fromEntries(dry.map((r) => [r.source, [r.found, r.inserted, r.skipped]]))
    expect(inserted).toEqual({
      invoices: [2, 2, 0],
      payment_methods: [2, 2, 0],
      // the config's base rates from the epoch were recorded when the plugin was enabled
      billing_config: [3, 0, 3],
      "sessions (usage backfill)": [3, 2, 1]
    })

    const real = await migrate({ from: legacyDb.url, to: target, dryRun: false, log: (l) => printed.push(l) })
    expect(real.map((r) => r.inserted)).toEqual(dry.map((r) => r.inserted))
    expect(printed.some((l) => /^invoices\s+2\s+2\s+0/.test(l))).toBe(true)
    const after = await counts()
    expect(after.invoices).toBe(before.invoices + 2)
    expect(after.methods).toBe(before.methods + 2)

    const again = await migrate({ from: legacyDb.url, to: target, dryRun: false, log: () => undefined })
    expect(again.map((r) => r.inserted)).toEqual([0, 0, 0, 0])
    expect(await counts()).toEqual(after)
  })

  test("rows are mapped as documented", async () => {
    const invoices = await p.query<{
      legacy_id: string
      number: string
      status: string
      total_minor: string
      due_at: Date
    }>(
      "SELECT legacy_id, number, status, total_minor::text AS total_minor, due_at FROM plugin_billing.invoices ORDER BY legacy_id"
    )
    expect(invoices.map((i) => [i.legacy_id, i.number, i.status, i.total_minor])).toEqual([
      ["inv_1700000000000000001", "INV-u-1-202510", "open", "1234"],
      ["inv_1700000000000000002", "INV-u-2-202510", "paid", "10"]
    ])
    const methods = await p.query<{
      provider: string
      token: string | null
      brand: string
      last4: string
      is_default: boolean
    }>("SELECT provider, token, brand, last4, is_default FROM plugin_billing.payment_methods ORDER BY legacy_id")
    expect(methods).toEqual([
      { provider: "legacy", token: null, brand: "visa", last4: "4242", is_default: true },
      { provider: "legacy", token: null, brand: "mastercard", last4: "5555", is_default: false }
    ])
    // s-1: 1 core and 2 GiB from 10:00 to 12:30 (terminated_at): 2.5 core-hours
    const [usage] = await p.query<{ cpu: string; memory: string }>(
      `SELECT sum(quantity) FILTER (WHERE resource = 'cpu')::text AS cpu, sum(quantity) FILTER (WHERE resource = 'memory')::text AS memory
       FROM plugin_billing.usage_records WHERE session_id = 'legacy:s-1'`
    )
    expect(usage).toEqual({ cpu: String(1000 * 2.5 * 3_600_000), memory: String(2048 * 2.5 * 3_600_000) })
    const admin = await p.login("admin", p.adminPassword)
    const listed = await p.http<{ items: Array<{ legacyId: string; total: string }> }>(
      "GET",
      "/api/plugins/billing/invoices?userId=u-1",
      { token: admin }
    )
    expect(listed.body.items.map((i) => [i.legacyId, i.total])).toEqual([["inv_1700000000000000001", "12.34"]])
  })
})
