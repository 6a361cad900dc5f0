/**
 * The HTTP side of the api bench: setting up users and a template on a
 * server, and the three session routes timed per route with errors counted
 * (a non-2xx answer or a failed fetch), the first few kept for the report.
 */

export const ROUTES = ["POST /api/sessions", "GET /api/sessions", "DELETE /api/sessions/:id"] as const
export type Route = (typeof ROUTES)[number]

export const call = (base: string, method: string, path: string, token?: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) })
  })

/** `call` for set-up steps: a 503 (database briefly unavailable, e.g. out of connections) is retried a few times. */
const setupCall = async (base: string, method: string, path: string, token?: string, body?: unknown) => {
  for (let attempt = 1; ; attempt++) {
    const res = await call(base, method, path, token, body)
    if (res.status !== 503 || attempt === 5) return res
    await res.arrayBuffer()
    await sleep(1000 * attempt)
  }
}

const field = async (res: Response, name: string, what: string): Promise<string> => {
  const text = await res.text()
  if (!res.ok) throw new Error(`${what} answered ${res.status}: ${text.slice(0, 300)}`)
  const value = (JSON.parse(text) as Record<string, unknown>)[name]
  if (typeof value !== "string") throw new Error(`${what} answered without ${name}: ${text.slice(0, 300)}`)
  return value
}

export interface BenchUsers {
  readonly adminToken: string
  readonly templateId: string
  readonly tokens: ReadonlyArray<string>
  readonly userIds: ReadonlyArray<string>
}

export const USER_PASSWORD = "Bench-user-pass-7f3Kq9-zebra"

/** A template and `count` users (`bench-0`…), each logged in once. */
export const prepareUsers = async (base: string, adminPassword: string, count: number): Promise<BenchUsers> => {
  const login = (username: string, password: string) =>
    setupCall(base, "POST", "/api/auth/login", undefined, { username, password }).then((res) =>
      field(res, "accessToken", `login as ${username}`)
    )
  const admin = await login("admin", adminPassword)
  const templateId = await field(
    await setupCall(base, "POST", "/api/templates", admin, { name: "bench", displayName: "Bench", image: "bench:1" }),
    "id",
    "creating the template"
  )
  // Password hashing makes each user cost tens of milliseconds: a few at a time.
  const users: Array<readonly [id: string, token: string]> = []
  for (let first = 0; first < count; first += 4) {
    const batch = Array.from({ length: Math.min(4, count - first) }, async (_, k) => {
      const username = `bench-${first + k}`
      const id = await field(
        await setupCall(base, "POST", "/api/users", admin, { username, password: USER_PASSWORD }),
        "id",
        `creating ${username}`
      )
      return [id, await login(username, USER_PASSWORD)] as const
    })
    users.push(...(await Promise.all(batch)))
  }
  const userIds = users.map(([id]) => id)
  const tokens = users.map(([, token]) => token)
  return { adminToken: admin, templateId, tokens, userIds }
}

/** Latencies per route, request and error counts of one measured run. */
export class Recorder {
  readonly latencies = new Map<Route, Array<number>>()
  readonly firstErrors: Array<string> = []
  requests = 0
  errors = 0

  private failed(route: Route, detail: string) {
    this.errors++
    if (this.firstErrors.length < 3) this.firstErrors.push(`${route}: ${detail}`)
  }

  /** The answer's body when it succeeded, undefined (and an error counted) otherwise. */
  async timed(route: Route, run: () => Promise<Response>): Promise<string | undefined> {
    const start = performance.now()
    try {
      const res = await run()
      const text = await res.text()
      const ms = performance.now() - start
      this.requests++
      const list = this.latencies.get(route) ?? []
      list.push(ms)
      this.latencies.set(route, list)
      if (res.ok) return text
      this.failed(route, `${res.status} ${text.slice(0, 200)}`)
    } catch (e) {
      this.requests++
      this.failed(route, e instanceof Error ? e.message : String(e))
    }
    return undefined
  }

  merge(other: Recorder) {
    this.requests += other.requests
    this.errors += other.errors
    for (const e of other.firstErrors) if (this.firstErrors.length < 3) this.firstErrors.push(e)
    for (const [route, xs] of other.latencies) this.latencies.set(route, [...(this.latencies.get(route) ?? []), ...xs])
  }
}

export const percentile = (xs: ReadonlyArray<number>, q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN
}

export const median = (xs: ReadonlyArray<number>) => percentile(xs, 0.5)

/** The three session routes of one server, timed into a recorder. */
export const sessionRoutes = (base: string, templateId: string, recorder: Recorder) => ({
  create: async (token: string): Promise<string | undefined> => {
    const body = await recorder.timed("POST /api/sessions", () =>
      call(base, "POST", "/api/sessions", token, { templateId })
    )
    if (body === undefined) return undefined
    const id = (JSON.parse(body) as Record<string, unknown>)["id"]
    return typeof id === "string" ? id : undefined
  },
  list: (token: string) =>
    recorder.timed("GET /api/sessions", () => call(base, "GET", "/api/sessions?limit=20", token)),
  remove: (token: string, id: string) =>
    recorder.timed("DELETE /api/sessions/:id", () =>
      call(base, "DELETE", `/api/sessions/${encodeURIComponent(id)}`, token)
    )
})

/** Runs `step` in a loop per token until `seconds` pass; resolves with the elapsed seconds. */
export const forDuration = async (
  tokens: ReadonlyArray<string>,
  seconds: number,
  step: (token: string) => Promise<unknown>
): Promise<number> => {
  const started = performance.now()
  const deadline = started + seconds * 1000
  await Promise.all(
    tokens.map(async (token) => {
      while (performance.now() < deadline) await step(token)
    })
  )
  return (performance.now() - started) / 1000
}

/** The create → list → delete loop of one client. */
export const createListDelete =
  (routes: ReturnType<typeof sessionRoutes>) =>
  async (token: string): Promise<void> => {
    const id = await routes.create(token)
    await routes.list(token)
    if (id !== undefined) await routes.remove(token, id)
  }

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** How many sessions are pending (up to 500), by the admin's view of all sessions; 0 when the server will not say. */
export const pendingSessions = async (base: string, users: BenchUsers): Promise<number> => {
  const res = await call(base, "GET", "/api/sessions?state=pending&limit=500", users.adminToken)
  if (!res.ok) return 0
  return ((await res.json()) as { items?: ReadonlyArray<unknown> }).items?.length ?? 0
}
