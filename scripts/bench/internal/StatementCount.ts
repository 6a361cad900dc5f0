/**
 * Statements and transactions per request, route by route, for a server
 * whose database connections go through a `PgWireCounter`: the server's
 * idle rate is measured first; then each route runs alone (`perClient`
 * requests per client, all clients at once: creates, then lists, then deletes
 * of the created sessions) and the phase lasts until the background work the
 * requests triggered (orchestrator, outbox, webhook fan-out) has died down to
 * the idle rate again. What the phase counted, minus the idle rate over its
 * length, divided by its requests, is the figure.
 */
import { PgWireCounter } from "@streamspace/testing"
import { sleep, type BenchUsers, type Route, Recorder, sessionRoutes } from "./LoadClient.ts"

export interface Rate {
  readonly statements: number
  readonly transactions: number
}

export interface RouteCount {
  readonly route: Route
  readonly requests: number
  readonly errors: number
  readonly seconds: number
  /** Per request, net of the idle rate. */
  readonly perRequest: Rate
  /** Statement text → runs per request (idle work included). */
  readonly texts: ReadonlyArray<readonly [string, number]>
}

export interface CountResult {
  /** Per second while nothing is asked. */
  readonly idle: Rate
  readonly routes: ReadonlyArray<RouteCount>
}

const IDLE_SECONDS = 4
/** The simulated runtime starts a session 500 ms after it was asked to. */
const BACKGROUND_MIN_MS = 1500
const QUIET_WINDOW_MS = 500
const SETTLE_MAX_MS = 15_000

export const count = async (
  proxy: PgWireCounter.PgWireCounter,
  base: string,
  users: BenchUsers,
  perClient: number
): Promise<CountResult> => {
  await sleep(2000)
  const idleStart = proxy.snapshot()
  await sleep(IDLE_SECONDS * 1000)
  const idleDelta = PgWireCounter.between(idleStart, proxy.snapshot())
  const idle = {
    statements: idleDelta.statements / IDLE_SECONDS,
    transactions: idleDelta.transactions / IDLE_SECONDS
  }

  /** Waits at least `minMs`, then until a window runs no more statements than idle would (plus one). */
  const settle = async (minMs: number) => {
    await sleep(minMs)
    const deadline = performance.now() + SETTLE_MAX_MS
    while (performance.now() < deadline) {
      const before = proxy.snapshot().statements
      await sleep(QUIET_WINDOW_MS)
      if (proxy.snapshot().statements - before <= (idle.statements * QUIET_WINDOW_MS) / 1000 + 1) return
    }
  }

  const phase = async (route: Route, minMs: number, work: (recorder: Recorder) => Promise<unknown>) => {
    const recorder = new Recorder()
    const before = proxy.snapshot()
    const started = performance.now()
    await work(recorder)
    await settle(minMs)
    const seconds = (performance.now() - started) / 1000
    const delta = PgWireCounter.between(before, proxy.snapshot())
    const requests = recorder.requests
    return {
      route,
      requests,
      errors: recorder.errors,
      seconds,
      perRequest: {
        statements: (delta.statements - idle.statements * seconds) / requests,
        transactions: (delta.transactions - idle.transactions * seconds) / requests
      },
      texts: [...delta.byText].sort((a, b) => b[1] - a[1]).map(([text, n]) => [text, n / requests] as const)
    } satisfies RouteCount
  }

  const created = new Map<string, Array<string>>()
  const posts = await phase("POST /api/sessions", BACKGROUND_MIN_MS, (recorder) => {
    const routes = sessionRoutes(base, users.templateId, recorder)
    return Promise.all(
      users.tokens.map(async (token) => {
        const ids: Array<string> = []
        for (let i = 0; i < perClient; i++) {
          const id = await routes.create(token)
          if (id !== undefined) ids.push(id)
        }
        created.set(token, ids)
      })
    )
  })
  const lists = await phase("GET /api/sessions", 0, (recorder) => {
    const routes = sessionRoutes(base, users.templateId, recorder)
    return Promise.all(
      users.tokens.map(async (token) => {
        for (let i = 0; i < perClient; i++) await routes.list(token)
      })
    )
  })
  const deletes = await phase("DELETE /api/sessions/:id", BACKGROUND_MIN_MS, (recorder) => {
    const routes = sessionRoutes(base, users.templateId, recorder)
    return Promise.all(
      users.tokens.map(async (token) => {
        for (const id of created.get(token) ?? []) await routes.remove(token, id)
      })
    )
  })
  return { idle, routes: [posts, lists, deletes] }
}
