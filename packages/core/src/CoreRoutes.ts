/**
 * Every core REST route, mounted by the server. Features add their route
 * lists here.
 */
import { identityRoutes } from "./identity/IdentityHttp.ts"

export const coreRoutes = [...identityRoutes]
