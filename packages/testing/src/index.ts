/**
 * @streamspace/testing — the test kit: a real platform on a fresh database,
 * an HTTP client, a simulated clock, condition waits, real server
 * processes, local HTTP peers, a PostgreSQL wire counter, and stub
 * services for fast tests.
 */
export * as BrowserKit from "./BrowserKit.ts"
export * as Chromium from "./Chromium.ts"
export * as DesktopReaper from "./DesktopReaper.ts"
export * as Eventually from "./Eventually.ts"
export * as FakeKubeApiServer from "./FakeKubeApiServer.ts"
export * as LocalServer from "./LocalServer.ts"
export * as OutgoingHttp from "./OutgoingHttp.ts"
export * as PgWireCounter from "./PgWireCounter.ts"
export * as ServerDatabase from "./ServerDatabase.ts"
export * as ServerProcess from "./ServerProcess.ts"
export * as SimulatedClock from "./SimulatedClock.ts"
export { stub, stubLayer } from "./StubLayer.ts"
export * as TestPlatform from "./TestPlatform.ts"
export * as TestTimeouts from "./TestTimeouts.ts"
export * as Totp from "./Totp.ts"
export * as VncClient from "./VncClient.ts"
