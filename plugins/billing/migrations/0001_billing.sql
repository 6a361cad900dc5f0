-- Billing: metering (sessions, their state transitions, running intervals,
-- immutable hourly usage rows), pricing rules, invoices, credits.
-- Money is integer minor units (bigint); rates are integer nano-units of the
-- currency (10^-9) per unit-hour. Quantities are integer millicore-milliseconds
-- (cpu) and MiB-milliseconds (memory).

CREATE TABLE meter_sessions (
  session_id    text PRIMARY KEY,
  user_id       text NOT NULL,
  template_id   text NOT NULL,
  groups        text[] NOT NULL DEFAULT '{}',
  cpu           integer NOT NULL,
  memory        integer NOT NULL,
  sizing        text NOT NULL CHECK (sizing IN ('event', 'hook', 'unknown')),
  created_at    timestamptz NOT NULL,
  ended_at      timestamptz
);
CREATE INDEX meter_sessions_user_idx ON meter_sessions (user_id);

-- One row per core event seen: the idempotency key of metering.
CREATE TABLE meter_transitions (
  event_id   uuid PRIMARY KEY,
  position   bigint NOT NULL,
  session_id text NOT NULL,
  type       text NOT NULL,
  at         timestamptz NOT NULL
);

CREATE TABLE run_intervals (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id  text NOT NULL,
  started_at  timestamptz NOT NULL,
  start_event uuid NOT NULL UNIQUE,
  ended_at    timestamptz,
  end_event   uuid UNIQUE
);
CREATE UNIQUE INDEX run_intervals_open_idx ON run_intervals (session_id) WHERE ended_at IS NULL;
CREATE INDEX run_intervals_session_idx ON run_intervals (session_id, started_at);

-- Sizes seen by the session.beforeCreate hook, matched to session.created (oldest first per user and template).
CREATE TABLE pending_sizing (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id     text NOT NULL,
  template_id text NOT NULL,
  cpu         integer NOT NULL,
  memory      integer NOT NULL,
  at          timestamptz NOT NULL
);
CREATE INDEX pending_sizing_idx ON pending_sizing (user_id, template_id, id);

-- Sessions whose intervals changed since the last roll-up, from which hour.
CREATE TABLE rollup_dirty (
  session_id text PRIMARY KEY,
  from_hour  timestamptz NOT NULL,
  mark       bigint NOT NULL
);
CREATE SEQUENCE rollup_mark_seq;

-- Immutable: a correction is a new row (next revision) holding the difference.
CREATE TABLE usage_records (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  session_id  text NOT NULL,
  user_id     text NOT NULL,
  template_id text NOT NULL,
  hour_start  timestamptz NOT NULL,
  resource    text NOT NULL CHECK (resource IN ('cpu', 'memory')),
  quantity    bigint NOT NULL,
  revision    integer NOT NULL,
  created_at  timestamptz NOT NULL,
  UNIQUE (session_id, hour_start, resource, revision)
);
CREATE INDEX usage_records_user_idx ON usage_records (user_id, hour_start);
CREATE INDEX usage_records_hour_idx ON usage_records (hour_start);

CREATE OR REPLACE FUNCTION usage_records_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'usage_records are immutable: add a correcting revision instead';
END $$;
CREATE TRIGGER usage_records_no_update BEFORE UPDATE OR DELETE ON usage_records
  FOR EACH ROW EXECUTE FUNCTION usage_records_immutable();

CREATE TABLE price_rules (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  scope          text NOT NULL CHECK (scope IN ('base', 'template', 'group', 'user')),
  scope_id       text NOT NULL DEFAULT '',
  resource       text NOT NULL CHECK (resource IN ('cpu', 'memory', 'storage')),
  rate_nano      bigint NOT NULL CHECK (rate_nano >= 0),
  effective_from timestamptz NOT NULL,
  created_at     timestamptz NOT NULL,
  created_by     text,
  UNIQUE (scope, scope_id, resource, effective_from)
);

CREATE TABLE invoices (
  id             uuid PRIMARY KEY,
  number         text UNIQUE,
  number_year    integer,
  number_seq     integer,
  user_id        text NOT NULL,
  period_start   timestamptz NOT NULL,
  period_end     timestamptz NOT NULL,
  currency       text NOT NULL,
  subtotal_minor bigint NOT NULL,
  credits_minor  bigint NOT NULL DEFAULT 0,
  total_minor    bigint NOT NULL,
  status         text NOT NULL CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
  due_at         timestamptz,
  issued_at      timestamptz,
  paid_at        timestamptz,
  closed_at      timestamptz,
  payment_reference text,
  legacy_id      text UNIQUE,
  created_at     timestamptz NOT NULL,
  UNIQUE (number_year, number_seq)
);
CREATE UNIQUE INDEX invoices_once_idx ON invoices (user_id, period_start, period_end) WHERE status <> 'void';
CREATE INDEX invoices_user_idx ON invoices (user_id, period_start DESC);

CREATE TABLE invoice_lines (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  invoice_id    uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  position      integer NOT NULL,
  template_id   text,
  description   text NOT NULL,
  resource      text NOT NULL,
  quantity      bigint NOT NULL,
  unit          text NOT NULL,
  rate_nano     bigint NOT NULL,
  amount_minor  bigint NOT NULL
);
CREATE INDEX invoice_lines_invoice_idx ON invoice_lines (invoice_id, position);

CREATE TABLE invoice_counters (
  year integer PRIMARY KEY,
  last integer NOT NULL
);

-- A ledger: grants are positive, amounts applied to invoices negative (with the invoice).
CREATE TABLE credits (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id      text NOT NULL,
  amount_minor bigint NOT NULL,
  reason       text NOT NULL,
  invoice_id   uuid REFERENCES invoices (id) ON DELETE CASCADE,
  created_at   timestamptz NOT NULL,
  created_by   text
);
CREATE INDEX credits_user_idx ON credits (user_id);
