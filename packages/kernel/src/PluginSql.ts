/**
 * SQL confined to the plugin's schema (`plugin_<id>`) and database role. On
 * PostgreSQL the statements go over connections that log in as that role; on
 * PGlite the role is set per transaction (guards against mistakes, not
 * hostile code).
 */
import type { SqlClient } from "@effect/sql"
import { Context } from "effect"

export class PluginSql extends Context.Tag("@streamspace/kernel/PluginSql")<PluginSql, SqlClient.SqlClient>() {}
