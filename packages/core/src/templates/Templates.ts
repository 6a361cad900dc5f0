/** The app catalog: admins manage templates; users browse enabled ones. */
import { Context, Effect, Layer } from "effect"
import { Conflict, NotFound, type ValidationError } from "../Errors.ts"
import type { PageOf } from "../Pagination.ts"
import { checkLimits, patched } from "./TemplatePolicy.ts"
import { columnsOf, TemplateRepo, type TemplateQuery } from "./TemplateRepo.ts"
import type { CreateTemplate, Template, UpdateTemplate } from "./TemplateModel.ts"
import { now } from "../Timestamps.ts"

export class Templates extends Context.Tag("@streamspace/core/Templates")<
  Templates,
  {
    readonly create: (input: CreateTemplate) => Effect.Effect<Template, Conflict | ValidationError | NotFound>
    readonly get: (id: string) => Effect.Effect<Template, NotFound>
    readonly list: (q: TemplateQuery) => Effect.Effect<PageOf<Template>>
    readonly update: (id: string, patch: UpdateTemplate) => Effect.Effect<Template, NotFound | ValidationError>
    readonly delete: (id: string) => Effect.Effect<void, NotFound | Conflict>
  }
>() {}

export const TemplatesLive = Layer.effect(
  Templates,
  Effect.gen(function* () {
    const repo = yield* TemplateRepo
    const get = (id: string) =>
      Effect.flatMap(repo.findById(id), (t) =>
        t ? Effect.succeed(t) : Effect.fail(new NotFound({ resource: "template", id }))
      )
    return {
      get,
      list: repo.list,
      create: (input) =>
        Effect.gen(function* () {
          yield* checkLimits(input, "body.")
          const id = crypto.randomUUID()
          const inserted = yield* repo.insert(id, columnsOf(input), yield* now)
          if (!inserted)
            return yield* new Conflict({
              message: `a template named ${input.name} exists`,
              code: "template_name_taken"
            })
          return yield* get(id)
        }),
      update: (id, patch) =>
        Effect.gen(function* () {
          const before = yield* get(id)
          yield* checkLimits(patched(before, patch), "body.")
          yield* repo.update(id, columnsOf(patch), yield* now)
          return yield* get(id)
        }),
      delete: (id) =>
        Effect.gen(function* () {
          yield* get(id)
          const live = yield* repo.liveSessions(id)
          if (live > 0)
            return yield* new Conflict({
              message: `${live} session(s) of this template are still live`,
              code: "template_in_use"
            })
          yield* repo.delete(id)
        })
    }
  })
)
