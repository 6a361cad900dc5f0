CREATE TABLE recordings (
  id text PRIMARY KEY,
  session_id text NOT NULL,
  owner_id text,
  started_by text,
  status text NOT NULL DEFAULT 'recording',
  reason text,
  is_automatic boolean NOT NULL DEFAULT false,
  policy_id integer,
  allow_user_playback boolean NOT NULL DEFAULT true,
  allow_user_download boolean NOT NULL DEFAULT true,
  retention_days integer NOT NULL DEFAULT 30,
  sealed_key text NOT NULL,
  manifest_sha256 text,
  chunks integer NOT NULL DEFAULT 0,
  size_bytes bigint NOT NULL DEFAULT 0,
  duration_ms bigint NOT NULL DEFAULT 0,
  error text,
  legal_hold boolean NOT NULL DEFAULT false,
  started_at timestamptz NOT NULL,
  ended_at timestamptz
);
CREATE INDEX recordings_session ON recordings (session_id);
CREATE INDEX recordings_owner ON recordings (owner_id, started_at DESC);

CREATE TABLE policies (
  id serial PRIMARY KEY,
  name text NOT NULL,
  priority integer NOT NULL DEFAULT 0,
  enabled boolean NOT NULL DEFAULT true,
  auto_record boolean NOT NULL DEFAULT false,
  require_reason boolean NOT NULL DEFAULT false,
  allow_user_playback boolean NOT NULL DEFAULT true,
  allow_user_download boolean NOT NULL DEFAULT true,
  retention_days integer NOT NULL DEFAULT 30,
  users jsonb NOT NULL DEFAULT '[]',
  groups jsonb NOT NULL DEFAULT '[]',
  roles jsonb NOT NULL DEFAULT '[]',
  templates jsonb NOT NULL DEFAULT '[]'
);

CREATE TABLE sessions_seen (
  session_id text PRIMARY KEY,
  user_id text NOT NULL,
  template_id text NOT NULL
);

CREATE TABLE access_log (
  id serial PRIMARY KEY,
  recording_id text NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
  user_id text,
  action text NOT NULL,
  ip text NOT NULL DEFAULT '',
  user_agent text NOT NULL DEFAULT '',
  at timestamptz NOT NULL
);
