-- The app catalog, sessions and their sharing, and quotas.
CREATE TABLE templates (
  id             text PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  display_name   text NOT NULL,
  description    text NOT NULL DEFAULT '',
  icon_url       text,
  category       text NOT NULL DEFAULT 'general',
  tags           text[] NOT NULL DEFAULT '{}',
  image          text NOT NULL,
  default_cpu    integer NOT NULL,
  default_memory integer NOT NULL,
  max_cpu        integer NOT NULL,
  max_memory     integer NOT NULL,
  ports          integer[] NOT NULL DEFAULT '{}',
  env            jsonb NOT NULL DEFAULT '{}',
  vnc_port       integer NOT NULL DEFAULT 5900,
  enabled        boolean NOT NULL DEFAULT true,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX templates_category_idx ON templates (category, name);

-- `state` is what the runtime last reported; `desired` is what users asked
-- for. The orchestrator drives state towards desired, holding a short lease
-- so that several API replicas never act on one session at once.
CREATE TABLE sessions (
  id               text PRIMARY KEY,
  user_id          text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  template_id      text NOT NULL REFERENCES templates (id),
  state            text NOT NULL CHECK (state IN ('pending', 'running', 'hibernated', 'terminated', 'failed')),
  desired          text NOT NULL CHECK (desired IN ('running', 'hibernated', 'terminated')),
  reason           text,
  runtime          text NOT NULL,
  cpu              integer NOT NULL,
  memory           integer NOT NULL,
  persistent_home  boolean NOT NULL,
  endpoint         text,
  submitted        boolean NOT NULL DEFAULT false,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  lease_until      timestamptz,
  last_activity_at timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_work_idx ON sessions (state, desired) WHERE state NOT IN ('terminated', 'failed');
CREATE INDEX sessions_template_idx ON sessions (template_id) WHERE state NOT IN ('terminated', 'failed');

CREATE TABLE session_shares (
  session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  access     text NOT NULL CHECK (access IN ('view', 'control')),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (session_id, user_id)
);
CREATE INDEX session_shares_user_idx ON session_shares (user_id);

-- NULL means "no limit" for that resource.
CREATE TABLE quotas (
  scope         text NOT NULL CHECK (scope IN ('user', 'group')),
  scope_id      text NOT NULL,
  max_sessions  integer,
  max_cpu       integer,
  max_memory    integer,
  max_storage   bigint,
  updated_at    timestamptz NOT NULL,
  PRIMARY KEY (scope, scope_id)
);
