/**
 * Plugin routes under `/api/plugins/<id>/…`. Elysia cannot unregister a
 * route, so the server hands that prefix to this table, which dispatches to
 * the routes of enabled plugins. A route lives as long as the scope that
 * added it: disabling the plugin removes it.
 */
import { HttpRoute } from "@streamspace/core"
import { Context, Effect, Layer, type Scope } from "effect"
import { addScoped } from "./ScopedLists.ts"

export const PREFIX = "/api/plugins"

export class RouteRegistry extends Context.Tag("@streamspace/kernel/RouteRegistry")<
  RouteRegistry,
  {
    readonly table: HttpRoute.RouteTable
    /** `route.path` is relative to `/api/plugins/<pluginId>`. */
    readonly add: (pluginId: string, route: HttpRoute.Route) => Effect.Effect<void, never, Scope.Scope>
    /** Plugins the host knows (installed or available): their unknown paths answer plugin_disabled when off. */
    readonly setKnown: (ids: ReadonlyArray<string>) => Effect.Effect<void>
  }
>() {}

export const RouteRegistryLive = Layer.sync(RouteRegistry, () => {
  const routes = new Map<string, Array<HttpRoute.Route>>()
  let known = new Set<string>()
  const all = () => [...routes.values()].flat()
  const table: HttpRoute.RouteTable = {
    prefix: PREFIX,
    routes: all,
    resolve: (method, pathname) => {
      const plugin = pathname.slice(PREFIX.length + 1).split("/")[0] ?? ""
      const mine = routes.get(plugin)
      if (!mine || mine.length === 0) return known.has(plugin) ? { _tag: "Disabled", plugin } : { _tag: "NotFound" }
      const allowed: Array<HttpRoute.Method> = []
      for (const route of mine) {
        const params = HttpRoute.matchPath(route.path, pathname)
        if (!params) continue
        if (route.method === method) return { _tag: "Found", route, params }
        if (!allowed.includes(route.method)) allowed.push(route.method)
      }
      return allowed.length > 0 ? { _tag: "MethodNotAllowed", allowed } : { _tag: "NotFound" }
    }
  }
  return {
    table,
    setKnown: (ids) => Effect.sync(() => void (known = new Set(ids))),
    add: (pluginId, route) =>
      addScoped(routes, pluginId, {
        ...route,
        path: `${PREFIX}/${pluginId}${route.path.startsWith("/") ? "" : "/"}${route.path}`,
        tags: route.tags.length ? route.tags : [`plugin:${pluginId}`],
        plugin: pluginId
      })
  }
})
