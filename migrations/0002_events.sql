-- The event outbox: every core and plugin event, written in the same
-- transaction as the change it describes. `position` orders delivery;
-- `tx_id` lets readers wait for older transactions that have not committed
-- yet, so a cursor never skips an event that commits late.
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
CREATE INDEX events_type_position_idx ON events (type, position);
