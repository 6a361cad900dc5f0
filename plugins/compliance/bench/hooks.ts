/**
 * What the plugin's hooks add, p50 and p95 over 500 calls each, with 50
 * policies and 30 custom patterns (issue 14's bar: < 2 ms p50 for the
 * sign-in and upload hooks). Run: `bun plugins/compliance/bench/hooks.ts`
 * (PGlite; TEST_DATABASE_URL for PostgreSQL). The upload figure is the
 * content hook over a 64 KiB text file (sniffing, 11 built-ins, 30 custom
 * patterns in the worker). `scripts/bench/compliance.ts` re-exporting `run` makes it
 * `bun run bench compliance` (scripts/bench is the lead's).
 */
import { HookRunner } from "@streamspace/core"
import compliance from "@streamspace/plugin-compliance"
import { TestPlatform } from "@streamspace/testing"
import { Effect } from "effect"

export const run = async () => {
  const p = await TestPlatform.make({ plugins: [compliance], config: { plugins: { enabled: ["compliance"] } } })
  const admin = await p.login("admin", p.adminPassword)
  const post = async (path: string, body: unknown) => {
    const res = await p.http("POST", `/api/plugins/compliance${path}`, { token: admin, body })
    if (res.status >= 300) throw new Error(`${path}: ${res.status} ${res.text}`)
  }
  const user = (
    await p.http<{ id: string }>("POST", "/api/users", {
      token: admin,
      body: { username: "bench", password: "quiet-lantern-orbit-7" }
    })
  ).body.id
  for (let i = 0; i < 30; i++)
    await post("/dlp/patterns", { id: `custom-code-${i}`, name: `code ${i}`, source: `C${i}-[0-9]{4,8}` })
  for (let i = 0; i < 50; i++) {
    const login = i % 2 === 0
    await post("/policies", {
      name: `policy-${i}`,
      enforcement: i % 3 === 0 ? "advisory" : "warning",
      priority: i,
      appliesTo: i % 5 === 0 ? { groups: [`team-${i}`] } : { all: true },
      rules: login
        ? { login: { allowedIpRanges: ["0.0.0.0/0", "::/0"], allowedHours: { from: "00:00", to: "23:59" } } }
        : {
            files: {
              maxBytes: 10_000_000,
              denyTypes: ["exe"],
              inspect: {
                patterns: ["credit-card", "us-ssn", `custom-code-${i % 30}`, `custom-code-${(i + 7) % 30}`],
                action: "log"
              }
            }
          }
    })
  }
  const text = new TextEncoder().encode(
    "lorem ipsum dolor sit amet, consectetur adipiscing elit 12345\n".repeat(1100).slice(0, 65_536)
  )

  const measure = async (name: string, run: Effect.Effect<unknown, unknown, HookRunner.HookRunner>, bar?: number) => {
    for (let i = 0; i < 50; i++) await p.run(run)
    const times: Array<number> = []
    for (let i = 0; i < 500; i++) {
      const t = performance.now()
      await p.run(run)
      times.push(performance.now() - t)
    }
    times.sort((a, b) => a - b)
    const p50 = times[250]!
    const verdict = bar === undefined ? "" : p50 < bar ? ` (met: < ${bar} ms)` : ` (NOT met: < ${bar} ms)`
    console.log(`${name}: p50 ${p50.toFixed(3)} ms, p95 ${times[475]!.toFixed(3)} ms${verdict}`)
  }
  const hook = <P extends HookRunner.HookPoint>(point: P, input: HookRunner.HookInputs[P]) =>
    Effect.flatMap(HookRunner.HookRunner, (h) => h.run(point, input))

  // The floor: a hook point the plugin does not intercept, through the same p.run path.
  await measure(
    "baseline (session.placement, no handler)",
    hook("session.placement", { sessionId: "s", userId: user, cpu: 1, memory: 1, nodeSelector: {} })
  )
  await measure(
    "user.beforeLogin (50 policies)",
    hook("user.beforeLogin", { userId: user, username: "bench", ip: "10.1.2.3", mfa: true }),
    2
  )
  await measure(
    "file.inspectUpload (64 KiB text, 50 policies, 30 custom patterns)",
    hook("file.inspectUpload", {
      userId: user,
      ownerId: user,
      sessionId: null,
      fileId: crypto.randomUUID(),
      name: "notes.txt",
      size: text.length,
      contentType: "text/plain",
      sha256: "",
      head: () => Effect.succeed(text)
    }),
    2
  )
  await measure(
    "file.beforeUpload (metadata)",
    hook("file.beforeUpload", { userId: user, sessionId: null, name: "n.txt", size: 100, contentType: "text/plain" })
  )
  await p.close()
}

if (import.meta.main) await run()
