/** Immutable usage rows (`usage_records`): what the session and storage roll-ups write, one statement per batch. */
import type { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export interface UsageRow {
  readonly session_id: string
  readonly user_id: string
  readonly template_id: string
  /** ISO instant of the hour (UTC). */
  readonly hour_start: string
  readonly resource: string
  /** A bigint as text. */
  readonly quantity: string
  readonly revision: number
  /** ISO instant. */
  readonly created_at: string
}

export const insert = (sql: SqlClient.SqlClient, rows: ReadonlyArray<UsageRow>) =>
  rows.length === 0
    ? Effect.void
    : Effect.asVoid(sql`
        INSERT INTO usage_records (session_id, user_id, template_id, hour_start, resource, quantity, revision, created_at)
        SELECT session_id, user_id, template_id, hour_start, resource, quantity, revision, created_at
        FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS x(session_id text, user_id text, template_id text,
          hour_start timestamptz, resource text, quantity bigint, revision integer, created_at timestamptz)`)
