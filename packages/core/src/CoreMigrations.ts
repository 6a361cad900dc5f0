/**
 * The core's SQL migrations, imported as text so that `bun build --compile`
 * embeds them in an edition's executable. A test checks this list against
 * the files in /migrations (a forgotten file would silently never run).
 */
import m0001 from "../../../migrations/0001_foundation.sql" with { type: "text" }
import m0002 from "../../../migrations/0002_events.sql" with { type: "text" }
import m0003 from "../../../migrations/0003_identity.sql" with { type: "text" }
import m0004 from "../../../migrations/0004_sessions.sql" with { type: "text" }
import m0005 from "../../../migrations/0005_platform.sql" with { type: "text" }
import m0006 from "../../../migrations/0006_plugins.sql" with { type: "text" }
import m0007 from "../../../migrations/0007_integration_queue.sql" with { type: "text" }
import m0008 from "../../../migrations/0008_plugin_writes.sql" with { type: "text" }
import m0009 from "../../../migrations/0009_security.sql" with { type: "text" }
import m0010 from "../../../migrations/0010_performance.sql" with { type: "text" }

export interface MigrationSource {
  readonly id: number
  readonly name: string
  readonly sql: string
}

export const coreMigrations: ReadonlyArray<MigrationSource> = [
  { id: 1, name: "foundation", sql: m0001 },
  { id: 2, name: "events", sql: m0002 },
  { id: 3, name: "identity", sql: m0003 },
  { id: 4, name: "sessions", sql: m0004 },
  { id: 5, name: "platform", sql: m0005 },
  { id: 6, name: "plugins", sql: m0006 },
  { id: 7, name: "integration_queue", sql: m0007 },
  { id: 8, name: "plugin_writes", sql: m0008 },
  { id: 9, name: "security", sql: m0009 },
  { id: 10, name: "performance", sql: m0010 }
]

export const table = "streamspace_migrations"
