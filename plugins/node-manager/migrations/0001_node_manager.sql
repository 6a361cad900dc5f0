-- Current health of each node, with the counters of its hysteresis.
CREATE TABLE node_health (
  node                 text PRIMARY KEY,
  status               text NOT NULL CHECK (status IN ('healthy', 'unhealthy')),
  ready                boolean NOT NULL,
  consecutive_failures integer NOT NULL DEFAULT 0,
  consecutive_passes   integer NOT NULL DEFAULT 0,
  reason               text,
  changed_at           timestamptz NOT NULL,
  checked_at           timestamptz NOT NULL
);

-- One row per node per health tick.
CREATE TABLE node_health_history (
  id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  node    text NOT NULL,
  at      timestamptz NOT NULL,
  ready   boolean NOT NULL,
  status  text NOT NULL,
  reason  text
);
CREATE INDEX node_health_history_node_at ON node_health_history (node, at DESC);
CREATE INDEX node_health_history_at ON node_health_history (at);

-- Round-robin cursors, one per placement scope (a policy, or the default); shared by every replica.
CREATE TABLE placement_cursors (
  scope    text PRIMARY KEY,
  position bigint NOT NULL DEFAULT 0
);

-- Where sessions were placed (counts sessions whose pods do not exist yet).
CREATE TABLE placements (
  session_id text PRIMARY KEY,
  node       text NOT NULL,
  strategy   text NOT NULL,
  policy     text,
  cpu_millis integer NOT NULL,
  memory_mib integer NOT NULL,
  at         timestamptz NOT NULL
);
CREATE INDEX placements_at ON placements (at);

-- Drains, dry runs included, with what happened to each pod and session.
CREATE TABLE drains (
  id       uuid PRIMARY KEY,
  node     text NOT NULL,
  actor    text,
  dry_run  boolean NOT NULL,
  complete boolean NOT NULL,
  result   jsonb NOT NULL,
  at       timestamptz NOT NULL
);
