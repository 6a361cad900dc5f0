/**
 * Admission check for custom DLP regexes, before they are stored. It refuses
 * the constructs behind catastrophic backtracking in JavaScript's engine —
 * a quantified group that itself contains a quantifier or an alternation
 * (`(a+)+`, `(a|a)*`), backreferences and lookarounds — and more than
 * `maxUnbounded` unbounded quantifiers (`a*a*a*…b` is polynomial). Admitted
 * patterns still run in a worker with a deadline (CustomRegex.ts): the check
 * keeps the common mistakes out, the deadline bounds whatever gets through.
 */

export interface RegexProblem {
  readonly message: string
}

export const maxSourceLength = 512
export const maxUnbounded = 4

export const checkRegex = (source: string, flags = ""): RegexProblem | null => {
  if (source.length === 0) return { message: "must not be empty" }
  if (source.length > maxSourceLength) return { message: `must be at most ${maxSourceLength} characters` }
  if (!/^[imsu]*$/.test(flags)) return { message: "flags may only be i, m, s, u" }
  try {
    new RegExp(source, flags)
  } catch (e) {
    return { message: `not a valid regular expression: ${e instanceof Error ? e.message : String(e)}` }
  }
  // Per open group: does it contain a quantifier or an alternation?
  const stack: Array<{ quantified: boolean; alternation: boolean }> = []
  let unbounded = 0
  let inClass = false
  let lastClosed: { quantified: boolean; alternation: boolean } | null = null
  for (let i = 0; i < source.length; i++) {
    const ch = source[i]!
    if (ch === "\\") {
      const next = source[i + 1] ?? ""
      if (!inClass && /[1-9k]/.test(next)) return { message: "backreferences are not allowed" }
      i++
      lastClosed = null
      continue
    }
    if (inClass) {
      if (ch === "]") inClass = false
      continue
    }
    if (ch === "[") {
      inClass = true
      lastClosed = null
      continue
    }
    if (ch === "(") {
      if (
        source.startsWith("(?=", i) ||
        source.startsWith("(?!", i) ||
        source.startsWith("(?<=", i) ||
        source.startsWith("(?<!", i)
      )
        return { message: "lookahead and lookbehind are not allowed" }
      stack.push({ quantified: false, alternation: false })
      lastClosed = null
      continue
    }
    if (ch === ")") {
      lastClosed = stack.pop() ?? null
      if (lastClosed && stack.length > 0) {
        const parent = stack[stack.length - 1]!
        parent.quantified ||= lastClosed.quantified
        parent.alternation ||= lastClosed.alternation
      }
      continue
    }
    if (ch === "|") {
      const top = stack[stack.length - 1]
      if (top) top.alternation = true
      continue
    }
    const isQuantifier =
      ch === "*" || ch === "+" || ch === "?" || (ch === "{" && /^\{\d+(,\d*)?\}/.test(source.slice(i)))
    if (isQuantifier) {
      const braces = ch === "{" ? /^\{\d+(,\d*)?\}/.exec(source.slice(i))![0] : ""
      const isUnbounded = ch === "*" || ch === "+" || /,\}$/.test(braces)
      const isRepeat = ch !== "?" && !(braces !== "" && /^\{(\d+)\}$/.test(braces) && braces === "{1}")
      if (lastClosed && isRepeat && (lastClosed.quantified || lastClosed.alternation))
        return {
          message: "a repeated group must not contain a quantifier or an alternation (catastrophic backtracking)"
        }
      if (isUnbounded && ++unbounded > maxUnbounded)
        return { message: `at most ${maxUnbounded} unbounded quantifiers (*, +, {n,})` }
      const top = stack[stack.length - 1]
      if (top && isRepeat) top.quantified = true
      if (braces) i += braces.length - 1
      if (source[i + 1] === "?") i++
      lastClosed = null
      continue
    }
    lastClosed = null
  }
  return null
}
