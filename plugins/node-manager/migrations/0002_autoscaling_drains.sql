-- Autoscaling policies: a group of nodes (a label selector), its bounds, when to scale and what to do.
CREATE TABLE scaling_policies (
  id                    uuid PRIMARY KEY,
  name                  text NOT NULL UNIQUE,
  enabled               boolean NOT NULL DEFAULT true,
  node_selector         jsonb NOT NULL DEFAULT '{}',
  min_nodes             integer NOT NULL CHECK (min_nodes >= 0),
  max_nodes             integer NOT NULL CHECK (max_nodes >= min_nodes),
  scale_up_percent      integer NOT NULL,
  scale_up_pending      integer NOT NULL DEFAULT 1,
  scale_down_percent    integer NOT NULL,
  checks                integer NOT NULL DEFAULT 3,
  cooldown_seconds      integer NOT NULL DEFAULT 300,
  step                  integer NOT NULL DEFAULT 1,
  action                jsonb NOT NULL,
  created_at            timestamptz NOT NULL,
  updated_at            timestamptz NOT NULL
);

-- Each policy's streaks (consecutive checks over / under its thresholds) and its last decision.
CREATE TABLE scaling_state (
  policy_id        uuid PRIMARY KEY REFERENCES scaling_policies (id) ON DELETE CASCADE,
  up_streak        integer NOT NULL DEFAULT 0,
  down_streak      integer NOT NULL DEFAULT 0,
  last_decision_at timestamptz,
  checked_at       timestamptz
);

-- Every decision (recommendation, and what acting on it did), with its reason.
CREATE TABLE scaling_history (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  policy_id     uuid,
  policy_name   text NOT NULL,
  at            timestamptz NOT NULL,
  direction     text NOT NULL CHECK (direction IN ('up', 'down')),
  current_nodes integer NOT NULL,
  desired_nodes integer NOT NULL,
  utilization   double precision,
  pending       integer NOT NULL,
  reason        text NOT NULL,
  action        text NOT NULL,
  outcome       text NOT NULL CHECK (outcome IN ('recommended', 'applied', 'failed')),
  detail        text
);
CREATE INDEX scaling_history_at ON scaling_history (at DESC);

-- Drains that go on after their request: waiting for owners (notify) or retrying blocked evictions.
ALTER TABLE drains ADD COLUMN status text NOT NULL DEFAULT 'done';
ALTER TABLE drains ADD COLUMN wait_until timestamptz;
ALTER TABLE drains ADD COLUMN retry_until timestamptz;
ALTER TABLE drains ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE drains ADD COLUMN attempts integer NOT NULL DEFAULT 0;
CREATE INDEX drains_open ON drains (status) WHERE status <> 'done';
