-- Storage metering (file.uploaded / file.deleted), the Stripe provider's
-- records (setup intents, payments, webhook events seen) and per-user billing
-- settings shown on invoices.

ALTER TABLE usage_records DROP CONSTRAINT usage_records_resource_check;
ALTER TABLE usage_records ADD CONSTRAINT usage_records_resource_check CHECK (resource IN ('cpu', 'memory', 'storage'));

-- One row per file ever seen: its bytes are stored from stored_at until deleted_at.
-- usage_key is the usage rows' session_id: the file's session, or 'files:<user>' for a file without one.
CREATE TABLE storage_files (
  file_id      text PRIMARY KEY,
  user_id      text NOT NULL,
  session_id   text,
  usage_key    text NOT NULL,
  size         bigint NOT NULL CHECK (size >= 0),
  stored_at    timestamptz NOT NULL,
  deleted_at   timestamptz,
  upload_event uuid UNIQUE,
  delete_event uuid UNIQUE
);
CREATE INDEX storage_files_key_idx ON storage_files (usage_key, stored_at);
CREATE INDEX storage_files_live_idx ON storage_files (usage_key) WHERE deleted_at IS NULL;

-- Per usage key: the hour up to which its storage usage rows are rolled up.
CREATE TABLE storage_keys (
  usage_key  text PRIMARY KEY,
  user_id    text NOT NULL,
  rolled_to  timestamptz
);

-- Keys whose files changed since the last roll-up, from which hour.
CREATE TABLE storage_dirty (
  usage_key text PRIMARY KEY,
  from_hour timestamptz NOT NULL,
  mark      bigint NOT NULL
);

-- SetupIntents this plugin created, so a user attaches only their own.
CREATE TABLE stripe_setup_intents (
  id         text PRIMARY KEY,
  user_id    text NOT NULL,
  created_at timestamptz NOT NULL
);

-- Charges of invoices through a provider (Stripe PaymentIntents).
CREATE TABLE payments (
  id                uuid PRIMARY KEY,
  invoice_id        uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
  user_id           text NOT NULL,
  provider          text NOT NULL CHECK (provider IN ('stripe')),
  intent_id         text UNIQUE,
  payment_method_id uuid,
  amount_minor      bigint NOT NULL,
  currency          text NOT NULL,
  status            text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  failure           text,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);
CREATE INDEX payments_invoice_idx ON payments (invoice_id, created_at);

-- Webhook events handled, by the provider's event id: a redelivery changes nothing.
CREATE TABLE provider_events (
  id          text PRIMARY KEY,
  provider    text NOT NULL,
  type        text NOT NULL,
  received_at timestamptz NOT NULL
);

CREATE TABLE billing_settings (
  user_id       text PRIMARY KEY,
  billing_email text,
  company_name  text,
  tax_id        text,
  address_lines text[] NOT NULL DEFAULT '{}',
  updated_at    timestamptz NOT NULL
);
