-- Workflow definitions: the current head; every saved definition is a row of workflow_versions.
CREATE TABLE workflows (
  id               uuid PRIMARY KEY,
  owner_id         text NOT NULL,
  -- Whether the owner held workflows:admin when the current version was saved (session actions need it).
  owner_admin      boolean NOT NULL DEFAULT false,
  name             text NOT NULL,
  enabled          boolean NOT NULL,
  trigger_type     text NOT NULL,
  -- Event types (exact or prefix.*) of an event trigger, for matching without decoding every definition.
  event_types      text[] NOT NULL DEFAULT '{}',
  current_version  integer NOT NULL,
  concurrency      integer NOT NULL,
  -- sha256 (hex) of the webhook URL token; the token itself is never stored (it is derived, see Webhooks.ts).
  webhook_token_hash text UNIQUE,
  webhook_generation integer NOT NULL DEFAULT 0,
  deleted_at       timestamptz,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX workflows_owner ON workflows (owner_id) WHERE deleted_at IS NULL;
CREATE INDEX workflows_trigger ON workflows (trigger_type) WHERE enabled AND deleted_at IS NULL;

CREATE TABLE workflow_versions (
  workflow_id  uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  version      integer NOT NULL,
  definition   jsonb NOT NULL,
  created_by   text NOT NULL,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (workflow_id, version)
);

-- status: queued (waiting for a concurrency slot) → running → completed | failed | cancelled.
CREATE TABLE executions (
  id               uuid PRIMARY KEY,
  workflow_id      uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  version          integer NOT NULL,
  status           text NOT NULL,
  trigger_type     text NOT NULL,
  trigger_data     jsonb NOT NULL,
  vars             jsonb NOT NULL DEFAULT '{}',
  -- What made it, once: event:<id>, cron:<instant>, webhook:<Idempotency-Key>, manual:<Idempotency-Key>.
  dedupe_key       text,
  triggered_by     text,
  error            text,
  cancel_requested boolean NOT NULL DEFAULT false,
  -- Not before: a durable wait or a retry back-off.
  run_at           timestamptz NOT NULL,
  lease_owner      text,
  lease_until      timestamptz,
  created_at       timestamptz NOT NULL,
  started_at       timestamptz,
  finished_at      timestamptz,
  UNIQUE (workflow_id, dedupe_key)
);
CREATE INDEX executions_runnable ON executions (run_at) WHERE status IN ('queued', 'running');
CREATE INDEX executions_workflow ON executions (workflow_id, created_at DESC);

-- One row per step of an execution, written before the step's action runs and when its outcome commits.
-- status: running | waiting (timer or back-off until next_at) | completed | failed | skipped
CREATE TABLE step_runs (
  execution_id  uuid NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
  step_id       text NOT NULL,
  status        text NOT NULL,
  attempts      integer NOT NULL DEFAULT 0,
  -- Set when the step ran as another's failure handler.
  activated_by  text,
  output        jsonb,
  error         text,
  next_at       timestamptz,
  started_at    timestamptz,
  finished_at   timestamptz,
  PRIMARY KEY (execution_id, step_id)
);

-- Idempotency keys of steps: claimed before the action runs, completed with its output.
CREATE TABLE step_keys (
  workflow_id   uuid NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
  key           text NOT NULL,
  execution_id  uuid NOT NULL,
  step_id       text NOT NULL,
  status        text NOT NULL,
  output        jsonb,
  created_at    timestamptz NOT NULL,
  finished_at   timestamptz,
  PRIMARY KEY (workflow_id, key)
);
