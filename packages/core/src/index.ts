/**
 * @streamspace/core — the lean core: shared contracts (errors, actor, routes,
 * config, events) and the core domain services.
 */
export * as Actor from "./Actor.ts"
export * as AuditLog from "./audit/AuditLog.ts"
export * as CoreMigrations from "./CoreMigrations.ts"
export * from "./Errors.ts"
export * as CoreEvents from "./events/CoreEvents.ts"
export * as EventOutbox from "./events/EventOutbox.ts"
export * as HttpRoute from "./HttpRoute.ts"
export * as Authenticator from "./identity/Authenticator.ts"
export * as Pagination from "./Pagination.ts"
export * as ServerConfig from "./ServerConfig.ts"
export * as SessionRuntime from "./sessions/SessionRuntime.ts"
export * as HookRunner from "./hooks/HookRunner.ts"
export * as CoreLive from "./CoreLive.ts"
export * as CoreRoutes from "./CoreRoutes.ts"
