/**
 * The two doors from a plugin's transaction into core tables. A plugin's
 * database role has no rights on `events` or `audit_log`; at install the host
 * creates, in schema `kernel`, a function pair fixed to that plugin's id,
 * owned by the core's user (SECURITY DEFINER) and executable by that role
 * alone. Through them the plugin's own transaction appends its `<id>.*`
 * events and its audit rows, so they commit or roll back with its data.
 */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"
import { schemaOf } from "./Manifest.ts"

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`
const ident = (name: string) => `"${name.replaceAll('"', '""')}"`

/** Function names for plugin `id` (qualified, safe to splice into SQL: ids are `[a-z][a-z0-9-]*`). */
export const names = (id: string) => {
  const suffix = schemaOf(id).slice("plugin_".length)
  return { publish: `kernel.publish_${suffix}`, audit: `kernel.audit_${suffix}` }
}

/** Creates (or replaces) plugin `id`'s functions for `role`, writing into the core tables of `coreSchema`. */
export const create = (id: string, role: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const coreSchema = (yield* sql<{ s: string }>`SELECT current_schema() AS s`)[0]!.s
    const fn = names(id)
    const events = `${ident(coreSchema)}.events`
    const audit = `${ident(coreSchema)}.audit_log`
    const prefix = `${id}.`
    yield* sql.unsafe(`
      CREATE OR REPLACE FUNCTION ${fn.publish}(p_id uuid, p_type text, p_payload jsonb, p_actor_id text) RETURNS void
      LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
      BEGIN
        IF left(p_type, ${prefix.length}) <> ${literal(prefix)} THEN
          RAISE EXCEPTION 'plugin % may publish only %* events, not %', ${literal(id)}, ${literal(prefix)}, p_type USING ERRCODE = '42501';
        END IF;
        INSERT INTO ${events} (id, type, source, payload, actor_id) VALUES (p_id, p_type, ${literal(id)}, p_payload, p_actor_id);
      END $fn$`)
    yield* sql.unsafe(`
      CREATE OR REPLACE FUNCTION ${fn.audit}(p_actor_id text, p_actor text, p_action text, p_target text, p_ip text,
        p_user_agent text, p_result text, p_detail text, p_request_id text) RETURNS void
      LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $fn$
        INSERT INTO ${audit} (actor_id, actor, action, target, ip, user_agent, result, detail, request_id, plugin)
        VALUES (p_actor_id, p_actor, p_action, p_target, p_ip, p_user_agent, p_result, p_detail, p_request_id, ${literal(id)})
      $fn$`)
    for (const signature of [
      `${fn.publish}(uuid, text, jsonb, text)`,
      `${fn.audit}(text, text, text, text, text, text, text, text, text)`
    ]) {
      yield* sql.unsafe(`REVOKE ALL ON FUNCTION ${signature} FROM PUBLIC`)
      yield* sql.unsafe(`GRANT EXECUTE ON FUNCTION ${signature} TO ${ident(role)}`)
    }
    yield* sql.unsafe(`GRANT USAGE ON SCHEMA kernel TO ${ident(role)}`)
  })

/** Whether plugin `id`'s functions exist (plugins installed before they did get them at their next enable). */
export const exist = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.map(
      sql<{ n: string }>`SELECT count(*) AS n FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'kernel' AND p.proname IN (${names(id).publish.slice(7)}, ${names(id).audit.slice(7)})`,
      (rows) => rows[0]?.n === "2"
    )
  )

/** Drops plugin `id`'s functions (uninstall). */
export const drop = (id: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.zipRight(
      sql.unsafe(`DROP FUNCTION IF EXISTS ${names(id).publish}(uuid, text, jsonb, text)`),
      sql.unsafe(`DROP FUNCTION IF EXISTS ${names(id).audit}(text, text, text, text, text, text, text, text, text)`)
    )
  )
