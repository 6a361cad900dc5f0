-- The plugin host: installed plugins with their state and config, durable
-- event subscriptions (cursor per subscription), dead letters, and job runs
-- (one row per job and tick, so one instance runs each tick).
CREATE TABLE plugins (
  id             text PRIMARY KEY,
  version        text NOT NULL,
  enabled        boolean NOT NULL DEFAULT false,
  status         text NOT NULL CHECK (status IN ('installed', 'enabled', 'disabled', 'failed')),
  last_error     text,
  config         jsonb NOT NULL DEFAULT '{}',
  secrets        text,
  role_password  text NOT NULL,
  installed_at   timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);

CREATE TABLE plugin_subscriptions (
  plugin_id      text NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
  name           text NOT NULL,
  event_types    text[] NOT NULL,
  tx_id          xid8 NOT NULL,
  position       bigint NOT NULL,
  attempts       integer NOT NULL DEFAULT 0,
  max_attempts   integer NOT NULL DEFAULT 5,
  next_attempt_at timestamptz,
  last_error     text,
  lease_until    timestamptz,
  PRIMARY KEY (plugin_id, name)
);

CREATE TABLE plugin_dead_letters (
  id             text PRIMARY KEY,
  plugin_id      text NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
  subscription   text NOT NULL,
  event_position bigint NOT NULL,
  event_id       uuid NOT NULL,
  event_type     text NOT NULL,
  attempts       integer NOT NULL,
  error          text NOT NULL,
  created_at     timestamptz NOT NULL,
  replayed_at    timestamptz
);
CREATE INDEX plugin_dead_letters_plugin_idx ON plugin_dead_letters (plugin_id, created_at DESC);

CREATE TABLE plugin_job_runs (
  plugin_id   text NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
  job         text NOT NULL,
  tick        timestamptz NOT NULL,
  started_at  timestamptz NOT NULL,
  finished_at timestamptz,
  outcome     text CHECK (outcome IN ('success', 'failure')),
  error       text,
  PRIMARY KEY (plugin_id, job, tick)
);
