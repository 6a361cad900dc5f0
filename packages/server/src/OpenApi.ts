/**
 * OpenAPI 3.1 built from the route descriptions (core and enabled plugins)
 * plus the operations mounted beside them and described by hand (the VNC
 * WebSocket: a GET answered 101), and a self-contained docs page that needs
 * no CDN (self-hosted installs are often offline).
 */
import type { HttpRoute } from "@streamspace/core"
import type { JSONSchema } from "effect"
import { titles } from "./Problem.ts"
import * as EventStream from "./EventStream.ts"
import * as VncProxy from "./VncProxy.ts"

/** An operation mounted outside the route descriptions (a WebSocket), described by hand. */
export interface RawOperation {
  readonly path: string
  readonly method: "get"
  readonly operation: Record<string, unknown>
}

const toOpenApiPath = (path: string) => path.replace(/:(\w+)/g, "{$1}")

const parametersOf = (route: HttpRoute.Route<unknown>) => {
  const out: Array<Record<string, unknown>> = []
  const add = (where: "path" | "query", schema: JSONSchema.JsonSchema7 | undefined) => {
    const props = schema as { properties?: Record<string, unknown>; required?: ReadonlyArray<string> } | undefined
    for (const [name, s] of Object.entries(props?.properties ?? {})) {
      out.push({ name, in: where, required: where === "path" || (props?.required ?? []).includes(name), schema: s })
    }
  }
  add("path", route.openapi.params)
  add("query", route.openapi.query)
  for (const match of route.path.matchAll(/:(\w+)/g)) {
    if (!out.some((p) => p["name"] === match[1] && p["in"] === "path")) {
      out.push({ name: match[1], in: "path", required: true, schema: { type: "string" } })
    }
  }
  return out
}

const problemResponse = (status: number) => ({
  description: titles[status] ?? "Problem",
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } }
})

/**
 * The problem statuses an operation may answer with: the route's declared
 * errors plus the implicit ones (400 when it decodes input, 413 and 415 when
 * it reads a JSON body, 401 and 403 when it needs a token, 503 when a token
 * cannot be resolved, 429 when it is rate limited, 404 `plugin_disabled` for
 * a plugin's route). Anything else (414 for an over-long URL, 500 …) stays
 * under `default`.
 */
export const errorStatuses = (route: HttpRoute.Route<unknown>): ReadonlyArray<number> => {
  const statuses = new Set<number>()
  const o = route.openapi
  if (o.params !== undefined || o.query !== undefined || o.body !== undefined) statuses.add(400)
  if (o.body !== undefined && o.body !== "binary") {
    statuses.add(413)
    statuses.add(415)
  }
  if (route.permission !== "public") {
    statuses.add(401)
    statuses.add(403)
    statuses.add(503)
  }
  if (route.rateLimit !== "none") statuses.add(429)
  if (route.plugin !== undefined) statuses.add(404)
  for (const error of route.errors) statuses.add(error.status)
  return [...statuses].sort((a, b) => a - b)
}

export const document = (
  routes: ReadonlyArray<HttpRoute.Route<unknown>>,
  info: { version: string; serverUrl: string },
  raw: ReadonlyArray<RawOperation> = [VncProxy.openApiOperation, EventStream.openApiOperation]
) => {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const p = (paths[toOpenApiPath(route.path)] ??= {})
    const body = route.openapi.body
    p[route.method.toLowerCase()] = {
      summary: route.summary,
      tags: route.tags,
      "x-permission": route.permission,
      "x-rate-limit": route.rateLimit,
      // Which plugin serves the operation (its tags may be the plugin's own choice).
      ...(route.plugin === undefined ? {} : { "x-plugin": route.plugin }),
      ...(route.permission === "public" ? { security: [] } : {}),
      parameters: parametersOf(route),
      ...(body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              content:
                body === "binary"
                  ? { "application/octet-stream": { schema: { type: "string", format: "binary" } } }
                  : { "application/json": { schema: body } }
            }
          }),
      responses: {
        [String(route.successStatus)]: route.openapi.response
          ? { description: "OK", content: { "application/json": { schema: route.openapi.response } } }
          : { description: "OK" },
        ...Object.fromEntries(errorStatuses(route).map((status) => [String(status), problemResponse(status)])),
        default: { ...problemResponse(500), description: "Problem" }
      }
    }
  }
  for (const { path, method, operation } of raw) {
    const p = (paths[toOpenApiPath(path)] ??= {})
    p[method] = {
      ...operation,
      responses: { ...(operation["responses"] as object), default: { ...problemResponse(500), description: "Problem" } }
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "StreamSpace API", version: info.version },
    servers: [{ url: info.serverUrl }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "Access token from /api/auth/login, or an API key" }
      },
      schemas: {
        Problem: {
          type: "object",
          required: ["type", "title", "status", "detail", "code"],
          properties: {
            type: { type: "string" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            code: { type: "string" },
            requestId: { type: "string" },
            errors: {
              type: "array",
              items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } }
            }
          }
        }
      }
    }
  }
}

export const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>StreamSpace API</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<style>
body{font:14px/1.5 system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:16px 24px}h1{margin:0;font-size:20px}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
details{background:#fff;border:1px solid #dde1e7;border-radius:6px;margin:6px 0}
summary{cursor:pointer;padding:8px 12px;display:flex;gap:12px;align-items:baseline}
.m{font-weight:700;width:64px;font-family:monospace}.GET{color:#1a7f37}.POST{color:#0550ae}.PUT,.PATCH{color:#9a6700}.DELETE{color:#cf222e}
code{font-family:ui-monospace,monospace}.perm{margin-left:auto;color:#57606a;font-size:12px}
pre{background:#f6f8fa;margin:0;padding:8px 12px;overflow:auto;font-size:12px}
input{width:100%;padding:8px;margin:8px 0 12px;box-sizing:border-box}
</style></head><body><header><h1>StreamSpace API</h1><div><a style="color:#9cf" href="/api/openapi.json">openapi.json</a></div></header>
<main><input id="q" placeholder="Filter by path, tag or permission"><div id="list">Loading…</div></main>
<script>
fetch('/api/openapi.json').then(r=>r.json()).then(doc=>{
  const list=document.getElementById('list');const rows=[];
  for(const [path,ops] of Object.entries(doc.paths))for(const [m,op] of Object.entries(ops))rows.push({path,m:m.toUpperCase(),op});
  const render=f=>{list.innerHTML='';for(const r of rows){const text=(r.path+' '+r.op.tags.join(' ')+' '+r.op['x-permission']).toLowerCase();
    if(f&&!text.includes(f))continue;const d=document.createElement('details');const s=document.createElement('summary');
    s.innerHTML='<span class="m '+r.m+'">'+r.m+'</span><code></code><span></span><span class="perm"></span>';
    s.children[1].textContent=r.path;s.children[2].textContent=r.op.summary||'';s.children[3].textContent='permission: '+r.op['x-permission'];
    const pre=document.createElement('pre');pre.textContent=JSON.stringify({parameters:r.op.parameters,requestBody:r.op.requestBody,responses:r.op.responses},null,2);
    d.append(s,pre);list.append(d)}};
  render('');document.getElementById('q').oninput=e=>render(e.target.value.toLowerCase());
});
</script></body></html>`
