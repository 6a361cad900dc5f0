/**
 * @streamspace/testing — the test kit: a real platform on a fresh database,
 * an HTTP client, the test clock, and local HTTP peers.
 */
export * as FakeKubeApiServer from "./FakeKubeApiServer.ts"
export * as LocalServer from "./LocalServer.ts"
export * as OutgoingHttp from "./OutgoingHttp.ts"
export * as ServerDatabase from "./ServerDatabase.ts"
export * as ServerProcess from "./ServerProcess.ts"
export * as TestPlatform from "./TestPlatform.ts"
