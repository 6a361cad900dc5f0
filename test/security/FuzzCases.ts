/**
 * The deterministic malformed requests sent to one operation: each path and
 * query parameter and each body field in turn given wrong types, NUL, huge
 * strings, deep nesting, bad cursors and dates; missing required fields;
 * unknown fields; bodies of the wrong shape, invalid or deeply nested JSON,
 * wrong content types. Every case differs from a well-formed request in one
 * place, so a failure names what caused it.
 *
 * `mustReject` marks cases that no server may accept (a wrong JSON type, a
 * missing required field, NUL in a declared string, unparseable JSON, an
 * unknown body field): a 2xx there is a finding too. The others (a 1 MB
 * string, an odd content type, a cursor the server may ignore) must only be
 * answered without a 5xx, and with a problem document when refused.
 */
import { type Operation, type Parameter, isDate, propertiesOf, resolve, sample, typesOf } from "./FuzzOperations.ts"

export interface FuzzCase {
  /** What was malformed, e.g. `body.username:nul` (the class a 5xx is reported under). */
  readonly kind: string
  readonly method: string
  /** Path and query, already %-encoded (malformed escapes on purpose). */
  readonly target: string
  readonly headers: Record<string, string>
  readonly body?: Uint8Array
  readonly mustReject: boolean
}

export interface CaseContext {
  /** Real ids (raw, unencoded) for the operation's path parameters. */
  readonly pathParams: Record<string, string>
  /** A well-formed body for JSON operations (defaults to a sample of the schema). */
  readonly body?: Record<string, unknown>
  /** Well-formed query values (defaults to samples of the required ones). */
  readonly query?: Record<string, string>
  /** Names already taken among the operation's resources: a `name`/`username` field gets each, as is and upper-cased. */
  readonly takenNames?: ReadonlyArray<string>
}

const HUGE = "x".repeat(1 << 20)
const DEPTH = 10_000
const deepArray = "[".repeat(DEPTH) + "]".repeat(DEPTH)
const deepObject = '{"a":'.repeat(DEPTH) + "1" + "}".repeat(DEPTH)

const encoder = new TextEncoder()
const bytes = (text: string) => encoder.encode(text)
const json = (value: unknown) => bytes(JSON.stringify(value))
const b64 = (text: string) => Buffer.from(text).toString("base64url")

/** Path segments: %-encoded text (malformed escapes stay as written). */
const pathVariants: ReadonlyArray<readonly [string, string]> = [
  ["nul", "%00"],
  ["nul-inside", "a%00b"],
  ["overlong", "i".repeat(4096)],
  ["malformed-escape", "%"],
  ["malformed-escape-hex", "%zz"],
  ["truncated-utf8", "%E0%A4%A"],
  ["overlong-utf8", "%C0%AF"],
  ["invalid-utf8", "%FF%FE"],
  ["lone-surrogate", "%ED%A0%80"],
  ["traversal", "..%2F..%2Fetc%2Fpasswd"],
  ["number", "1e308"],
  ["sql", "'%20OR%201%3D1--"]
]

/** Query values for any parameter (encoded). */
const queryValues: ReadonlyArray<readonly [string, string, boolean]> = [
  ["nul", "%00", true],
  ["nul-inside", "a%00b", true],
  ["long", "q".repeat(4096), false],
  ["malformed-escape", "%", false],
  ["malformed-escape-hex", "%zz", false],
  ["invalid-utf8", "%FF%FE", false],
  ["empty", "", false],
  ["number-huge", "1e308", false],
  ["nan", "NaN", false],
  ["negative", "-1", false],
  ["fraction", "1.5", false],
  ["bool", "true", false],
  ["json-object", "%7B%7D", false],
  ["json-array", "%5B%5D", false]
]

const cursorValues: ReadonlyArray<readonly [string, string]> = [
  ["cursor-nan", b64("[NaN]")],
  ["cursor-1e308", b64("[1e308]")],
  ["cursor-1e308-id", b64('[1e308,"x"]')],
  ["cursor-object", b64("[{}]")],
  ["cursor-null", b64("[null]")],
  ["cursor-nested", b64("[[1],[2]]")],
  ["cursor-string", b64('"x"')],
  ["cursor-wrong-arity", b64('["a","b","c","d","e"]')],
  ["cursor-bad-date", b64('["99999-12-31T00:00:00Z","x"]')],
  ["cursor-date-x", b64('["x","x"]')],
  ["cursor-numbers", b64("[-1e308,-1e308]")],
  ["cursor-nul", b64('["\\u0000","\\u0000"]')],
  ["cursor-deep", b64(deepArray.slice(0, 2000) + deepArray.slice(-2000))],
  ["cursor-garbage", "garbage!!"],
  ["cursor-not-base64", "%00%FF"],
  ["cursor-huge", b64(`["${"c".repeat(8000)}","x"]`)]
]

const dateValues: ReadonlyArray<readonly [string, string]> = [
  ["date-year-1", "0001-01-01"],
  ["date-year-1-time", "0001-01-01T00:00:00Z"],
  ["date-year-99999", "99999-12-31"],
  ["date-max-js", "%2B275760-09-13T00:00:00Z"],
  ["date-negative-year", "-000001-01-01T00:00:00Z"],
  ["date-x", "x"],
  ["date-feb-30", "2024-02-30"],
  ["date-bad-offset", "1970-01-01T00:00:00%2B99:99"],
  ["date-epoch-number", "0"]
]

const bodyDateValues: ReadonlyArray<readonly [string, string]> = [
  ["date-year-1", "0001-01-01T00:00:00Z"],
  ["date-year-99999", "99999-12-31T00:00:00Z"],
  ["date-max-js", "+275760-09-13T00:00:00Z"],
  ["date-beyond-js", "+275760-09-14T00:00:00Z"],
  ["date-x", "x"],
  ["date-feb-30", "2024-02-30T00:00:00Z"]
]

const wrongTypes: ReadonlyArray<readonly [string, string, unknown]> = [
  ["number", "number", 12345],
  ["object", "object", { a: 1 }],
  ["array", "array", [1, "a"]],
  ["bool", "boolean", true],
  ["null", "null", null]
]

const encodeSegment = (value: string) => encodeURIComponent(value)

const fill = (path: string, params: Record<string, string>, override?: readonly [string, string]) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) =>
    override && override[0] === name
      ? override[1]
      : encodeSegment(params[name] ?? "00000000-0000-0000-0000-000000000000")
  )

const queryString = (pairs: ReadonlyArray<readonly [string, string]>) =>
  pairs.length === 0 ? "" : `?${pairs.map(([k, v]) => `${encodeURIComponent(k)}=${v}`).join("&")}`

const jsonHeaders = { "content-type": "application/json" }

export const casesFor = (op: Operation, ctx: CaseContext): ReadonlyArray<FuzzCase> => {
  const out: Array<FuzzCase> = []
  const pathParams = op.parameters.filter((p) => p.in === "path")
  const queryParams = op.parameters.filter((p) => p.in === "query")
  const baseQuery: Array<readonly [string, string]> = Object.entries(
    ctx.query ??
      Object.fromEntries(
        queryParams.filter((p) => p.required).map((p) => [p.name, String(sample(p.schema, p.schema))] as const)
      )
  ).map(([k, v]) => [k, encodeURIComponent(v)] as const)
  const basePath = fill(op.path, ctx.pathParams)
  const baseBody: unknown =
    op.body._tag === "Json" ? (ctx.body ?? sample(op.body.schema, op.body.root)) : op.body._tag === "Binary" ? "" : null
  const bodyBytes =
    op.body._tag === "Json" ? json(baseBody) : op.body._tag === "Binary" ? bytes("fuzz file content") : undefined
  const baseHeaders: Record<string, string> =
    op.body._tag === "Json"
      ? jsonHeaders
      : op.body._tag === "Binary"
        ? { "content-type": "application/octet-stream" }
        : {}
  const add = (
    kind: string,
    parts: {
      path?: string
      query?: ReadonlyArray<readonly [string, string]>
      headers?: Record<string, string>
      body?: Uint8Array | null
      mustReject?: boolean
    }
  ) => {
    const body = parts.body === null ? undefined : (parts.body ?? bodyBytes)
    out.push({
      kind,
      method: op.method,
      target: (parts.path ?? basePath) + queryString(parts.query ?? baseQuery),
      headers: parts.headers ?? baseHeaders,
      ...(body === undefined ? {} : { body }),
      mustReject: parts.mustReject ?? false
    })
  }

  // Path parameters: each malformed in turn.
  for (const param of pathParams) {
    for (const [name, value] of pathVariants) {
      add(`path.${param.name}:${name}`, { path: fill(op.path, ctx.pathParams, [param.name, value]) })
    }
  }

  // Query parameters: declared ones get every value, cursors and dates their own; undeclared ones too.
  const withQuery = (param: Parameter, value: string) => [
    ...baseQuery.filter(([k]) => k !== param.name),
    [param.name, value] as const
  ]
  for (const param of queryParams) {
    for (const [name, value, strict] of queryValues) {
      add(`query.${param.name}:${name}`, { query: withQuery(param, value), mustReject: strict })
    }
    add(`query.${param.name}:repeated`, { query: [...withQuery(param, "a"), [param.name, "b"]] })
    if (param.name === "cursor") {
      for (const [name, value] of cursorValues) add(`query.cursor:${name}`, { query: withQuery(param, value) })
    }
    if (isDate(param.schema, param.schema) || /^(from|to|since|until|before|after)$/.test(param.name)) {
      for (const [name, value] of dateValues) add(`query.${param.name}:${name}`, { query: withQuery(param, value) })
    }
    if (param.name === "limit") {
      for (const value of ["0", "501", "99999999999999999999", "0x10"])
        add(`query.limit:${value}`, { query: withQuery(param, value) })
    }
  }
  for (const [name, value] of [
    ["nul", "%00"],
    ["long", "u".repeat(4096)],
    ["malformed-escape", "%zz"]
  ] as const) {
    add(`query.(undeclared):${name}`, { query: [...baseQuery, ["fuzz", value]] })
  }
  add("query.(undeclared):nul-key", { query: [...baseQuery, ["a\u0000b", "1"]] })
  add("query.(undeclared):proto", { query: [...baseQuery, ["__proto__", "x"], ["constructor", "y"]] })

  if (op.body._tag === "Json") {
    const { schema, root } = op.body
    const resolved = resolve(schema, root)
    const isObject = typesOf(resolved, root).has("object") && resolved.properties !== undefined
    const base = (isObject ? baseBody : {}) as Record<string, unknown>
    const withField = (name: string, value: unknown) => json({ ...base, [name]: value })
    const withRawField = (name: string, text: string) =>
      bytes(JSON.stringify({ ...base, [name]: "\u0001raw\u0001" }).replace('"\\u0001raw\\u0001"', text))

    for (const [name, prop, required] of isObject ? propertiesOf(resolved, root) : []) {
      const types = typesOf(prop, root)
      const field = `body.${name}`
      const known = !types.has("any")
      for (const [label, type, value] of wrongTypes) {
        if (types.has(type) || !known) continue
        add(`${field}:wrong-type:${label}`, { body: withField(name, value), mustReject: true })
      }
      add(`${field}:deep-array`, { body: withRawField(name, deepArray), mustReject: known && !types.has("array") })
      add(`${field}:deep-object`, { body: withRawField(name, deepObject), mustReject: known && !types.has("object") })
      if (types.has("string") || !known) {
        add(`${field}:nul`, { body: withField(name, "a\u0000b"), mustReject: types.has("string") })
        add(`${field}:huge`, { body: withField(name, HUGE) })
        add(`${field}:lone-surrogate`, { body: withRawField(name, '"\\ud800x"') })
        add(`${field}:control-chars`, { body: withField(name, "\u0001\u001b[31m\r\n\u2028") })
        add(`${field}:empty`, { body: withField(name, "") })
        // Long but plausible: 4-byte characters pass a length check in characters and overflow an index row in bytes.
        for (const n of [200, 1000, 2500]) add(`${field}:emoji-${n}`, { body: withField(name, "\u{1F4A9}".repeat(n)) })
      }
      if (types.has("string") && isDate(prop, root)) {
        for (const [label, value] of bodyDateValues) add(`${field}:${label}`, { body: withField(name, value) })
      }
      if (types.has("number")) {
        for (const [label, value] of [
          ["1e308", "1e308"],
          ["-1e308", "-1e308"],
          ["fraction", "0.5"],
          ["negative", "-1"],
          ["int32-overflow", "2147483648"],
          ["unsafe-integer", "9007199254740993"],
          ["int64-overflow", "9223372036854775808"]
        ] as const)
          add(`${field}:${label}`, { body: withRawField(name, value) })
      }
      if (types.has("array")) {
        const items = resolve(prop, root).items
        const itemTypes = items ? typesOf(items, root) : new Set(["any"])
        add(`${field}:items-nul`, { body: withField(name, ["a\u0000b"]), mustReject: itemTypes.has("string") })
        add(`${field}:items-huge`, { body: withField(name, [HUGE]) })
        add(`${field}:items-many`, {
          body: withField(
            name,
            Array.from({ length: 10_000 }, (_, i) => `i${i}`)
          )
        })
        if (!itemTypes.has("any")) {
          add(`${field}:items-wrong-type`, {
            body: withField(name, itemTypes.has("number") ? ["x"] : [{ a: 1 }]),
            mustReject: true
          })
        }
      }
      if (types.has("object") || !known) {
        add(`${field}:object-nul-key`, { body: withField(name, { "a\u0000b": "x" }) })
        add(`${field}:object-nul-value`, { body: withField(name, { a: "x\u0000y", nested: { b: ["\u0000"] } }) })
        add(`${field}:object-huge`, { body: withField(name, { a: HUGE }) })
        add(`${field}:object-many-keys`, {
          body: withField(name, Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`k${i}`, i])))
        })
      }
      if (/name$/i.test(name) && types.has("string")) {
        for (const taken of ctx.takenNames ?? []) {
          add(`${field}:taken`, { body: withField(name, taken) })
          add(`${field}:taken-other-case`, { body: withField(name, taken.toUpperCase()) })
        }
      }
      if (required) {
        const { [name]: _, ...rest } = base
        add(`${field}:missing`, { body: json(rest), mustReject: true })
      }
    }
    if (isObject) {
      add("body:unknown-field", { body: json({ ...base, fuzzUnknown: 1 }), mustReject: true })
      add("body:proto-field", {
        body: bytes(JSON.stringify(base).replace(/^\{/, '{"__proto__":{"isAdmin":true},')),
        mustReject: true
      })
      add("body:nul-key", { body: json({ ...base, "a\u0000b": 1 }), mustReject: true })
      add("body:duplicate-keys", { body: bytes(JSON.stringify(base).replace(/^\{/, '{"fuzz":1,"fuzz":2,')) })
    }
    const shapeStrict = isObject
    for (const [label, value] of [
      ["array", "[]"],
      ["number", "1"],
      ["string", '"x"'],
      ["bool", "true"]
    ] as const)
      add(`body:shape-${label}`, { body: bytes(value), mustReject: shapeStrict })
    // JSON `null` reads as no body at all (an empty PATCH): refused or not, never a 5xx.
    add("body:shape-null", { body: bytes("null") })
    add("body:deep-array", { body: bytes(deepArray), mustReject: shapeStrict })
    add("body:deep-object", { body: bytes(deepObject), mustReject: shapeStrict })
    add("body:huge-unknown", { body: json({ ...base, pad: HUGE.repeat(2) }), mustReject: shapeStrict })
  }

  if (op.body._tag === "Binary") {
    add("body:binary-empty", { body: new Uint8Array(0) })
    add("body:binary-1mb", { body: bytes(HUGE) })
    add("body:binary-nul", { body: new Uint8Array([0, 0, 0, 255]) })
    add("content-type:none", { headers: {} })
    add("content-type:json-invalid", { headers: jsonHeaders, body: bytes("{") })
    add("content-type:multipart", { headers: { "content-type": "multipart/form-data; boundary=x" } })
  }

  // Bodies that are not JSON at all, and JSON under the wrong content type (any method that may carry one).
  if (op.method !== "GET") {
    const valid = op.body._tag === "Json" ? json(baseBody) : bytes("{}")
    const strict = op.body._tag === "Json"
    add("body:empty", { body: new Uint8Array(0), headers: jsonHeaders, mustReject: strict && isRequiredBody(op) })
    add("body:invalid-json", { body: bytes('{"a":'), headers: jsonHeaders, mustReject: strict })
    add("body:invalid-json-trailing", { body: bytes('{"a":1}}'), headers: jsonHeaders, mustReject: strict })
    add("body:nul-byte", { body: bytes("\u0000"), headers: jsonHeaders, mustReject: strict })
    add("body:invalid-utf8", {
      body: new Uint8Array([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]),
      headers: jsonHeaders
    })
    add("body:bom", { body: bytes(`\ufeff${new TextDecoder().decode(valid)}`), headers: jsonHeaders })
    if (op.body._tag !== "Binary") {
      add("content-type:text-plain", { body: valid, headers: { "content-type": "text/plain" } })
      add("content-type:form", {
        body: bytes("username=a&password=b&a%00=1"),
        headers: { "content-type": "application/x-www-form-urlencoded" }
      })
      add("content-type:multipart", {
        body: bytes('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n'),
        headers: { "content-type": "multipart/form-data; boundary=x" }
      })
      add("content-type:none", { body: valid, headers: {} })
      add("content-type:json-charset-latin1", {
        body: valid,
        headers: { "content-type": "application/json; charset=latin1" }
      })
      add("content-type:bogus", { body: valid, headers: { "content-type": "\u00ff/\u00ff" } })
    }
  }
  // The well-formed request, twice (a create then its duplicate, a delete then the same again): last, as it may remove what the others point at.
  add("baseline", {})
  add("baseline-again", {})
  return out
}

const isRequiredBody = (op: Operation) =>
  op.body._tag === "Json" && (resolve(op.body.schema, op.body.root).required ?? []).length > 0

/** A handful of cases for the anonymous, plain-user and API-key samples (the first of each kind family). */
export const sampleOf = (cases: ReadonlyArray<FuzzCase>): ReadonlyArray<FuzzCase> => {
  const seen = new Set<string>()
  const out: Array<FuzzCase> = []
  for (const c of cases) {
    const family = c.kind.split(":")[0]!.split(".")[0]!
    const label = `${family}:${c.kind.split(":").pop()}`
    if (!/nul|wrong-type|deep-array|invalid-json|cursor-1e308|date-year-1$/.test(c.kind)) continue
    if (seen.has(label)) continue
    seen.add(label)
    out.push(c)
    if (out.length >= 4) break
  }
  return out
}
