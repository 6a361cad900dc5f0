/** Template resource rules (TemplatePolicy) and the Templates service on a stub TemplateRepo. */
import { describe, expect, test } from "bun:test"
import { Conflict, TemplatePolicy, TemplateRepo, Templates, ValidationError } from "@streamspace/core"
import { stubLayer } from "@streamspace/testing/stubs"
import { Effect, Exit } from "effect"
import { failureOf, template, valueOf } from "./helpers.ts"

const limits = { defaultCpu: 500, maxCpu: 2000, defaultMemory: 1024, maxMemory: 4096 }
const run = <A, E>(
  repo: Partial<TemplateRepo.TemplateRepo["Type"]>,
  use: (t: Templates.Templates["Type"]) => Effect.Effect<A, E>
) =>
  Effect.runPromiseExit(
    Effect.flatMap(Templates.Templates, use).pipe(
      Effect.provide(Templates.TemplatesLive),
      Effect.provide(stubLayer(TemplateRepo.TemplateRepo, repo))
    )
  )

describe("template limits", () => {
  test("defaults at or under the maximums pass", () => {
    expect(Exit.isSuccess(Effect.runSyncExit(TemplatePolicy.checkLimits(limits, "body.")))).toBe(true)
    expect(
      Exit.isSuccess(Effect.runSyncExit(TemplatePolicy.checkLimits({ ...limits, defaultCpu: 2000 }, "body.")))
    ).toBe(true)
  })

  test("a default over its maximum is a 400 on that field, cpu first", () => {
    const cpu = failureOf(
      Effect.runSyncExit(TemplatePolicy.checkLimits({ ...limits, defaultCpu: 3000, defaultMemory: 9000 }, "body."))
    )
    expect(cpu.errors).toEqual([{ path: "body.defaultCpu", message: "must not exceed maxCpu (2000)" }])
    const memory = failureOf(Effect.runSyncExit(TemplatePolicy.checkLimits({ ...limits, defaultMemory: 9000 }, "")))
    expect(memory.errors[0]?.path).toBe("defaultMemory")
  })

  test("an update is checked merged over the stored template; undefined fields keep their value", () => {
    const merged = TemplatePolicy.patched(limits, { maxCpu: 400, defaultMemory: undefined })
    expect(merged).toEqual({ ...limits, maxCpu: 400 })
  })

  test("a session gets the defaults, or what it asks for up to the maximums", () => {
    expect(Effect.runSync(TemplatePolicy.resourcesFor({ ...limits, name: "ff" }, {}))).toEqual({
      cpu: 500,
      memory: 1024
    })
    expect(Effect.runSync(TemplatePolicy.resourcesFor({ ...limits, name: "ff" }, { cpu: 2000, memory: 64 }))).toEqual({
      cpu: 2000,
      memory: 64
    })
  })

  test("asking for more than the maximum is a 400 naming the field and the template", () => {
    const memory = failureOf(
      Effect.runSyncExit(TemplatePolicy.resourcesFor({ ...limits, name: "ff" }, { memory: 4097 }))
    )
    expect(memory.errors).toEqual([{ path: "body.memory", message: "at most 4096 MiB for ff" }])
  })
})

describe("the Templates service", () => {
  const input = {
    name: "ff",
    displayName: "Firefox",
    description: "",
    iconUrl: null,
    category: "general",
    tags: [],
    image: "x/ff:1",
    ports: [],
    env: {},
    vncPort: 5900,
    enabled: true,
    ...limits
  }

  test("create refuses defaults over maximums before any SQL", async () => {
    const error = failureOf(await run({}, (t) => t.create({ ...input, defaultCpu: 2500 })))
    expect(error).toBeInstanceOf(ValidationError)
  })

  test("a taken name is a 409 template_name_taken", async () => {
    const error = failureOf(await run({ insert: () => Effect.succeed(false) }, (t) => t.create(input)))
    expect(error).toBeInstanceOf(Conflict)
    expect(error).toMatchObject({ code: "template_name_taken", message: "a template named ff exists" })
  })

  test("lowering maxCpu under the stored default is refused; nothing is written", async () => {
    const error = failureOf(
      await run({ findById: () => Effect.succeed(template()) }, (t) => t.update("t1", { maxCpu: 400 }))
    )
    expect(error).toMatchObject({ errors: [{ path: "body.defaultCpu", message: "must not exceed maxCpu (400)" }] })
  })

  test("an update writes only the columns given, by their SQL names", async () => {
    const written: Array<Record<string, unknown>> = []
    const repo = {
      findById: () => Effect.succeed(template()),
      update: (_id: string, columns: Record<string, unknown>) => Effect.sync(() => void written.push(columns))
    }
    valueOf(await run(repo, (t) => t.update("t1", { displayName: "Firefox ESR", maxMemory: 8192, env: { A: "1" } })))
    expect(written).toEqual([{ display_name: "Firefox ESR", max_memory: 8192, env: JSON.stringify({ A: "1" }) }])
  })

  test("a template with live sessions cannot be deleted: 409 naming how many", async () => {
    const error = failureOf(
      await run({ findById: () => Effect.succeed(template()), liveSessions: () => Effect.succeed(2) }, (t) =>
        t.delete("t1")
      )
    )
    expect(error).toMatchObject({ code: "template_in_use", message: "2 session(s) of this template are still live" })
  })

  test("unknown ids are a 404 naming the template", async () => {
    expect(failureOf(await run({ findById: () => Effect.succeed(undefined) }, (t) => t.get("nope")))).toMatchObject({
      _tag: "NotFound",
      resource: "template",
      id: "nope"
    })
  })
})
