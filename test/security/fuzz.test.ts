/**
 * The API under malformed input, operation by operation, as an attacker
 * would walk it. Every operation of `/api/openapi.json` (core, the VNC
 * WebSocket's upgrade and the bundled `hello` plugin) gets, one change at a
 * time (`FuzzCases`): wrong types, missing and unknown fields, NUL, 1 MB and
 * 4-byte-character strings, 10 000-level nesting, integer overflows, bad
 * cursors and dates, wrong content types, invalid JSON, malformed path
 * segments and query values, taken names, odd headers (X-Forwarded-For with
 * 127.0.0.1 as a trusted proxy, request ids, authorization syntax) — as the
 * admin (so authorization hides no handler bug), a sample as anonymous, as
 * a plain user and with a scoped API key, and the self-service routes in
 * full as the plain user on its own account, keys and session. Around the
 * operations: undeclared methods and unknown paths, raw request lines over a
 * socket, and the VNC WebSocket (malformed tickets, ids and bearers; RFB
 * garbage after a valid ticket).
 *
 * Asserted: no 5xx (nor a 1011/45xx close); every refusal is a problem
 * document (`status`, `code`, `detail`, `errors[]` naming the field a
 * validation refused, under 16 KiB); input no server may accept is refused;
 * a refused request changes no row of the main tables (counted by triggers
 * in the test database); the server is still ready afterwards. A property
 * layer (Effect's fast-check, fixed seed, bounded runs) draws bodies from the
 * create/update Schemas (`Arbitrary`), mutates them with any JSON, and sends
 * any query values, cursors, path ids and file names.
 *
 * Prints `fuzz: N operations, M requests, K × 5xx`, progress every 25
 * operations, the answers by actor and status, what was reached only by a
 * targeted variant, and each finding grouped by cause (the error the server
 * logged for the request, found by its request id) with the operations hit.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test"
import { IdentityModel, SessionModel, TemplateModel } from "@streamspace/core"
import hello from "@streamspace/plugin-hello"
import { TestPlatform } from "@streamspace/testing"
// Effect's own fast-check: `Arbitrary.make` returns its arbitraries.
import { Arbitrary, FastCheck as fc, type Schema } from "effect"
import { casesFor, type FuzzCase, sampleOf } from "./FuzzCases.ts"
import {
  bodyOf,
  changedBetween,
  changesOf,
  countsOf,
  type Fixtures,
  Findings,
  makeFixtures,
  makeLogCapture,
  pathParamsOf,
  type Sent,
  send,
  strongPassword,
  takenNamesOf,
  violationOf,
  watchChanges
} from "./FuzzHarness.ts"
import { type OpenApiDocument, type Operation, operationsOf } from "./FuzzOperations.ts"

const capture = makeLogCapture()
let p: TestPlatform.TestPlatform
let f: Fixtures
let operations: ReadonlyArray<Operation>
let baseUrl: string

const serverErrors = new Findings()
const badRefusals = new Findings()
const accepted = new Findings()
const stateChanges = new Findings()
/** Operations reached only through a targeted variant, or not at all, with the reason. */
const notes: Array<string> = []
/** What Bun's HTTP parser answered to the raw requests (printed, asserted only as `walkRawSocket` says). */
const transport: Array<string> = []
/** The close code of each WebSocket variant (printed). */
const wsOutcomes: Array<string> = []
let requests = 0
let fiveHundreds = 0
const exercised = new Set<string>()

beforeAll(async () => {
  p = await TestPlatform.make({
    listen: true,
    plugins: [hello],
    // The socket's peer is a trusted proxy, so X-Forwarded-For is parsed (and fuzzed).
    config: { plugins: { enabled: ["hello"] }, trustedProxies: ["127.0.0.1/32", "::1/128"] },
    layer: capture.layer
  })
  baseUrl = p.url!
  f = await makeFixtures(p)
  const doc = await p.http<OpenApiDocument>("GET", "/api/openapi.json")
  operations = operationsOf(doc.body)
  await watchChanges(p)
}, 60_000)
afterAll(() => p.close())

/** Answers by actor and status, to show what the batch reached (printed, and checked for the admin). */
const statuses = new Map<string, Map<number, number>>()
/** The admin's 401s outside /api/auth: a token that stopped working would hide every handler behind them. */
let adminUnauthorized = 0

const record = (op: string, c: FuzzCase, res: Sent, actor: string) => {
  requests++
  const byStatus = statuses.get(actor) ?? new Map<number, number>()
  byStatus.set(res.status, (byStatus.get(res.status) ?? 0) + 1)
  statuses.set(actor, byStatus)
  if (actor === "admin" && res.status === 401 && !op.startsWith("POST /api/auth/")) adminUnauthorized++
  const kind = actor === "admin" ? c.kind : `${actor}:${c.kind}`
  const violation = violationOf(c, res)
  if (violation === undefined) return
  const example = `${c.method} ${c.target.slice(0, 160)} → ${res.status} ${res.text.slice(0, 200)}`
  if (res.status >= 500) {
    fiveHundreds++
    serverErrors.add(op, kind, violation, example, res.requestId)
  } else if (res.status < 400) accepted.add(op, kind, violation, example, res.requestId)
  else badRefusals.add(op, kind, violation, example, res.requestId)
}

/**
 * The order operations are walked in: reads and creations first, then
 * everything that removes what later operations point at (deletes, deepest
 * path first; disabling and uninstalling the plugin), logout last of all.
 */
const phaseOf = (op: Operation): number => {
  if (op.key === "POST /api/auth/logout") return 4
  if (/^\/api\/admin\/plugins\/\{id\}$/.test(op.path) || op.path.endsWith("/disable")) return 3
  if (op.method === "DELETE") return 2
  return op.path.startsWith("/api/plugins/") ? 0 : 1
}
const ordered = () =>
  [...operations].sort(
    (a, b) =>
      phaseOf(a) - phaseOf(b) ||
      (phaseOf(a) === 2 ? b.path.split("/").length - a.path.split("/").length : 0) ||
      a.key.localeCompare(b.key)
  )

/** Bearer values that are not valid tokens, sent anonymously. */
const badBearers: ReadonlyArray<readonly [string, string]> = [
  ["bearer-garbage", "not-a-token"],
  ["bearer-jwt-shape", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."],
  ["bearer-huge", "t".repeat(8000)],
  ["bearer-api-key-shape", `ssk_${"0".repeat(40)}`]
]

/**
 * Headers a client controls that the edge parses: `X-Forwarded-For` (the
 * platform trusts 127.0.0.1 as a proxy here, so it is read), request ids,
 * and authorization syntax.
 */
const oddHeaders: ReadonlyArray<readonly [string, Record<string, string>]> = [
  ["xff-garbage", { "x-forwarded-for": "garbage, ::::::, 999.999.999.999" }],
  ["xff-huge", { "x-forwarded-for": Array.from({ length: 1000 }, (_, i) => `10.0.${i % 256}.1`).join(", ") }],
  ["xff-empty-hops", { "x-forwarded-for": ",,, , ," }],
  ["xff-ports-and-brackets", { "x-forwarded-for": "[::1]:80, 1.2.3.4:99999, [zz]:1, 1.2.3.4:" }],
  ["xff-mapped-v6", { "x-forwarded-for": "::ffff:127.0.0.1, ::ffff:999.1.1.1" }],
  ["request-id-huge", { "x-request-id": "r".repeat(4000) }],
  ["request-id-odd", { "x-request-id": "../../etc/passwd %00 <script>" }],
  ["authorization-empty-bearer", { authorization: "Bearer " }],
  ["authorization-basic", { authorization: "Basic YWRtaW46YWRtaW4=" }],
  ["authorization-dots", { authorization: "Bearer ..." }]
]

/** Who a full batch is sent as, and where its path parameters point. */
interface Walker {
  readonly actor: "admin" | "plain-own"
  readonly token: string
  readonly pathParams: (op: Operation) => Record<string, string>
}

const asAdmin = (): Walker => ({ actor: "admin", token: f.admin, pathParams: (op) => pathParamsOf(op, f) })

/**
 * The plain user on its own account, keys and session: the self-service
 * branches (own password and email, own keys, own session) that an admin's
 * requests never take.
 */
const asPlainOwner = (): Walker => ({
  actor: "plain-own",
  token: f.plain,
  pathParams: (op) => ({
    ...pathParamsOf(op, f),
    id: op.path.startsWith("/api/users/")
      ? f.ids.plainUser
      : op.path.startsWith("/api/api-keys/")
        ? f.ids.plainApiKey
        : op.path.startsWith("/api/sessions/")
          ? f.ids.plainSession
          : pathParamsOf(op, f)["id"]!,
    fileId: f.ids.plainFile
  })
})

/** The self-service surface the plain user walks in full. */
const isSelfService = (op: Operation) =>
  /^\/api\/(auth|users\/\{id\}|api-keys|sessions)(\/|$)/.test(op.path) && op.key !== "POST /api/auth/logout"

const walk = async (op: Operation, walker: Walker) => {
  const cases = casesFor(op, {
    pathParams: walker.pathParams(op),
    takenNames: takenNamesOf(op),
    ...bodyDefaults(op, walker)
  })
  const mutates = op.method !== "GET"
  // A refused login or MFA code may count the failure against the account.
  const allowed = op.path.startsWith("/api/auth/") ? ["users UPDATE"] : []
  let before = await changesOf(p)
  const countsBefore = await countsOf(p)
  let anyAccepted = false
  for (const c of cases) {
    const res = await send(baseUrl, c, walker.token)
    record(op.key, c, res, walker.actor)
    anyAccepted ||= res.status < 400
    if (!mutates) continue
    const after = await changesOf(p)
    if (res.status >= 400) {
      const changed = changedBetween(before, after).filter((k) => !allowed.includes(k))
      if (changed.length > 0)
        stateChanges.add(
          op.key,
          `${walker.actor}:${c.kind}`,
          `${res.status} but changed ${changed.join(", ")}`,
          c.target,
          res.requestId
        )
    }
    before = after
  }
  // The whole batch refused: the row counts of the main tables are what they were.
  if (!anyAccepted) {
    const counts = await countsOf(p)
    const changed = changedBetween(countsBefore, counts)
    if (changed.length > 0)
      stateChanges.add(op.key, `${walker.actor}:(batch)`, `row counts changed: ${changed.join(", ")}`, "", "")
  }
  if (walker.actor !== "admin") return
  for (const c of sampleOf(cases)) {
    record(op.key, c, await send(baseUrl, c, undefined), "anonymous")
    record(op.key, c, await send(baseUrl, c, f.plain), "plain")
    record(op.key, c, await send(baseUrl, c, f.scopedKey), "api-key")
  }
  // Two odd headers per operation, in turn (forwarding, request ids, authorization syntax), on the well-formed request.
  const first = cases.find((c) => c.kind === "baseline")
  if (first)
    for (const i of [0, 1]) {
      const [label, headers] = oddHeaders[(exercised.size * 2 + i) % oddHeaders.length]!
      const c = { ...first, kind: `header:${label}`, headers: { ...first.headers, ...headers } }
      const own = headers["authorization"] !== undefined
      record(op.key, c, await send(baseUrl, c, own ? undefined : f.admin), own ? "anonymous" : "admin")
    }
  // Two of the invalid bearers per operation, in turn: the authenticator is one code path for all.
  if (first)
    for (const i of [0, 1]) {
      const [label, bearer] = badBearers[(exercised.size * 2 + i) % badBearers.length]!
      record(op.key, { ...first, kind: label }, await send(baseUrl, first, bearer), "anonymous")
    }
  exercised.add(op.key)
}

const bodyDefaults = (op: Operation, walker: Walker) => {
  const body = bodyOf(op, f, walker.actor === "plain-own" ? "plain" : "admin")
  return body === undefined ? {} : { body }
}

interface WsOutcome {
  /** The close code, or -1 when the connection was still open after 5 s. */
  readonly code: number
  readonly reason: string
  readonly opened: boolean
}

/**
 * Opens the VNC WebSocket and waits for it to close. `then` runs once the
 * server's first frame (its RFB ProtocolVersion) arrived: what the client
 * sends next.
 */
const openVnc = (path: string, headers: Record<string, string> = {}, then?: (ws: WebSocket) => void) =>
  new Promise<WsOutcome>((resolve) => {
    // Bun's client takes headers (a browser's cannot): the Authorization variants need them.
    const ws = new WebSocket(baseUrl.replace(/^http/, "ws") + path, { headers })
    ws.binaryType = "arraybuffer"
    let opened = false
    let greeted = false
    const timer = setTimeout(() => {
      ws.close()
      resolve({ code: -1, reason: "still open after 5 s", opened })
    }, 5000)
    ws.onopen = () => void (opened = true)
    ws.onmessage = () => {
      if (greeted) return
      greeted = true
      then?.(ws)
    }
    ws.onclose = (e) => {
      clearTimeout(timer)
      resolve({ code: e.code, reason: e.reason, opened })
    }
  })

/** A single-use VNC ticket of the admin's for the fixture session (undefined where the route does not exist). */
const vncTicket = async (): Promise<string | undefined> => {
  const res = await p.http<{ ticket?: string }>("POST", `/api/sessions/${f.ids.session}/vnc-ticket`, {
    token: f.admin
  })
  return res.status === 200 || res.status === 201 ? res.body.ticket : undefined
}

/** Sends bytes over a fresh socket and returns what came back up to the end of the headers (or the close). */
const rawRequest = (request: Uint8Array) =>
  new Promise<string>((resolve) => {
    let answer = ""
    const done = () => resolve(answer)
    Bun.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(baseUrl).port),
      socket: {
        open: (s) => void s.write(request),
        data: (s, data) => {
          answer += new TextDecoder().decode(data)
          if (answer.includes("\r\n\r\n")) s.end()
        },
        close: done,
        error: done,
        connectError: done
      }
    }).catch(done)
    setTimeout(done, 5000)
  })

const statusOf = (answer: string) => Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1] ?? 0)
const isProblemAnswer = (answer: string) => /content-type: application\/problem\+json/i.test(answer)

/** The HTTP answer to a WebSocket upgrade the server refused before switching protocols (a 1006 on the client). */
const upgradeAnswer = (path: string, headers: Record<string, string>) =>
  rawRequest(
    new TextEncoder().encode(
      [
        `GET ${path} HTTP/1.1`,
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        "",
        ""
      ].join("\r\n")
    )
  )

/**
 * The WebSocket is no request/response operation: malformed ids, tickets
 * and bearers over a real WebSocket, each refusal's close code checked
 * (1011 and 45xx are the server's own failures, like a 5xx; a malformed
 * request left open is a finding). A valid ticket must connect, and RFB
 * garbage or a text frame after the server's greeting must close it with
 * a client-error code.
 */
const walkWebSocket = async () => {
  const key = "GET /api/sessions/{id}/vnc (WebSocket)"
  const session = encodeURIComponent(f.ids.session)
  const at = (id: string, query = "") => `/api/sessions/${id}/vnc${query}`
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` })
  const ticketed = async (id: string) => at(id, `?ticket=${encodeURIComponent((await vncTicket()) ?? "none")}`)
  type Variant = readonly [string, () => Promise<readonly [string, Record<string, string>]>]
  const variants: ReadonlyArray<Variant> = [
    ["no-credential", async () => [at(session), {}]],
    ["token-in-query", async () => [at(session, `?token=${f.admin}`), {}]],
    ["ticket-garbage", async () => [at(session, "?ticket=garbage"), {}]],
    ["ticket-nul", async () => [at(session, "?ticket=a%00b"), {}]],
    ["ticket-huge", async () => [at(session, `?ticket=${"t".repeat(8000)}`), {}]],
    ["ticket-malformed-escape", async () => [at(session, "?ticket=%zz"), {}]],
    ["ticket-repeated", async () => [at(session, "?ticket=a&ticket=b"), {}]],
    ["ticket-other-session", async () => [await ticketed("00000000-0000-4000-8000-000000000000"), {}]],
    ["ticket-id-nul", async () => [await ticketed("%00"), {}]],
    ["ticket-id-malformed-escape", async () => [await ticketed("%zz"), {}]],
    ["ticket-id-overlong", async () => [await ticketed("i".repeat(4096)), {}]],
    ["bearer-garbage", async () => [at(session), bearer("garbage")]],
    ["bearer-huge", async () => [at(session), bearer("t".repeat(8000))]],
    ["bearer-id-nul", async () => [at("%00"), bearer(f.admin)]],
    ["bearer-id-malformed-escape", async () => [at("%zz"), bearer(f.admin)]],
    ["bearer-id-unknown", async () => [at("00000000-0000-4000-8000-000000000000"), bearer(f.admin)]],
    ["bearer-plain-user-other-session", async () => [at(session), bearer(f.plain)]],
    ["bearer-scoped-key", async () => [at(session), bearer(f.scopedKey)]]
  ]
  const flag = (label: string, path: string, outcome: WsOutcome, findings = serverErrors) => {
    if (findings === serverErrors) fiveHundreds++
    findings.add(
      key,
      `ws:${label}`,
      `close ${outcome.code}`,
      `${path.slice(0, 120)} → ${outcome.code} ${outcome.reason}`,
      ""
    )
  }
  const serverFailure = (code: number) => code === 1011 || (code >= 4500 && code < 4600)
  for (const [label, make] of variants) {
    const [path, headers] = await make()
    const outcome = await openVnc(path, headers)
    requests++
    if (outcome.code === 1006 && !outcome.opened) {
      // Refused before the upgrade: the HTTP answer is what to check, like any other request's.
      const answer = await upgradeAnswer(path, headers)
      const status = statusOf(answer)
      wsOutcomes.push(`${label}: HTTP ${status} before the upgrade`)
      const example = `${path.slice(0, 120)} → HTTP ${answer.slice(0, 160).replace(/\r\n/g, " | ")}`
      if (status >= 500 || status === 0) {
        fiveHundreds++
        serverErrors.add(key, `ws:${label}`, `upgrade answered ${status}`, example, "")
      } else if (status >= 400 && !isProblemAnswer(answer))
        badRefusals.add(key, `ws:${label}`, `upgrade answered ${status}, not a problem document`, example, "")
      continue
    }
    wsOutcomes.push(`${label}: ${outcome.code} ${outcome.reason.slice(0, 80)}`)
    if (serverFailure(outcome.code)) flag(label, path, outcome)
    else if (outcome.code === -1) flag(label, path, outcome, badRefusals)
  }
  // A valid ticket connects; what the client then sends wrong ends it as the client's error.
  // The walk may have left the session hibernated: wake it first (a wake on connect would outlast the wait).
  await p.http("POST", `/api/sessions/${f.ids.session}/wake`, { token: f.admin })
  await p.eventually(async () => {
    const res = await p.http<{ state?: string }>("GET", `/api/sessions/${f.ids.session}`, { token: f.admin })
    return res.body.state === "running"
  })
  const ticket = await vncTicket()
  if (ticket !== undefined) {
    const garbage: ReadonlyArray<readonly [string, (ws: WebSocket) => void]> = [
      ["rfb-garbage-version", (ws) => ws.send(new TextEncoder().encode("GARBAGE!!!!\n"))],
      ["rfb-nul-bytes", (ws) => ws.send(new Uint8Array(64))],
      ["text-frame", (ws) => ws.send("RFB 003.008\n")]
    ]
    for (const [label, then] of garbage) {
      const path = at(session, `?ticket=${encodeURIComponent((await vncTicket()) ?? "")}`)
      const outcome = await openVnc(path, {}, then)
      requests++
      wsOutcomes.push(`${label}: ${outcome.code} ${outcome.reason.slice(0, 80)}`)
      if (!outcome.opened)
        badRefusals.add(key, `ws:${label}`, "a valid ticket did not connect", `${outcome.code} ${outcome.reason}`, "")
      if (serverFailure(outcome.code)) flag(label, path, outcome)
      else if (outcome.code === -1) flag(label, path, outcome, badRefusals)
    }
  }
  exercised.add(key)
}

/**
 * What lies between the operations: methods a path does not declare (HEAD,
 * OPTIONS, TRACE, a made-up one) on every path, and paths no route has
 * (unknown plugins and plugin routes, odd spellings of real paths). Each is
 * a 4xx problem document or a success, never a 5xx.
 */
const walkUnrouted = async () => {
  const key = "(undeclared methods and paths)"
  const paths = [...new Set(operations.map((op) => op.path))]
  const check = async (method: string, target: string, kind: string) => {
    const c: FuzzCase = { kind, method, target, headers: {}, mustReject: false }
    const res = await send(baseUrl, c, f.admin)
    // A HEAD answer has no body, and Bun's fetch drops a TRACE answer's: the content type is what there is to check.
    if (method === "HEAD" || method === "TRACE") {
      requests++
      if (res.status >= 500) {
        fiveHundreds++
        serverErrors.add(key, kind, `${res.status}`, `${method} ${target}`, res.requestId)
      } else if (res.status >= 400 && !res.contentType.startsWith("application/problem+json"))
        badRefusals.add(key, kind, `${res.status} not a problem document`, `${method} ${target}`, res.requestId)
      return
    }
    record(key, c, res, "admin")
  }
  for (const path of paths) {
    const declared = new Set(operations.filter((op) => op.path === path).map((op) => op.method))
    const target = path.replace(/\{(\w+)\}/g, (_, name: string) =>
      encodeURIComponent(pathParamsOf(operations.find((op) => op.path === path)!, f)[name] ?? "x")
    )
    for (const method of ["HEAD", "OPTIONS", "TRACE", "FUZZ", "PUT", "PATCH", "DELETE", "POST"]) {
      if (declared.has(method)) continue
      await check(method, target, `method:${method}`)
    }
  }
  const unrouted = [
    "/api/nope",
    "/api/plugins/nope/greetings",
    "/api/plugins/hello/nope",
    "/api/plugins/%00/greetings",
    "/api/plugins/hello/%00",
    "/api/plugins/%zz/x",
    "/api/plugins/hello",
    "/api/plugins/",
    "/api/%zz",
    "/api/users/%2e%2e/admin",
    "//api//users",
    "/api/users/",
    "/API/USERS",
    "/api/users;jsessionid=1",
    "/api/users/%2F",
    `/api/${"x/".repeat(500)}`
  ]
  for (const target of unrouted) {
    await check("GET", target, "path:unrouted")
    await check("POST", target, "path:unrouted")
  }
}

/**
 * Requests no fetch client would send: raw bytes in the request line, an
 * over-long URL, broken framing. Bun's HTTP parser answers most of these
 * before the app sees them, so only what the app can shape is asserted: no
 * 5xx (505 is the parser's refusal of an unparseable request line, not a
 * failure) and a problem document for a URL too long for the app but not
 * for Bun (414). The rest is printed.
 */
const walkRawSocket = async () => {
  const key = "(raw HTTP)"
  const latin1 = (text: string) => Uint8Array.from(text, (ch) => ch.charCodeAt(0))
  const variants: ReadonlyArray<readonly [string, string, "problem" | "any"]> = [
    ["nul-in-path", "GET /api/users/a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n", "any"],
    ["invalid-utf8-path", "GET /api/users/\u00ff\u00fe HTTP/1.1\r\nHost: x\r\n\r\n", "any"],
    // Past the app's URL limit (8 KiB) but within Bun's 16 KiB for the request head: the app's 414 problem.
    ["long-url-12k", `GET /api/users/${"u".repeat(12_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, "problem"],
    // Past Bun's limit: its parser's bare 431, which no handler sees (a process-wide CLI flag sets the limit).
    ["overlong-url-1m", `GET /api/users/${"u".repeat(1 << 20)} HTTP/1.1\r\nHost: x\r\n\r\n`, "any"],
    ["huge-header", `GET /api/auth/me HTTP/1.1\r\nHost: x\r\nX-Fuzz: ${"h".repeat(64_000)}\r\n\r\n`, "any"],
    [
      "bad-chunked",
      "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
      "any"
    ],
    [
      "content-length-and-chunked",
      "POST /api/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      "any"
    ],
    ["absolute-form", "GET http://evil.example/api/auth/me HTTP/1.1\r\nHost: x\r\n\r\n", "problem"],
    ["http-0.9", "GET /api/auth/me\r\n\r\n", "any"]
  ]
  for (const [label, request, expected] of variants) {
    const answer = await rawRequest(latin1(request))
    requests++
    const status = statusOf(answer)
    const head = answer.slice(0, 200).replace(/\r\n/g, " | ")
    transport.push(`${label}: ${status === 0 ? "no answer" : status} ${head.slice(0, 120)}`)
    if (status >= 500 && status !== 505) {
      fiveHundreds++
      serverErrors.add(key, `raw:${label}`, `${status}`, head, "")
    }
    if (expected === "problem" && status >= 400 && status < 500 && !isProblemAnswer(answer))
      badRefusals.add(key, `raw:${label}`, `${status} not a problem document`, head, "")
  }
}

/**
 * Arbitrary JSON (Effect's fast-check, fixed seed, bounded runs) at a few
 * create routes: values drawn from the route's own Schema (`Arbitrary`), the
 * same with one field replaced by any JSON value or any string (NUL, lone
 * surrogates, control characters), and any JSON at all. Every answer is a
 * 2xx or a 4xx problem document. Runs before the walk, which ends by
 * deleting what these routes need (the template, the plugin).
 */
describe(`fuzz: property-based bodies (${TestPlatform.engine()})`, () => {
  const seed = 21
  const check = async (path: string, body: unknown, method = "POST", token = f.admin) => {
    const c: FuzzCase = {
      kind: "property",
      method,
      target: path,
      headers: { "content-type": "application/json" },
      body: new TextEncoder().encode(JSON.stringify(body)),
      mustReject: false
    }
    const res = await send(baseUrl, c, token)
    const violation = violationOf(c, res)
    if (violation !== undefined)
      throw new Error(
        `${method} ${path} ${JSON.stringify(body).slice(0, 300)} → ${violation}: ${res.text.slice(0, 300)}`
      )
    return res.status
  }
  const jsonValue = fc.jsonValue({ maxDepth: 4 })
  const anyString = fc.string({ unit: "binary", maxLength: 40 })
  /** A body drawn from the schema, with one of its fields (or a new one) set to any JSON value or string. */
  const mutated = <A, I>(schema: Schema.Schema<A, I>, fixed: Record<string, unknown> = {}) =>
    fc
      .tuple(Arbitrary.make(schema), fc.string({ maxLength: 12 }), fc.oneof(jsonValue, anyString), fc.boolean())
      .map(([value, key, replacement, existing]) => {
        const body: Record<string, unknown> = { ...(value as Record<string, unknown>), ...fixed }
        const keys = Object.keys(body)
        body[existing && keys.length > 0 ? keys[key.length % keys.length]! : key] = replacement
        return body
      })
  /** Drawn from the schema, with some fields pinned to real ids so the handler gets past its lookups. */
  const pinned = <A, I>(schema: Schema.Schema<A, I>, fixed: () => Record<string, unknown>) =>
    Arbitrary.make(schema).map((value) => ({ ...(value as Record<string, unknown>), ...fixed() }))

  const routes: ReadonlyArray<readonly [string, string, number, () => fc.Arbitrary<unknown>]> = [
    ["create user (schema)", "/api/users", 25, () => Arbitrary.make(IdentityModel.CreateUser)],
    ["create user (mutated)", "/api/users", 25, () => mutated(IdentityModel.CreateUser)],
    [
      "create session (schema, real template)",
      "/api/sessions",
      40,
      () => pinned(SessionModel.CreateSession, () => ({ templateId: f.ids.template }))
    ],
    [
      "create session (mutated)",
      "/api/sessions",
      40,
      () => mutated(SessionModel.CreateSession, { templateId: f.ids.template })
    ],
    ["create template (schema)", "/api/templates", 40, () => Arbitrary.make(TemplateModel.CreateTemplate)],
    ["create template (mutated)", "/api/templates", 40, () => mutated(TemplateModel.CreateTemplate)],
    [
      "create webhook (fields)",
      "/api/webhooks",
      60,
      () =>
        fc.record({
          name: fc.oneof(anyString, jsonValue),
          url: fc.oneof(fc.webUrl(), anyString, jsonValue),
          eventTypes: fc.oneof(fc.array(fc.oneof(anyString, fc.constant("fuzz.never-happens"))), jsonValue),
          enabled: fc.constant(false)
        })
    ],
    [
      "create integration (config)",
      "/api/integrations",
      60,
      () =>
        fc.record({
          provider: fc.constantFrom("slack", "discord", "teams", "pagerduty", "email-smtp"),
          name: anyString,
          enabled: fc.constant(false),
          config: fc.dictionary(anyString, fc.oneof(jsonValue, anyString), { maxKeys: 4 })
        })
    ],
    ["any JSON at login", "/api/auth/login", 60, () => jsonValue],
    [
      "any JSON at the plugin's echo",
      "/api/plugins/hello/echo",
      60,
      () => fc.oneof(jsonValue, fc.record({ name: anyString }))
    ]
  ]

  for (const [name, path, numRuns, arbitrary] of routes) {
    test(`${name}: 2xx or a 4xx problem, never 5xx`, async () => {
      const statuses = new Set<number>()
      await fc.assert(
        fc.asyncProperty(arbitrary(), async (body) => void statuses.add(await check(path, body))),
        { seed, numRuns }
      )
      // The route was reached (not refused wholesale before its handler, e.g. by a disabled plugin).
      expect([...statuses].some((s) => s !== 401 && s !== 404 && s !== 429)).toBe(true)
    })
  }

  test("updates drawn from the schemas, mutated: a template (admin) and a user's own account (the user)", async () => {
    // Their own template and user: an update the schema allows (disabling, a new VNC port) must not disturb the walk.
    const template = await p.http<{ id: string }>("POST", "/api/templates", {
      token: f.admin,
      body: { name: "fuzz-prop-app", displayName: "Prop", image: "example/prop:1" }
    })
    const user = await p.http<{ id: string }>("POST", "/api/users", {
      token: f.admin,
      body: { username: "fuzz-prop", password: strongPassword }
    })
    const token = await p.login("fuzz-prop", strongPassword)
    const statuses = new Set<number>()
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(Arbitrary.make(TemplateModel.UpdateTemplate), mutated(TemplateModel.UpdateTemplate)),
        async (body) => void statuses.add(await check(`/api/templates/${template.body.id}`, body, "PATCH"))
      ),
      { seed, numRuns: 40 }
    )
    await fc.assert(
      fc.asyncProperty(
        mutated(IdentityModel.UpdateUser),
        async (body) => void statuses.add(await check(`/api/users/${user.body.id}`, body, "PATCH", token))
      ),
      { seed, numRuns: 40 }
    )
    expect([...statuses].some((status) => status < 300)).toBe(true)
  })

  test("file names: any string as the upload's name", async () => {
    const statuses = new Set<number>()
    await fc.assert(
      fc.asyncProperty(urlString, async (name) => {
        const c: FuzzCase = {
          kind: "property",
          method: "POST",
          target: `/api/sessions/${f.ids.session}/files?name=${encodeURIComponent(name)}`,
          headers: { "content-type": "application/octet-stream" },
          body: new TextEncoder().encode("x"),
          mustReject: false
        }
        const res = await send(baseUrl, c, f.admin)
        const violation = violationOf(c, res)
        if (violation !== undefined) throw new Error(`upload named ${JSON.stringify(name)} → ${violation}: ${res.text}`)
        statuses.add(res.status)
      }),
      { seed, numRuns: 40 }
    )
    expect([...statuses].some((status) => status < 300)).toBe(true)
  })

  /** A GET with any target: the answer is a 2xx or a 4xx problem document. */
  const checkGet = async (target: string) => {
    const c: FuzzCase = { kind: "property", method: "GET", target, headers: {}, mustReject: false }
    const res = await send(baseUrl, c, f.admin)
    const violation = violationOf(c, res)
    if (violation !== undefined)
      throw new Error(`GET ${target.slice(0, 300)} → ${violation}: ${res.text.slice(0, 300)}`)
  }
  /** Strings `encodeURIComponent` can encode (a lone surrogate cannot be sent in a URL at all). */
  const urlString = anyString.filter((text) => {
    try {
      encodeURIComponent(text)
      return true
    } catch {
      return false
    }
  })
  /** What a client could put in a query value: any string, or a cursor-shaped base64url of any JSON. */
  const queryValue = fc.oneof(
    urlString,
    jsonValue.map((value) => Buffer.from(JSON.stringify(value) ?? "null").toString("base64url")),
    fc.constantFrom("0", "-1", "1e308", "NaN", "Infinity", "0001-01-01", "99999-12-31T00:00:00Z", "")
  )

  test("any query values (and cursors of any JSON) on every GET with query parameters", async () => {
    const reads = operations.filter((op) => op.method === "GET" && op.parameters.some((q) => q.in === "query"))
    expect(reads.length).toBeGreaterThan(5)
    for (const op of reads) {
      const names = op.parameters.filter((q) => q.in === "query").map((q) => q.name)
      const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
        encodeURIComponent(pathParamsOf(op, f)[name] ?? "")
      )
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...names), queryValue, { maxKeys: names.length }), (query) =>
          checkGet(
            `${path}?${Object.entries(query)
              .map(([k, v]) => `${k}=${encodeURIComponent(v)}`)
              .join("&")}`
          )
        ),
        { seed, numRuns: 15 }
      )
    }
  })

  test("any path parameter on every GET with one", async () => {
    const reads = operations.filter((op) => op.method === "GET" && op.parameters.some((q) => q.in === "path"))
    expect(reads.length).toBeGreaterThan(5)
    for (const op of reads) {
      await fc.assert(
        fc.asyncProperty(urlString, (id) =>
          checkGet(op.path.replace(/\{(\w+)\}/, encodeURIComponent(id)).replace(/\{(\w+)\}/g, "x"))
        ),
        { seed, numRuns: 10 }
      )
    }
  })
})

describe(`fuzz: every OpenAPI operation under malformed input (${TestPlatform.engine()})`, () => {
  test("walks every operation as admin, anonymous, plain user and scoped key", async () => {
    const started = Date.now()
    const durations: Array<readonly [string, number]> = []
    const list = ordered()
    let done = 0
    for (const op of list) {
      // The WebSocket is walked by its own variant before the session is deleted.
      if (phaseOf(op) === 2 && !exercised.has("GET /api/sessions/{id}/vnc (WebSocket)")) await walkWebSocket()
      const opStarted = Date.now()
      await walk(op, asAdmin())
      if (isSelfService(op)) await walk(op, asPlainOwner())
      durations.push([op.key, Date.now() - opStarted])
      if (++done % 25 === 0 || done === list.length)
        console.log(
          `fuzz: ${done}/${list.length} operations, ${requests} requests, ${fiveHundreds} × 5xx (${Math.round((Date.now() - started) / 1000)} s)`
        )
    }
    if (!exercised.has("GET /api/sessions/{id}/vnc (WebSocket)")) await walkWebSocket()
    await walkUnrouted()
    await walkRawSocket()
    for (const op of operations.filter((o) => o.body._tag === "Binary"))
      notes.push(
        `${op.key}: a raw (octet-stream) body: empty, 1 MB and NUL-byte bodies and odd content types instead of JSON fields`
      )
    notes.push(
      "(undeclared methods and paths): HEAD/OPTIONS/TRACE/made-up and undeclared methods on every path, unknown and oddly spelled paths",
      "GET /api/sessions/{id}/vnc (WebSocket): malformed ids, tickets and bearers over a real WebSocket, RFB garbage after a valid ticket; close codes 1011/45xx count as 5xx",
      "(raw HTTP): request lines and framing no fetch client sends, over a raw socket"
    )
    console.log(
      [
        `fuzz: ${operations.length} operations, ${requests} requests, ${fiveHundreds} × 5xx (${TestPlatform.engine()}, ${Math.round((Date.now() - started) / 1000)} s)`,
        ...[...statuses].map(
          ([actor, byStatus]) =>
            `  ${actor}: ${[...byStatus]
              .sort((a, b) => a[0] - b[0])
              .map(([status, n]) => `${status}×${n}`)
              .join(" ")}`
        ),
        `  slowest: ${[...durations]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([key, ms]) => `${key} ${ms} ms`)
          .join(", ")}`,
        ...notes.map((n) => `  targeted: ${n}`),
        ...transport.map((t) => `  raw HTTP ${t}`),
        ...wsOutcomes.map((t) => `  WebSocket ${t}`),
        serverErrors.report("5xx", capture.lines),
        badRefusals.report("refusals that are not problem documents", capture.lines),
        accepted.report("malformed input accepted (2xx)", capture.lines),
        stateChanges.report("refused requests that changed rows", capture.lines)
      ].join("\n")
    )
    expect(operations.length).toBeGreaterThan(0)
    expect(operations.filter((op) => !exercised.has(op.key)).map((op) => op.key)).toEqual([])
  }, 180_000)

  test("the admin's requests reach the routes: answered by validation and handlers, not refused as unauthenticated", () => {
    const admin = statuses.get("admin") ?? new Map<number, number>()
    expect(adminUnauthorized).toBe(0)
    expect(admin.get(400) ?? 0).toBeGreaterThan(1000)
    expect([...admin].filter(([status]) => status < 300).length).toBeGreaterThan(0)
  })

  test("no request is answered with a 5xx", () => {
    expect(serverErrors.entries().map(([key]) => key)).toEqual([])
  })

  test("every refusal is a problem document with status, code, detail (and errors[] on validation)", () => {
    expect(badRefusals.entries().map(([key, v]) => `${key} (${v.example.slice(0, 120)})`)).toEqual([])
  })

  test("malformed input that no server may accept (wrong types, missing fields, NUL, bad JSON) is refused", () => {
    expect(accepted.entries().map(([key]) => key)).toEqual([])
  })

  test("a refused request changes no row of the main tables", async () => {
    expect(stateChanges.entries().map(([key]) => key)).toEqual([])
    // The watch sees writes at all: the accepted requests of the walk (creates, updates, deletes) were counted.
    const seen = Object.keys(await changesOf(p))
    expect(seen).toEqual(expect.arrayContaining(["users INSERT", "templates UPDATE", "groups DELETE"]))
  })

  test("the server still answers /readyz afterwards", async () => {
    const res = await fetch(`${baseUrl}/readyz`)
    expect(res.status).toBe(200)
  })
})
