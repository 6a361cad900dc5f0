/** REST for the app catalog. */
import { Effect, Schema } from "effect"
import { hasPermission } from "../Actor.ts"
import { Conflict, NotFound } from "../Errors.ts"
import * as HttpRoute from "../HttpRoute.ts"
import { ByName, ListQuery, Page } from "../Pagination.ts"
import * as Text from "../Text.ts"
import { CreateTemplate, Template, UpdateTemplate } from "./TemplateModel.ts"
import { Templates } from "./Templates.ts"

const IdParams = Schema.Struct({ id: Text.Id })
const TemplateQuery = Schema.Struct({
  ...ListQuery(ByName).fields,
  q: Schema.optional(Text.Short),
  category: Schema.optional(Text.Short),
  tag: Schema.optional(Text.Short)
})

export const templateRoutes = [
  HttpRoute.make({
    method: "GET",
    path: "/api/templates",
    summary: "Browse the catalog (enabled apps; admins see all); search with q, category, tag",
    tags: ["templates"],
    permission: "templates:read",
    query: TemplateQuery,
    response: Page(Template),
    handler: ({ query, actor }) =>
      Effect.flatMap(Templates, (t) => t.list({ ...query, enabledOnly: !hasPermission(actor, "templates:admin") }))
  }),
  HttpRoute.make({
    method: "POST",
    path: "/api/templates",
    summary: "Add an app to the catalog",
    tags: ["templates"],
    permission: "templates:admin",
    body: CreateTemplate,
    response: Template,
    successStatus: 201,
    audit: { action: "template.create", target: (_, out) => out.id },
    errors: [NotFound, Conflict],
    handler: ({ body }) => Effect.flatMap(Templates, (t) => t.create(body))
  }),
  HttpRoute.make({
    method: "GET",
    path: "/api/templates/:id",
    summary: "Read one template (disabled ones only for admins)",
    tags: ["templates"],
    permission: "templates:read",
    params: IdParams,
    response: Template,
    errors: [NotFound],
    handler: ({ params, actor }) =>
      Effect.flatMap(Templates, (t) => t.get(params.id)).pipe(
        Effect.filterOrFail(
          (t) => t.enabled || hasPermission(actor, "templates:admin"),
          () => new NotFound({ resource: "template", id: params.id })
        )
      )
  }),
  HttpRoute.make({
    method: "PATCH",
    path: "/api/templates/:id",
    summary: "Change a template",
    tags: ["templates"],
    permission: "templates:admin",
    params: IdParams,
    body: UpdateTemplate,
    response: Template,
    audit: { action: "template.update", target: (i) => i.params.id },
    errors: [NotFound],
    handler: ({ params, body }) => Effect.flatMap(Templates, (t) => t.update(params.id, body))
  }),
  HttpRoute.make({
    method: "DELETE",
    path: "/api/templates/:id",
    summary: "Remove a template (409 while sessions of it are live)",
    tags: ["templates"],
    permission: "templates:admin",
    params: IdParams,
    audit: { action: "template.delete", target: (i) => i.params.id },
    errors: [NotFound, Conflict],
    handler: ({ params }) => Effect.flatMap(Templates, (t) => t.delete(params.id))
  })
]
