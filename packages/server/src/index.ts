/**
 * @streamspace/server — the HTTP edge and the process: config sources,
 * Layer composition, Elysia app, main.
 */
export * as ClientIp from "./ClientIp.ts"
export * as ConfigSources from "./ConfigSources.ts"
export * as HttpApp from "./HttpApp.ts"
export * as Logging from "./Logging.ts"
export * as OpenApi from "./OpenApi.ts"
export * as Platform from "./Platform.ts"
export * as Problem from "./Problem.ts"
export * as RateLimiter from "./RateLimiter.ts"
export * as RateLimitStore from "./RateLimitStore.ts"
export * as Server from "./Server.ts"
export * as VncProxy from "./VncProxy.ts"
export * as EventStream from "./EventStream.ts"
