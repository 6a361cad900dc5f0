-- The event outbox: every core and plugin event, written in the same
-- transaction as the change it describes. Readers go in (tx_id, position)
-- order and only below `pg_snapshot_xmin` (no transaction there can still
-- add rows), so a cursor never skips an event whose transaction commits late.
CREATE TABLE events (
  position    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id          uuid NOT NULL UNIQUE,
  type        text NOT NULL,
  source      text NOT NULL DEFAULT 'core',
  payload     jsonb NOT NULL,
  actor_id    text,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  tx_id       xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX events_delivery_idx ON events (tx_id, position);
