/**
 * @streamspace/db — SqlClient layers for PostgreSQL and embedded PGlite,
 * migrations, and fresh databases for tests.
 */
export * as Database from "./Database.ts"
/** The SqlClient with per-client transactions that both engines build on (also for drivers measured outside, scripts/bench/driver.ts). */
export * as IsolatedSqlClient from "./internal/IsolatedSqlClient.ts"
export * as Migrations from "./Migrations.ts"
export * as PgliteClient from "./PgliteClient.ts"
export * as PostgresClient from "./PostgresClient.ts"
export * as TestDatabase from "./TestDatabase.ts"
