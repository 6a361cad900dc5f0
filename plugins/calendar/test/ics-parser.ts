/**
 * A small, strict RFC 5545 reader for the tests: refuses bare LF, lines over
 * 75 octets, unbalanced BEGIN/END, malformed content lines and bad escapes,
 * so what the plugin writes is checked rather than trusted.
 */
export interface ParsedProperty {
  readonly name: string
  readonly params: Record<string, string>
  readonly value: string
}
export interface ParsedComponent {
  readonly name: string
  readonly properties: Array<ParsedProperty>
  readonly components: Array<ParsedComponent>
}

const encoder = new TextEncoder()

export const parse = (text: string): ParsedComponent => {
  if (!text.endsWith("\r\n")) throw new Error("does not end with CRLF")
  const physical = text.slice(0, -2).split("\r\n")
  for (const [i, line] of physical.entries()) {
    if (line.includes("\n") || line.includes("\r")) throw new Error(`line ${i + 1}: bare CR or LF`)
    if (encoder.encode(line).length > 75) throw new Error(`line ${i + 1}: over 75 octets`)
  }
  const logical: Array<string> = []
  for (const line of physical) {
    if (line.startsWith(" ") || line.startsWith("\t")) {
      if (logical.length === 0) throw new Error("continuation without a line")
      logical[logical.length - 1] += line.slice(1)
    } else logical.push(line)
  }
  const stack: Array<ParsedComponent> = []
  let root: ParsedComponent | undefined
  for (const line of logical) {
    const p = contentLine(line)
    if (p.name === "BEGIN") {
      const c: ParsedComponent = { name: p.value, properties: [], components: [] }
      if (stack.length > 0) stack[stack.length - 1]!.components.push(c)
      else if (root) throw new Error("two top-level components")
      else root = c
      stack.push(c)
    } else if (p.name === "END") {
      const c = stack.pop()
      if (!c || c.name !== p.value) throw new Error(`END:${p.value} does not close ${c?.name}`)
    } else {
      if (stack.length === 0) throw new Error(`property ${p.name} outside a component`)
      stack[stack.length - 1]!.properties.push(p)
    }
  }
  if (stack.length > 0 || !root) throw new Error("unclosed component")
  return root
}

const NAME = /^[A-Za-z0-9-]+/

const contentLine = (line: string): ParsedProperty => {
  const m = NAME.exec(line)
  if (!m) throw new Error(`no property name: ${line}`)
  const name = m[0].toUpperCase()
  let i = m[0].length
  const params: Record<string, string> = {}
  while (line[i] === ";") {
    const pm = NAME.exec(line.slice(i + 1))
    if (!pm || line[i + 1 + pm[0].length] !== "=") throw new Error(`bad parameter in ${line}`)
    i += 2 + pm[0].length
    let value: string
    if (line[i] === '"') {
      const end = line.indexOf('"', i + 1)
      if (end < 0) throw new Error(`unterminated quote in ${line}`)
      value = line.slice(i + 1, end)
      i = end + 1
    } else {
      const end = line.slice(i).search(/[;:,]/)
      value = end < 0 ? line.slice(i) : line.slice(i, i + end)
      i += value.length
    }
    params[pm[0].toUpperCase()] = value
  }
  if (line[i] !== ":") throw new Error(`no value separator in ${line}`)
  return { name, params, value: line.slice(i + 1) }
}

/** A TEXT value unescaped; a backslash before anything but \ ; , n N is an error. */
export const unescapeText = (value: string): string =>
  value.replace(/\\(.)/g, (_, c: string) => {
    if (c === "n" || c === "N") return "\n"
    if (c === "\\" || c === ";" || c === ",") return c
    throw new Error(`bad escape \\${c}`)
  })

export const prop = (c: ParsedComponent, name: string): ParsedProperty | undefined =>
  c.properties.find((p) => p.name === name)
