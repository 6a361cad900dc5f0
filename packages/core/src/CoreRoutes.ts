/**
 * Every core REST route, mounted by the server. Features add their route
 * lists here.
 */
import type { Route } from "./HttpRoute.ts"

export const coreRoutes: ReadonlyArray<Route<never>> = []
