/**
 * The workflows' expression language: a small, safe, bounded language for
 * conditions (`if`, trigger filters) and `{{ … }}` templates over the
 * trigger data, earlier step outputs and variables.
 *
 * - No `eval`, no `Function`, no loops, no user-defined functions, no
 *   regular expressions (no ReDoS): a hand-written tokenizer and
 *   recursive-descent parser build an AST; the evaluator walks it once.
 * - Bounded at validation: source length, token count, AST nodes and
 *   nesting depth; bounded at evaluation: a step budget and a maximum
 *   length for every string and array it builds.
 * - Member access on a missing field or on `null` gives `null` (optional
 *   fields read naturally); type mismatches are errors naming the position.
 *
 * Grammar (lowest precedence first): `c ? a : b`, `||`, `&&`, `== !=`,
 * `< <= > >= in`, `+ -`, `* / %`, unary `! -`, then `a.b`, `a[b]`,
 * `fn(args)`; literals: numbers, "strings" or 'strings', true, false, null,
 * `[lists]`. Names: the roots given to `parse` (e.g. trigger, steps, vars).
 */
import { Data } from "effect"

export const Limits = {
  maxSource: 2_000,
  maxTokens: 600,
  maxNodes: 250,
  maxDepth: 32,
  maxSteps: 5_000,
  maxString: 16_384,
  maxArray: 1_000
} as const

export class ExprError extends Data.TaggedError("ExprError")<{ readonly message: string; readonly position: number }> {}

export type Node =
  | { readonly k: "lit"; readonly v: Json; readonly p: number }
  | { readonly k: "name"; readonly n: string; readonly p: number }
  | { readonly k: "member"; readonly o: Node; readonly f: Node; readonly p: number }
  | { readonly k: "unary"; readonly op: "!" | "-"; readonly a: Node; readonly p: number }
  | { readonly k: "binary"; readonly op: BinaryOp; readonly a: Node; readonly b: Node; readonly p: number }
  | { readonly k: "cond"; readonly c: Node; readonly a: Node; readonly b: Node; readonly p: number }
  | { readonly k: "list"; readonly items: ReadonlyArray<Node>; readonly p: number }
  | { readonly k: "call"; readonly fn: string; readonly args: ReadonlyArray<Node>; readonly p: number }

type BinaryOp = "||" | "&&" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "+" | "-" | "*" | "/" | "%"

export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [k: string]: Json }

export interface Compiled {
  readonly source: string
  readonly ast: Node
  readonly nodes: number
}

type Token =
  | { readonly t: "num"; readonly v: number; readonly p: number }
  | { readonly t: "str"; readonly v: string; readonly p: number }
  | { readonly t: "id"; readonly v: string; readonly p: number }
  | { readonly t: "op"; readonly v: string; readonly p: number }
  | { readonly t: "end"; readonly p: number }

const OPS = [
  "==",
  "!=",
  "<=",
  ">=",
  "&&",
  "||",
  "<",
  ">",
  "+",
  "-",
  "*",
  "/",
  "%",
  "!",
  "?",
  ":",
  ".",
  ",",
  "(",
  ")",
  "[",
  "]"
]

const fail = (message: string, position: number): never => {
  throw new ExprError({ message, position })
}

const tokenize = (src: string): Array<Token> => {
  const out: Array<Token> = []
  let i = 0
  while (i < src.length) {
    if (out.length > Limits.maxTokens) fail(`too many tokens (at most ${Limits.maxTokens})`, i)
    const c = src[i]!
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++
      continue
    }
    if ((c >= "0" && c <= "9") || (c === "." && src[i + 1] !== undefined && /[0-9]/.test(src[i + 1]!))) {
      const m = /^(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(src.slice(i, i + 64))
      if (!m) fail("bad number", i)
      const v = Number(m![0])
      if (!Number.isFinite(v)) fail("number out of range", i)
      out.push({ t: "num", v, p: i })
      i += m![0].length
      continue
    }
    if (c === '"' || c === "'") {
      let j = i + 1
      let s = ""
      for (;;) {
        if (j >= src.length) fail("unterminated string", i)
        const d = src[j]!
        if (d === c) break
        if (d === "\\") {
          const e = src[j + 1]
          const map: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'" }
          if (e === undefined || map[e] === undefined) fail("unknown escape in string", j)
          s += map[e!]
          j += 2
          continue
        }
        s += d
        j++
      }
      out.push({ t: "str", v: s, p: i })
      i = j + 1
      continue
    }
    if (/[A-Za-z_$]/.test(c)) {
      const m = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(src.slice(i, i + 128))!
      out.push({ t: "id", v: m[0], p: i })
      i += m[0].length
      continue
    }
    const op = OPS.find((o) => src.startsWith(o, i))
    if (!op) fail(`unexpected character ${JSON.stringify(c)}`, i)
    out.push({ t: "op", v: op!, p: i })
    i += op!.length
  }
  out.push({ t: "end", p: src.length })
  return out
}

export const FUNCTIONS = [
  "len",
  "lower",
  "upper",
  "trim",
  "contains",
  "startsWith",
  "endsWith",
  "number",
  "string",
  "round",
  "floor",
  "ceil",
  "abs",
  "min",
  "max",
  "coalesce",
  "exists",
  "keys",
  "json"
] as const
const FUNCTION_SET: ReadonlySet<string> = new Set(FUNCTIONS)
const RESERVED: ReadonlySet<string> = new Set(["true", "false", "null", "in"])

/** Parses and checks an expression; throws `ExprError`. `roots` are the names it may read. */
const parseUnsafe = (src: string, roots: ReadonlyArray<string>): Compiled => {
  if (src.length > Limits.maxSource) fail(`expression too long (at most ${Limits.maxSource} characters)`, 0)
  const toks = tokenize(src)
  let pos = 0
  let nodes = 0
  let depth = 0
  const peek = () => toks[pos]!
  const isOp = (v: string) => {
    const t = peek()
    return t.t === "op" && t.v === v
  }
  const expect = (v: string) => {
    if (!isOp(v)) fail(`expected "${v}"`, peek().p)
    pos++
  }
  const node = <N extends Node>(n: N): N => {
    if (++nodes > Limits.maxNodes) fail(`expression too large (at most ${Limits.maxNodes} nodes)`, n.p)
    return n
  }
  const nested = <A>(p: number, f: () => A): A => {
    if (++depth > Limits.maxDepth) fail(`expression nested too deeply (at most ${Limits.maxDepth})`, p)
    const r = f()
    depth--
    return r
  }

  const expr = (): Node =>
    nested(peek().p, () => {
      const c = or()
      if (!isOp("?")) return c
      const p = peek().p
      pos++
      const a = expr()
      expect(":")
      const b = expr()
      return node({ k: "cond", c, a, b, p })
    })
  const chain = (next: () => Node, ops: ReadonlyArray<string>) => (): Node => {
    let a = next()
    for (;;) {
      const t = peek()
      const op =
        t.t === "op" && ops.includes(t.v) ? t.v : t.t === "id" && t.v === "in" && ops.includes("in") ? "in" : null
      if (op === null) return a
      pos++
      const b = next()
      a = node({ k: "binary", op: op as BinaryOp, a, b, p: t.p })
    }
  }
  const unary = (): Node => {
    const t = peek()
    if (t.t === "op" && (t.v === "!" || t.v === "-")) {
      pos++
      return nested(t.p, () => node({ k: "unary", op: t.v as "!" | "-", a: unary(), p: t.p }))
    }
    return postfix()
  }
  const mul = chain(unary, ["*", "/", "%"])
  const add = chain(mul, ["+", "-"])
  const rel = chain(add, ["<", "<=", ">", ">=", "in"])
  const eq = chain(rel, ["==", "!="])
  const and = chain(eq, ["&&"])
  const or = chain(and, ["||"])

  const postfix = (): Node => {
    let o = primary()
    for (;;) {
      const t = peek()
      if (isOp(".")) {
        pos++
        const f = peek()
        if (f.t !== "id") fail("expected a field name after '.'", f.p)
        pos++
        o = node({ k: "member", o, f: node({ k: "lit", v: (f as { v: string }).v, p: f.p }), p: t.p })
      } else if (isOp("[")) {
        pos++
        const f = expr()
        expect("]")
        o = node({ k: "member", o, f, p: t.p })
      } else if (isOp("(")) {
        fail("only the built-in functions can be called", t.p)
      } else return o
    }
  }
  const primary = (): Node => {
    const t = peek()
    switch (t.t) {
      case "num":
      case "str":
        pos++
        return node({ k: "lit", v: t.v, p: t.p })
      case "id": {
        pos++
        if (t.v === "true" || t.v === "false") return node({ k: "lit", v: t.v === "true", p: t.p })
        if (t.v === "null") return node({ k: "lit", v: null, p: t.p })
        if (RESERVED.has(t.v)) fail(`unexpected "${t.v}"`, t.p)
        if (isOp("(")) {
          if (!FUNCTION_SET.has(t.v)) fail(`unknown function ${t.v} (known: ${FUNCTIONS.join(", ")})`, t.p)
          pos++
          const args: Array<Node> = []
          if (!isOp(")"))
            for (;;) {
              args.push(expr())
              if (isOp(",")) {
                pos++
                continue
              }
              break
            }
          expect(")")
          return node({ k: "call", fn: t.v, args, p: t.p })
        }
        if (!roots.includes(t.v)) fail(`unknown name ${t.v} (known: ${roots.join(", ")})`, t.p)
        return node({ k: "name", n: t.v, p: t.p })
      }
      case "op":
        if (t.v === "(") {
          pos++
          const e = expr()
          expect(")")
          return e
        }
        if (t.v === "[") {
          pos++
          const items: Array<Node> = []
          if (!isOp("]"))
            for (;;) {
              items.push(expr())
              if (isOp(",")) {
                pos++
                continue
              }
              break
            }
          expect("]")
          return node({ k: "list", items, p: t.p })
        }
        return fail(`unexpected "${t.v}"`, t.p)
      case "end":
        return fail("unexpected end of expression", t.p)
    }
  }

  if (peek().t === "end") fail("empty expression", 0)
  const ast = expr()
  if (peek().t !== "end") fail(`unexpected ${describe(peek())}`, peek().p)
  return { source: src, ast, nodes }
}

const describe = (t: Token) => (t.t === "end" ? "end" : `"${String(t.v)}"`)

export type Parsed = { readonly ok: true; readonly value: Compiled } | { readonly ok: false; readonly error: ExprError }

/** Parses and checks an expression: never throws. */
export const parse = (src: string, roots: ReadonlyArray<string>): Parsed => {
  try {
    return { ok: true, value: parseUnsafe(src, roots) }
  } catch (e) {
    if (e instanceof ExprError) return { ok: false, error: e }
    throw e
  }
}

const typeOf = (v: Json): string => (v === null ? "null" : Array.isArray(v) ? "list" : typeof v)

const isObject = (v: Json): v is { readonly [k: string]: Json } =>
  v !== null && typeof v === "object" && !Array.isArray(v)

const textOf = (v: Json): string => (typeof v === "string" ? v : JSON.stringify(v))

/** Evaluates a compiled expression over `scope`; throws `ExprError`. Bounded by `Limits.maxSteps`. */
const evalUnsafe = (c: Compiled, scope: Readonly<Record<string, Json>>): Json => {
  let steps = 0
  const tick = (p: number, n = 1) => {
    steps += n
    if (steps > Limits.maxSteps) fail(`evaluation too costly (more than ${Limits.maxSteps} steps)`, p)
  }
  const str = (s: string, p: number) => {
    if (s.length > Limits.maxString) fail(`string too long (at most ${Limits.maxString} characters)`, p)
    return s
  }
  const num = (v: Json, p: number, what: string): number =>
    typeof v === "number" ? v : fail(`${what} needs a number, got ${typeOf(v)}`, p)
  const equal = (a: Json, b: Json, p: number): boolean => {
    if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return a === b
    const sa = textOf(a)
    const sb = textOf(b)
    tick(p, Math.ceil((sa.length + sb.length) / 64))
    return sa === sb
  }
  const finite = (n: number, p: number) =>
    Number.isFinite(n) ? n : fail("arithmetic result is not a finite number", p)

  const ev = (n: Node): Json => {
    tick(n.p)
    switch (n.k) {
      case "lit":
        return n.v
      case "name":
        return scope[n.n] ?? null
      case "member": {
        const o = ev(n.o)
        const f = ev(n.f)
        if (o === null) return null
        if (Array.isArray(o)) {
          if (typeof f !== "number" || !Number.isInteger(f)) return fail("a list index must be an integer", n.p)
          return (o as ReadonlyArray<Json>)[f < 0 ? o.length + f : f] ?? null
        }
        if (isObject(o)) {
          if (typeof f !== "string") return fail("a field name must be a string", n.p)
          return Object.hasOwn(o, f) ? (o[f] ?? null) : null
        }
        if (typeof o === "string" && f === "length") return o.length
        return null
      }
      case "unary": {
        const a = ev(n.a)
        if (n.op === "!") return !truthy(a)
        return -num(a, n.p, "-")
      }
      case "cond":
        return truthy(ev(n.c)) ? ev(n.a) : ev(n.b)
      case "list": {
        const items = n.items.map(ev)
        return items
      }
      case "binary": {
        if (n.op === "&&") return truthy(ev(n.a)) ? ev(n.b) : false
        if (n.op === "||") {
          const a = ev(n.a)
          return truthy(a) ? a : ev(n.b)
        }
        const a = ev(n.a)
        const b = ev(n.b)
        switch (n.op) {
          case "==":
            return equal(a, b, n.p)
          case "!=":
            return !equal(a, b, n.p)
          case "<":
          case "<=":
          case ">":
          case ">=": {
            if (!((typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string")))
              return fail(`${n.op} compares two numbers or two strings, got ${typeOf(a)} and ${typeOf(b)}`, n.p)
            return n.op === "<" ? a < b : n.op === "<=" ? a <= b : n.op === ">" ? a > b : a >= b
          }
          case "in":
            if (typeof b === "string") {
              if (typeof a !== "string") return fail(`in on a string needs a string, got ${typeOf(a)}`, n.p)
              tick(n.p, Math.ceil(b.length / 64))
              return b.includes(a)
            }
            if (Array.isArray(b)) {
              tick(n.p, b.length)
              return (b as ReadonlyArray<Json>).some((x) => equal(a, x, n.p))
            }
            if (isObject(b)) return typeof a === "string" && Object.hasOwn(b, a)
            return fail(`in needs a list, a string or an object on its right, got ${typeOf(b)}`, n.p)
          case "+":
            if (typeof a === "number" && typeof b === "number") return finite(a + b, n.p)
            if (typeof a === "string" || typeof b === "string") {
              if (typeof a === "object" || typeof b === "object")
                return fail(`+ joins strings with strings, numbers or booleans, got ${typeOf(a)} and ${typeOf(b)}`, n.p)
              const s = String(a) + String(b)
              tick(n.p, Math.ceil(s.length / 64))
              return str(s, n.p)
            }
            if (Array.isArray(a) && Array.isArray(b)) {
              if (a.length + b.length > Limits.maxArray) return fail(`list too long (at most ${Limits.maxArray})`, n.p)
              tick(n.p, a.length + b.length)
              return [...a, ...b]
            }
            return fail(`+ needs numbers, strings or lists, got ${typeOf(a)} and ${typeOf(b)}`, n.p)
          case "-":
            return finite(num(a, n.p, "-") - num(b, n.p, "-"), n.p)
          case "*":
            return finite(num(a, n.p, "*") * num(b, n.p, "*"), n.p)
          case "/": {
            const d = num(b, n.p, "/")
            if (d === 0) return fail("division by zero", n.p)
            return finite(num(a, n.p, "/") / d, n.p)
          }
          case "%": {
            const d = num(b, n.p, "%")
            if (d === 0) return fail("division by zero", n.p)
            return finite(num(a, n.p, "%") % d, n.p)
          }
        }
        return fail("unknown operator", n.p)
      }
      case "call":
        return call(n.fn, n.args.map(ev), n.p)
    }
  }

  const call = (fn: string, args: ReadonlyArray<Json>, p: number): Json => {
    const arity = (min: number, max = min) => {
      if (args.length < min || args.length > max)
        fail(`${fn} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`, p)
    }
    const s = (i: number): string => {
      const v = args[i] ?? null
      return typeof v === "string" ? v : fail(`${fn} needs a string as argument ${i + 1}, got ${typeOf(v)}`, p)
    }
    switch (fn) {
      case "len": {
        arity(1)
        const v = args[0]!
        if (typeof v === "string" || Array.isArray(v)) return v.length
        if (isObject(v)) return Object.keys(v).length
        if (v === null) return 0
        return fail(`len needs a string, list or object, got ${typeOf(v)}`, p)
      }
      case "lower":
        arity(1)
        tick(p, Math.ceil(s(0).length / 64))
        return s(0).toLowerCase()
      case "upper":
        arity(1)
        tick(p, Math.ceil(s(0).length / 64))
        return str(s(0).toUpperCase(), p)
      case "trim":
        arity(1)
        return s(0).trim()
      case "contains": {
        arity(2)
        const h = args[0]!
        if (typeof h === "string") {
          tick(p, Math.ceil(h.length / 64))
          return h.includes(s(1))
        }
        if (Array.isArray(h)) {
          tick(p, h.length)
          return (h as ReadonlyArray<Json>).some((x) => equal(x, args[1]!, p))
        }
        if (h === null) return false
        return fail(`contains needs a string or a list, got ${typeOf(h)}`, p)
      }
      case "startsWith":
        arity(2)
        return s(0).startsWith(s(1))
      case "endsWith":
        arity(2)
        return s(0).endsWith(s(1))
      case "number": {
        arity(1)
        const v = args[0]!
        if (typeof v === "number") return v
        if (typeof v === "boolean") return v ? 1 : 0
        if (typeof v === "string" && /^\s*-?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v.slice(0, 64)))
          return finite(Number(v), p)
        return fail(
          `number cannot convert ${typeOf(v)} ${typeof v === "string" ? JSON.stringify(v.slice(0, 40)) : ""}`.trim(),
          p
        )
      }
      case "string": {
        arity(1)
        const t = textOf(args[0]!)
        tick(p, Math.ceil(t.length / 64))
        return str(t, p)
      }
      case "json": {
        arity(1)
        const t = JSON.stringify(args[0]!)
        tick(p, Math.ceil(t.length / 64))
        return str(t, p)
      }
      case "round":
      case "floor":
      case "ceil":
      case "abs":
        arity(1)
        return Math[fn](num(args[0]!, p, fn))
      case "min":
      case "max":
        arity(1, 32)
        return Math[fn](...args.map((a) => num(a, p, fn)))
      case "coalesce":
        arity(1, 32)
        return args.find((a) => a !== null) ?? null
      case "exists":
        arity(1)
        return args[0] !== null
      case "keys": {
        arity(1)
        const o = args[0]!
        if (!isObject(o)) return fail(`keys needs an object, got ${typeOf(o)}`, p)
        const k = Object.keys(o)
        tick(p, k.length)
        return k.slice(0, Limits.maxArray)
      }
    }
    return fail(`unknown function ${fn}`, p)
  }

  return ev(c.ast)
}

export type Evaluated = { readonly ok: true; readonly value: Json } | { readonly ok: false; readonly error: ExprError }

/** Evaluates: never throws. */
export const evaluate = (c: Compiled, scope: Readonly<Record<string, Json>>): Evaluated => {
  try {
    return { ok: true, value: evalUnsafe(c, scope) }
  } catch (e) {
    if (e instanceof ExprError) return { ok: false, error: e }
    if (e instanceof RangeError)
      return { ok: false, error: new ExprError({ message: "evaluation too deep", position: 0 }) }
    throw e
  }
}

/** JavaScript-like truthiness: null, false, 0, "" and [] are false. */
export const truthy = (v: Json): boolean =>
  v === null ? false : Array.isArray(v) ? v.length > 0 : typeof v === "object" ? true : Boolean(v)

// ---- templates: "text {{ expr }} text" ----

export interface Template {
  readonly parts: ReadonlyArray<string | Compiled>
}

const TEMPLATE = /\{\{([\s\S]*?)\}\}/g

/** Parses a template string: every `{{ … }}` is an expression. */
export const parseTemplate = (
  src: string,
  roots: ReadonlyArray<string>
): { readonly ok: true; readonly value: Template } | { readonly ok: false; readonly error: ExprError } => {
  const parts: Array<string | Compiled> = []
  let last = 0
  for (const m of src.matchAll(TEMPLATE)) {
    if (m.index! > last) parts.push(src.slice(last, m.index))
    const r = parse(m[1]!.trim(), roots)
    if (!r.ok)
      return {
        ok: false,
        error: new ExprError({ message: r.error.message, position: m.index! + 2 + r.error.position })
      }
    parts.push(r.value)
    last = m.index! + m[0].length
  }
  if (last < src.length) parts.push(src.slice(last))
  return { ok: true, value: { parts } }
}

/** Renders a template: a template that is exactly one `{{ expr }}` keeps the value's type. */
export const render = (t: Template, scope: Readonly<Record<string, Json>>): Evaluated => {
  if (t.parts.length === 1 && typeof t.parts[0] !== "string") return evaluate(t.parts[0]!, scope)
  let out = ""
  for (const part of t.parts) {
    if (typeof part === "string") out += part
    else {
      const r = evaluate(part, scope)
      if (!r.ok) return r
      out += r.value === null ? "" : textOf(r.value)
    }
    if (out.length > Limits.maxString * 4)
      return { ok: false, error: new ExprError({ message: "rendered text too long", position: 0 }) }
  }
  return { ok: true, value: out }
}

/** Every string in a JSON value, with its path, so templates inside parameters are checked and rendered. */
export const renderDeep = (
  value: Json,
  scope: Readonly<Record<string, Json>>,
  roots: ReadonlyArray<string>
): Evaluated => {
  const walk = (v: Json): Json => {
    if (typeof v === "string") {
      if (!v.includes("{{")) return v
      const t = parseTemplate(v, roots)
      if (!t.ok) throw t.error
      const r = render(t.value, scope)
      if (!r.ok) throw r.error
      return r.value
    }
    if (Array.isArray(v)) return (v as ReadonlyArray<Json>).map(walk)
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  try {
    return { ok: true, value: walk(value) }
  } catch (e) {
    if (e instanceof ExprError) return { ok: false, error: e }
    throw e
  }
}

/** Checks every template in a JSON value; the first error with its JSON path. */
export const checkDeep = (
  value: Json,
  roots: ReadonlyArray<string>,
  path: string
): { readonly path: string; readonly message: string } | undefined => {
  if (typeof value === "string") {
    if (!value.includes("{{")) return undefined
    const t = parseTemplate(value, roots)
    return t.ok ? undefined : { path, message: `${t.error.message} (at ${t.error.position})` }
  }
  if (Array.isArray(value)) {
    for (const [i, v] of (value as ReadonlyArray<Json>).entries()) {
      const e = checkDeep(v, roots, `${path}.${i}`)
      if (e) return e
    }
    return undefined
  }
  if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      const e = checkDeep(v, roots, `${path}.${k}`)
      if (e) return e
    }
  return undefined
}
