-- Files in users' storage, outgoing webhooks with their deliveries, and the
-- generic integrations store with its delivery records.
CREATE TABLE files (
  id           text PRIMARY KEY,
  user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  session_id   text REFERENCES sessions (id) ON DELETE SET NULL,
  name         text NOT NULL,
  content_type text NOT NULL,
  size         bigint NOT NULL,
  blob_key     text NOT NULL UNIQUE,
  sha256       text NOT NULL,
  created_at   timestamptz NOT NULL
);
CREATE INDEX files_user_idx ON files (user_id, created_at DESC);
CREATE INDEX files_session_idx ON files (session_id, created_at DESC);

CREATE TABLE webhooks (
  id               text PRIMARY KEY,
  name             text NOT NULL,
  url              text NOT NULL,
  event_types      text[] NOT NULL,
  secret_encrypted text NOT NULL,
  enabled          boolean NOT NULL DEFAULT true,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);

-- One row per (event, webhook). Claimed with FOR UPDATE SKIP LOCKED so that
-- API replicas never send the same delivery twice.
CREATE TABLE webhook_deliveries (
  id              text PRIMARY KEY,
  webhook_id      text NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
  event_id        uuid NOT NULL,
  event_type      text NOT NULL,
  payload         jsonb NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  response_code   integer,
  last_error      text,
  duration_ms     integer,
  next_attempt_at timestamptz NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  UNIQUE (webhook_id, event_id)
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX webhook_deliveries_webhook_idx ON webhook_deliveries (webhook_id, created_at DESC);

-- Durable read positions in the event outbox, for core consumers such as
-- the webhook dispatcher. A cursor is (tx_id, position): readers go in that
-- order and only below the oldest running transaction, so an event whose
-- transaction commits late can never be passed over.
CREATE TABLE event_cursors (
  name       text PRIMARY KEY,
  tx_id      xid8 NOT NULL DEFAULT '0',
  position   bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE integrations (
  id               text PRIMARY KEY,
  provider         text NOT NULL,
  name             text NOT NULL,
  enabled          boolean NOT NULL DEFAULT true,
  config           jsonb NOT NULL DEFAULT '{}',
  secret_fields    text[] NOT NULL DEFAULT '{}',
  secrets_encrypted text,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  UNIQUE (provider, name)
);

CREATE TABLE integration_deliveries (
  id              text PRIMARY KEY,
  integration_id  text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  subject         text NOT NULL,
  status          text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed', 'dead')),
  attempts        integer NOT NULL DEFAULT 0,
  response_code   integer,
  last_error      text,
  latency_ms      integer,
  payload         jsonb NOT NULL,
  next_attempt_at timestamptz,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);
CREATE INDEX integration_deliveries_integration_idx ON integration_deliveries (integration_id, created_at DESC);
