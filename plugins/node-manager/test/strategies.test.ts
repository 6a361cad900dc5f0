/** Property tests of the placement strategies (pure functions, seeded randomness). */
import { describe, expect, test } from "bun:test"
import { Placement } from "@streamspace/plugin-node-manager"
import fc from "fast-check"

const node = (name: string, sessions = 0, usedCpu = 0): Placement.Candidate => ({
  name,
  hostname: name,
  labels: {},
  ready: true,
  health: "healthy",
  schedulable: true,
  repelled: false,
  sessions,
  allocatable: { cpuMillis: 8000, memoryBytes: 32 * 1024 ** 3 },
  requested: { cpuMillis: usedCpu, memoryBytes: 0 }
})
const req = { cpuMillis: 1000, memoryBytes: 1024 ** 3 }
const seeded = (seed: number) => {
  let s = seed
  return () => {
    s = (s + 0x6d2b79f5) | 0
    let t = Math.imul(s ^ (s >>> 15), 1 | s)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const base = { weights: {}, defaultWeight: 1, position: 0, rand: Math.random }

describe("placement strategies", () => {
  test("weighted: over 10,000 placements each node's share is its weight's share within 2.5 points", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 5 }),
        fc.integer(),
        (ws, seed) => {
          const nodes = ws.map((_, i) => node(`n${i}`))
          const weights = Object.fromEntries(ws.map((w, i) => [`n${i}`, w]))
          const rand = seeded(seed)
          const counts = new Map<string, number>()
          for (let i = 0; i < 10_000; i++) {
            const c = Placement.pick(nodes, req, { ...base, strategy: "weighted", weights, rand })!
            counts.set(c.name, (counts.get(c.name) ?? 0) + 1)
          }
          const total = ws.reduce((a, b) => a + b, 0)
          ws.forEach((w, i) => expect(Math.abs((counts.get(`n${i}`) ?? 0) / 10_000 - w / total)).toBeLessThan(0.025))
        }
      ),
      { numRuns: 30 }
    )
  })

  test("weighted: a node of weight 0 never gets a session", () => {
    const rand = seeded(7)
    for (let i = 0; i < 1000; i++)
      expect(
        Placement.pick([node("a"), node("b")], req, { ...base, strategy: "weighted", weights: { a: 0 }, rand })!.name
      ).toBe("b")
  })

  test("round-robin: positions from one shared cursor, taken by two replicas in any interleaving, are fair", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 7 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 300 }),
        (n, who) => {
          const nodes = Array.from({ length: n }, (_, i) => node(`n${i}`))
          const counts = new Map<string, number>()
          // The cursor is one row advanced atomically: whichever replica asks gets the next position.
          who.forEach((_, position) => {
            const c = Placement.pick(nodes, req, { ...base, strategy: "round-robin", position })!
            counts.set(c.name, (counts.get(c.name) ?? 0) + 1)
          })
          const values = nodes.map((x) => counts.get(x.name) ?? 0)
          expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1)
        }
      )
    )
  })

  test("least-sessions picks a node with the fewest sessions; most-resources the freest; bin-pack the fullest", () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ sessions: fc.nat(20), cpu: fc.nat(6000) }), { minLength: 1, maxLength: 8 }),
        (specs) => {
          const nodes = specs.map((x, i) => node(`n${i}`, x.sessions, x.cpu))
          const least = Placement.pick(nodes, req, { ...base, strategy: "least-sessions" })!
          expect(least.sessions).toBe(Math.min(...nodes.map((x) => x.sessions)))
          const most = Placement.pick(nodes, req, { ...base, strategy: "most-resources" })!
          expect(most.requested.cpuMillis).toBe(Math.min(...nodes.map((x) => x.requested.cpuMillis)))
          const pack = Placement.pick(nodes, req, { ...base, strategy: "bin-pack" })!
          expect(pack.requested.cpuMillis).toBe(Math.max(...nodes.map((x) => x.requested.cpuMillis)))
        }
      )
    )
  })

  test("filters: NotReady, unhealthy, cordoned, tainted, selector and thresholds exclude a node", () => {
    const t = { cpuPercent: 90, memoryPercent: 90, maxSessions: 3 }
    expect(Placement.excluded(node("a"), {}, t, req)).toBeUndefined()
    expect(Placement.excluded({ ...node("a"), ready: false }, {}, t, req)).toBe("NotReady")
    expect(Placement.excluded({ ...node("a"), health: "unhealthy" }, {}, t, req)).toContain("unhealthy")
    expect(Placement.excluded({ ...node("a"), schedulable: false }, {}, t, req)).toBe("cordoned")
    expect(Placement.excluded({ ...node("a"), repelled: true }, {}, t, req)).toBe("tainted")
    expect(Placement.excluded(node("a"), { pool: "gpu" }, t, req)).toContain("pool")
    expect(Placement.excluded(node("a", 3), {}, t, req)).toBe("at maxSessions")
    expect(Placement.excluded(node("a", 0, 7000), {}, t, req)).toContain("cpu")
  })
})
