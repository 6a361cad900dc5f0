-- Stored payment methods (provider tokens and display data only: never card numbers or CVV),
-- and what the legacy migration brings: sessions metered by backfill.
CREATE TABLE payment_methods (
  id          uuid PRIMARY KEY,
  user_id     text NOT NULL,
  provider    text NOT NULL CHECK (provider IN ('manual', 'stripe', 'legacy')),
  token       text,
  brand       text,
  last4       text CHECK (last4 IS NULL OR last4 ~ '^[0-9]{4}$'),
  exp_month   integer,
  exp_year    integer,
  is_default  boolean NOT NULL DEFAULT false,
  legacy_id   text UNIQUE,
  created_at  timestamptz NOT NULL
);
CREATE INDEX payment_methods_user_idx ON payment_methods (user_id);

ALTER TABLE meter_sessions DROP CONSTRAINT meter_sessions_sizing_check;
ALTER TABLE meter_sessions ADD CONSTRAINT meter_sessions_sizing_check CHECK (sizing IN ('event', 'hook', 'unknown', 'legacy'));
