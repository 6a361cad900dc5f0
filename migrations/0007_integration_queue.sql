-- Integration deliveries become a durable queue: notification plugins
-- enqueue one row per (integration, event) — idempotent through the dedupe
-- key, since event delivery is at least once — and the dispatcher sends due
-- rows, retries them and dead-letters them.
ALTER TABLE integration_deliveries ADD COLUMN dedupe_key text;
UPDATE integration_deliveries SET dedupe_key = id WHERE dedupe_key IS NULL;
ALTER TABLE integration_deliveries ALTER COLUMN dedupe_key SET NOT NULL;
CREATE UNIQUE INDEX integration_deliveries_dedupe_key ON integration_deliveries (integration_id, dedupe_key);
CREATE INDEX integration_deliveries_due_idx ON integration_deliveries (next_attempt_at) WHERE status IN ('pending', 'failed');

-- Deliveries sharing an order key (a PagerDuty trigger and its resolve) go
-- out in the order they were queued: one waits while an earlier one of its
-- key is still pending or being retried.
ALTER TABLE integration_deliveries ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE integration_deliveries ADD COLUMN order_key text;
CREATE INDEX integration_deliveries_order_idx ON integration_deliveries (integration_id, order_key, seq) WHERE status IN ('pending', 'failed') AND order_key IS NOT NULL;
