import { expect, test } from "bun:test"
import * as Fs from "node:fs"
import { generate, schemaFile } from "../../scripts/web-api.ts"

test("the console's API types match the server's OpenAPI document (bun run web:api regenerates them)", async () => {
  const committed = Fs.readFileSync(schemaFile, "utf8")
  const current = await generate()
  if (current !== committed) {
    const a = committed.split("\n")
    const b = current.split("\n")
    const line = a.findIndex((l, i) => l !== b[i])
    throw new Error(
      `packages/web/src/client/api/schema.gen.ts is out of date (first difference at line ${line + 1}): run bun run web:api`
    )
  }
  expect(current).toContain('"/api/sessions"')
})
