-- Spend limits per user or group (lower-case name), per billing period, and what was announced.
CREATE TABLE spend_limits (
  scope       text NOT NULL CHECK (scope IN ('user', 'group')),
  scope_id    text NOT NULL,
  limit_minor bigint NOT NULL CHECK (limit_minor > 0),
  updated_at  timestamptz NOT NULL,
  PRIMARY KEY (scope, scope_id)
);

CREATE TABLE spend_state (
  user_id      text NOT NULL,
  period_start timestamptz NOT NULL,
  spent_minor  bigint NOT NULL,
  limit_minor  bigint NOT NULL,
  warned_at    timestamptz,
  exceeded_at  timestamptz,
  PRIMARY KEY (user_id, period_start)
);
