-- Incidents this plugin opened, per integration: a later event that clears
-- the condition (the user is back under quota, the failed session is gone)
-- resolves exactly these, with the same dedup_key.
CREATE TABLE incidents (
  integration_id text NOT NULL,
  dedup_key      text NOT NULL,
  opened_by      text NOT NULL,
  opened_at      timestamptz NOT NULL DEFAULT now(),
  resolved_by    text,
  resolved_at    timestamptz,
  PRIMARY KEY (integration_id, dedup_key)
);
