/** The expression language: what it computes, what it refuses, and properties over generated input (fast-check). */
import { describe, expect, test } from "bun:test"
import fc from "fast-check"
import { Expr } from "@streamspace/plugin-workflows"

const roots = ["trigger", "steps", "vars"]
const run = (src: string, scope: Record<string, Expr.Json> = {}) => {
  const p = Expr.parse(src, roots)
  if (!p.ok) throw new Error(`parse: ${p.error.message}`)
  const r = Expr.evaluate(p.value, scope)
  if (!r.ok) throw new Error(`eval: ${r.error.message}`)
  return r.value
}
const parseError = (src: string) => {
  const p = Expr.parse(src, roots)
  return p.ok ? undefined : p.error.message
}
const evalError = (src: string, scope: Record<string, Expr.Json> = {}) => {
  const p = Expr.parse(src, roots)
  if (!p.ok) throw new Error(`parse: ${p.error.message}`)
  const r = Expr.evaluate(p.value, scope)
  return r.ok ? undefined : r.error.message
}

describe("evaluation", () => {
  test("reads trigger data and step outputs, with null for what is missing", () => {
    const scope = {
      trigger: { payload: { userId: "u1", cpu: 2000, tags: ["gpu", "night"] } },
      steps: { cost: { output: { totalMinor: 1250 } } }
    }
    expect(run("trigger.payload.cpu >= 1000 && contains(trigger.payload.tags, 'gpu')", scope)).toBe(true)
    expect(run("steps.cost.output.totalMinor / 100", scope)).toBe(12.5)
    expect(run("trigger.payload.missing.deeper", scope)).toBe(null)
    expect(run("trigger['payload']['tags'][-1]", scope)).toBe("night")
    expect(run("'gpu' in trigger.payload.tags ? upper('yes') : 'no'", scope)).toBe("YES")
    expect(run("coalesce(vars.x, 'default')", scope)).toBe("default")
    expect(run("len(trigger.payload.tags) + 1", scope)).toBe(3)
    expect(run("'n=' + 3", scope)).toBe("n=3")
    expect(run("!(1 < 2) || 3 % 2 == 1")).toBe(true)
    expect(run("[1, 2] + [3]")).toEqual([1, 2, 3])
    expect(run("len('abc') == 3 && trim(' a ') == 'a'")).toBe(true)
  })

  test("type errors and division by zero are errors with a position, not exceptions", () => {
    expect(evalError("'a' * 2")).toContain("* needs a number")
    expect(evalError("1 / 0")).toBe("division by zero")
    expect(evalError("[1] < 2")).toContain("compares two numbers or two strings")
    expect(evalError("number('12abc')")).toContain("number cannot convert")
  })

  test("templates keep the type of a lone expression and join text otherwise", () => {
    const t1 = Expr.parseTemplate("{{ trigger.n }}", roots)
    const t2 = Expr.parseTemplate("n is {{ trigger.n }} and {{ trigger.o }}", roots)
    if (!t1.ok || !t2.ok) throw new Error("template")
    expect(Expr.render(t1.value, { trigger: { n: 4 } })).toEqual({ ok: true, value: 4 })
    expect(Expr.render(t2.value, { trigger: { n: 4, o: { a: 1 } } })).toEqual({ ok: true, value: 'n is 4 and {"a":1}' })
  })
})

describe("refused at validation", () => {
  test("no loops, no calls but the built-ins, no assignments, no unknown names", () => {
    expect(parseError("while (true) {}")).toContain("unexpected character")
    expect(parseError("while (true)")).toContain("unknown function while")
    expect(parseError("for(;;){}")).toBeDefined()
    expect(parseError("constructor.constructor('return process')()")).toBeDefined()
    expect(parseError("trigger.f()")).toContain("only the built-in functions can be called")
    expect(parseError("eval('1')")).toContain("unknown function eval")
    expect(parseError("x = 1")).toBeDefined()
    expect(parseError("process.exit()")).toContain("unknown name process")
    expect(parseError("trigger.a =>")).toBeDefined()
  })

  test("huge or deeply nested expressions are refused", () => {
    expect(parseError("1".repeat(3000))).toContain("too long")
    expect(parseError(Array.from({ length: 200 }, () => "1").join("+"))).toContain("too large")
    expect(parseError(`${"(".repeat(100)}1${")".repeat(100)}`)).toContain("nested too deeply")
    expect(parseError(`${"!".repeat(100)}true`)).toContain("nested too deeply")
  })

  test("evaluation cost and string sizes are bounded", () => {
    const big = "x".repeat(10_000)
    expect(evalError("trigger.s + trigger.s", { trigger: { s: big } })).toContain("string too long")
    const many = Array.from({ length: 5_000 }, (_, i) => i)
    expect(evalError("contains(trigger.l, -1) || contains(trigger.l, -2)", { trigger: { l: many } })).toContain(
      "too costly"
    )
  })
})

describe("properties", () => {
  const scalar = fc.oneof(
    fc.integer({ min: -1e6, max: 1e6 }),
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null)
  )

  test("any input either parses or is refused with an ExprError: the parser never throws", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (src) => {
        const r = Expr.parse(src, roots)
        if (r.ok) expect(r.value.nodes).toBeLessThanOrEqual(Expr.Limits.maxNodes)
        else expect(r.error._tag).toBe("ExprError")
      }),
      { numRuns: 2000 }
    )
  })

  test("strings of the language's own tokens never make the parser or evaluator throw", () => {
    const token = fc.constantFrom(
      "trigger",
      "steps",
      "vars",
      ".",
      "a",
      "[",
      "]",
      "(",
      ")",
      "1",
      "'s'",
      "+",
      "-",
      "*",
      "/",
      "%",
      "==",
      "!=",
      "<",
      ">=",
      "&&",
      "||",
      "!",
      "?",
      ":",
      ",",
      "in",
      "len",
      "contains",
      "null",
      "true",
      "upper"
    )
    fc.assert(
      fc.property(fc.array(token, { maxLength: 60 }), fc.dictionary(fc.string({ maxLength: 5 }), scalar), (toks, a) => {
        const p = Expr.parse(toks.join(" "), roots)
        if (!p.ok) return
        const r = Expr.evaluate(p.value, { trigger: { a }, vars: {}, steps: {} })
        if (!r.ok) expect(r.error._tag).toBe("ExprError")
      }),
      { numRuns: 3000 }
    )
  })

  test("integer arithmetic agrees with JavaScript", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: -1e6, max: 1e6 }), (a, b) => {
        expect(run(`trigger.a + trigger.b * 2 - 3`, { trigger: { a, b } })).toBe(a + b * 2 - 3)
        expect(run(`trigger.a < trigger.b`, { trigger: { a, b } })).toBe(a < b)
        expect(run(`${a} == ${b}`)).toBe(a === b)
      })
    )
  })

  test("string literals round-trip through quoting", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 50 }), (s) => {
        expect(run(JSON.stringify(s))).toBe(s)
      })
    )
  })

  test("equality is reflexive on any JSON value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), (v) => {
        expect(run("trigger.v == trigger.v", { trigger: { v: v as Expr.Json } })).toBe(true)
      })
    )
  })
})
