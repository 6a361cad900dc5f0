-- Schedules: a start in local wall-clock time of a time zone, a duration and an optional recurrence.
CREATE TABLE schedules (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  template_id text NOT NULL,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  time_zone text NOT NULL,
  start_local text NOT NULL,
  duration_minutes integer NOT NULL,
  recurrence jsonb,
  exceptions jsonb NOT NULL DEFAULT '[]',
  pre_warm_minutes integer NOT NULL DEFAULT 0,
  auto_stop text NOT NULL DEFAULT 'hibernate',
  enabled boolean NOT NULL DEFAULT true,
  sequence integer NOT NULL DEFAULT 0,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX schedules_user ON schedules (user_id) WHERE deleted_at IS NULL;

-- One row per occurrence the executor knows about; (schedule_id, starts_at) is its unique key.
CREATE TABLE occurrences (
  id text PRIMARY KEY,
  schedule_id text NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
  user_id text NOT NULL,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL,
  launch_at timestamptz NOT NULL,
  state text NOT NULL DEFAULT 'pending',
  session_id text,
  error text,
  launched_at timestamptz,
  stopped_at timestamptz,
  UNIQUE (schedule_id, starts_at)
);
CREATE INDEX occurrences_due ON occurrences (launch_at) WHERE state = 'pending';
CREATE INDEX occurrences_ending ON occurrences (ends_at) WHERE state = 'running';
CREATE INDEX occurrences_user ON occurrences (user_id, starts_at);

-- The secret subscribe URL of a user's feed: only its SHA-256 is kept.
CREATE TABLE feed_tokens (
  user_id text PRIMARY KEY,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL
);

-- OAuth authorization requests: random state (hashed), bound to the browser that asked, single use, expiring.
CREATE TABLE oauth_states (
  state_hash text PRIMARY KEY,
  binding_hash text NOT NULL,
  user_id text NOT NULL,
  provider text NOT NULL,
  verifier_sealed text NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at timestamptz
);

-- Connected calendars; tokens sealed (AES-256-GCM).
CREATE TABLE integrations (
  id text PRIMARY KEY,
  user_id text NOT NULL,
  provider text NOT NULL,
  access_token_sealed text NOT NULL,
  refresh_token_sealed text,
  expires_at timestamptz,
  calendar_id text NOT NULL,
  last_synced_at timestamptz,
  last_error text,
  created_at timestamptz NOT NULL,
  UNIQUE (user_id, provider)
);

-- Which external event mirrors which schedule, and at which schedule sequence it was last written.
CREATE TABLE external_events (
  schedule_id text NOT NULL,
  integration_id text NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
  external_id text NOT NULL,
  synced_sequence integer NOT NULL,
  synced_at timestamptz NOT NULL,
  PRIMARY KEY (schedule_id, integration_id)
);
