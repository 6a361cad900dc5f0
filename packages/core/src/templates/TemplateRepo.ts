/** SQL for the app catalog, as a service so that Templates' rules can run against a stub in tests. */
import { SqlClient } from "@effect/sql"
import { Context, Effect, Layer } from "effect"
import { sqlDefects } from "../Infrastructure.ts"
import { ByName, keyOf, type PageOf, pageOf } from "../Pagination.ts"
import { Template } from "./TemplateModel.ts"
import * as Rows from "../Rows.ts"

/** A `templates` row as selected. */
export interface TemplateRow {
  readonly id: string
  readonly name: string
  readonly display_name: string
  readonly description: string
  readonly icon_url: string | null
  readonly category: string
  readonly tags: ReadonlyArray<string>
  readonly image: string
  readonly default_cpu: number
  readonly default_memory: number
  readonly max_cpu: number
  readonly max_memory: number
  readonly ports: ReadonlyArray<number>
  readonly env: Record<string, string>
  readonly vnc_port: number
  readonly enabled: boolean
  readonly created_at: Date
  readonly updated_at: Date
}

export const toTemplate = (r: TemplateRow) =>
  new Template(
    {
      id: r.id,
      name: r.name,
      displayName: r.display_name,
      description: r.description,
      iconUrl: r.icon_url,
      category: r.category,
      tags: r.tags,
      image: r.image,
      defaultCpu: r.default_cpu,
      defaultMemory: r.default_memory,
      maxCpu: r.max_cpu,
      maxMemory: r.max_memory,
      ports: r.ports,
      env: r.env,
      vncPort: r.vnc_port,
      enabled: r.enabled,
      createdAt: r.created_at,
      updatedAt: r.updated_at
    },
    Rows.trusted
  )

/** Columns of a template by API field name, for inserts and partial updates. */
export const columnsOf = (t: Partial<Omit<Template, "id" | "createdAt" | "updatedAt">>): Record<string, unknown> => {
  const map: Record<string, string> = {
    name: "name",
    displayName: "display_name",
    description: "description",
    iconUrl: "icon_url",
    category: "category",
    tags: "tags",
    image: "image",
    defaultCpu: "default_cpu",
    defaultMemory: "default_memory",
    maxCpu: "max_cpu",
    maxMemory: "max_memory",
    ports: "ports",
    env: "env",
    vncPort: "vnc_port",
    enabled: "enabled"
  }
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(t)) {
    const column = map[key]
    if (column === undefined || value === undefined) continue
    out[column] = key === "env" ? JSON.stringify(value) : Array.isArray(value) ? [...value] : value
  }
  return out
}

export interface TemplateQuery {
  readonly enabledOnly: boolean
  readonly q?: string | undefined
  readonly category?: string | undefined
  readonly tag?: string | undefined
  readonly limit: number
  readonly cursor?: string | undefined
}

export class TemplateRepo extends Context.Tag("@streamspace/core/TemplateRepo")<
  TemplateRepo,
  {
    /** Returns false when the name is taken. */
    readonly insert: (id: string, columns: Record<string, unknown>, at: Date) => Effect.Effect<boolean>
    readonly findById: (id: string) => Effect.Effect<Template | undefined>
    readonly list: (q: TemplateQuery) => Effect.Effect<PageOf<Template>>
    readonly update: (id: string, columns: Record<string, unknown>, at: Date) => Effect.Effect<void>
    /** Sessions of the template that are neither terminated nor failed. */
    readonly liveSessions: (id: string) => Effect.Effect<number>
    /** Terminated and failed sessions keep history rows; the template goes with them. */
    readonly delete: (id: string) => Effect.Effect<void>
  }
>() {}

export const TemplateRepoLive = Layer.effect(
  TemplateRepo,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // A failing statement is a defect (500), not an error of the caller.
    return sqlDefects<TemplateRepo["Type"]>({
      insert: (id, columns, at) =>
        Effect.map(
          sql<{
            id: string
          }>`INSERT INTO templates ${sql.insert({ id, ...columns, created_at: at, updated_at: at })} ON CONFLICT (name) DO NOTHING RETURNING id`,
          (rows) => rows.length > 0
        ),
      findById: (id) =>
        Effect.map(sql<TemplateRow>`SELECT * FROM templates WHERE id = ${id}`, (rows) =>
          rows[0] ? toTemplate(rows[0]) : undefined
        ),
      list: (q) => {
        const cursor = keyOf(ByName, q.cursor)
        const conditions = [
          q.enabledOnly ? sql`enabled` : undefined,
          q.q
            ? sql`(name ILIKE ${`%${q.q}%`} OR display_name ILIKE ${`%${q.q}%`} OR description ILIKE ${`%${q.q}%`})`
            : undefined,
          q.category ? sql`category = ${q.category}` : undefined,
          q.tag ? sql`${q.tag} = ANY(tags)` : undefined,
          cursor ? sql`name > ${String(cursor[0])}` : undefined
        ].filter((c) => c !== undefined)
        return sql<TemplateRow>`SELECT * FROM templates ${conditions.length ? sql`WHERE ${sql.and(conditions)}` : sql``} ORDER BY name LIMIT ${q.limit + 1}`.pipe(
          Effect.map((rows) => pageOf(rows.map(toTemplate), q.limit, (t) => [t.name]))
        )
      },
      update: (id, columns, at) =>
        sql`UPDATE templates SET ${sql.update({ ...columns, updated_at: at })} WHERE id = ${id}`.pipe(Effect.asVoid),
      liveSessions: (id) =>
        Effect.map(
          sql<{
            n: string
          }>`SELECT count(*) AS n FROM sessions WHERE template_id = ${id} AND state NOT IN ('terminated', 'failed')`,
          (rows) => Number(rows[0]?.n ?? 0)
        ),
      delete: (id) =>
        Effect.gen(function* () {
          yield* sql`DELETE FROM sessions WHERE template_id = ${id} AND state IN ('terminated', 'failed')`
          yield* sql`DELETE FROM templates WHERE id = ${id}`
        })
    })
  })
)
