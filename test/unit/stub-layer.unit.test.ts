/** The test kit's stubLayer: given members work, missing ones die naming the service and member, and only when used. */
import { describe, expect, test } from "bun:test"
import { TemplateRepo, Templates, WebhookRepo } from "@streamspace/core"
import { stub, stubLayer } from "@streamspace/testing/stubs"
import { Effect } from "effect"
import { defectOf, template, valueOf } from "./helpers.ts"

describe("stubLayer", () => {
  test("members given are used as they are", async () => {
    const exit = await Effect.runPromiseExit(
      Effect.flatMap(Templates.Templates, (t) => t.get("t1")).pipe(
        Effect.provide(Templates.TemplatesLive),
        Effect.provide(stubLayer(TemplateRepo.TemplateRepo, { findById: () => Effect.succeed(template()) }))
      )
    )
    expect(valueOf(exit).name).toBe("firefox")
  })

  test("a missing method dies with stub: <Service>.<method> not provided, when called, not when built", async () => {
    // TemplatesLive copies `repo.list` while it is built: that must not die.
    const exit = await Effect.runPromiseExit(
      Effect.flatMap(Templates.Templates, (t) => t.list({ enabledOnly: true, limit: 10 })).pipe(
        Effect.provide(Templates.TemplatesLive),
        Effect.provide(stubLayer(TemplateRepo.TemplateRepo, {}))
      )
    )
    expect(defectOf(exit)).toBe("stub: TemplateRepo.list not provided")
  })

  test("a missing member that is an Effect dies the same way when run", async () => {
    const repo = stub(WebhookRepo.WebhookRepo)
    expect(defectOf(await Effect.runPromiseExit(repo.list))).toBe("stub: WebhookRepo.list not provided")
    expect(
      defectOf(
        await Effect.runPromiseExit(
          Effect.gen(function* () {
            return yield* repo.list
          })
        )
      )
    ).toBe("stub: WebhookRepo.list not provided")
  })

  test("a stub is not a thenable and does not pretend to have probed keys", async () => {
    const repo = stub(WebhookRepo.WebhookRepo, {})
    expect("then" in repo).toBe(false)
    expect(await Promise.resolve(repo)).toBe(repo)
  })
})
