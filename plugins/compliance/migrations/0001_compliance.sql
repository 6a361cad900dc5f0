-- Policies: scope and rules as JSON validated by the plugin's Schemas.
CREATE TABLE policies (
  id uuid PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  enabled boolean NOT NULL DEFAULT true,
  priority integer NOT NULL DEFAULT 0,
  enforcement text NOT NULL CHECK (enforcement IN ('advisory', 'warning', 'blocking')),
  applies_to jsonb NOT NULL,
  rules jsonb NOT NULL,
  created_by text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- Custom DLP patterns (built-ins live in code, versioned with the library).
CREATE TABLE dlp_patterns (
  id text PRIMARY KEY,
  name text NOT NULL,
  source text NOT NULL,
  flags text NOT NULL DEFAULT '',
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE violations (
  id uuid PRIMARY KEY,
  policy_id uuid,
  policy_name text NOT NULL,
  user_id text,
  session_id text,
  type text NOT NULL,
  severity text NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
  description text NOT NULL,
  details jsonb NOT NULL DEFAULT '{}',
  action text NOT NULL CHECK (action IN ('blocked', 'allowed_with_warning', 'logged_only')),
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved', 'false_positive')),
  resolution text,
  acknowledged_by text,
  acknowledged_at timestamptz,
  resolved_by text,
  resolved_at timestamptz,
  created_at timestamptz NOT NULL
);
CREATE INDEX violations_status_created ON violations (status, created_at DESC);
CREATE INDEX violations_user ON violations (user_id, created_at DESC);

-- Sessions as seen from the core's session events: for concurrency limits and maximum duration.
CREATE TABLE tracked_sessions (
  session_id text PRIMARY KEY,
  user_id text NOT NULL,
  template_id text NOT NULL,
  state text NOT NULL,
  running_since timestamptz,
  updated_at timestamptz NOT NULL
);
CREATE INDEX tracked_sessions_user ON tracked_sessions (user_id) WHERE state IN ('pending', 'running');

CREATE TABLE template_classifications (
  template_id text PRIMARY KEY,
  classification text NOT NULL,
  updated_at timestamptz NOT NULL
);

-- One row per control per check run: the history, with evidence.
CREATE TABLE control_checks (
  id bigserial PRIMARY KEY,
  run_id uuid NOT NULL,
  framework text NOT NULL,
  catalogue_version integer NOT NULL,
  control_id text NOT NULL,
  check_id text,
  status text NOT NULL CHECK (status IN ('pass', 'fail', 'not_evaluable', 'attested', 'unattested')),
  summary text NOT NULL,
  evidence jsonb NOT NULL,
  checked_at timestamptz NOT NULL
);
CREATE INDEX control_checks_latest ON control_checks (framework, control_id, checked_at DESC);
CREATE INDEX control_checks_run ON control_checks (run_id);

CREATE TABLE attestations (
  id uuid PRIMARY KEY,
  framework text NOT NULL,
  control_id text NOT NULL,
  statement text NOT NULL,
  evidence_url text,
  attested_by text NOT NULL,
  attested_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX attestations_control ON attestations (framework, control_id, attested_at DESC);

CREATE TABLE reports (
  id uuid PRIMARY KEY,
  framework text NOT NULL,
  report_type text NOT NULL CHECK (report_type IN ('summary', 'detailed', 'attestation')),
  period_start timestamptz NOT NULL,
  period_end timestamptz NOT NULL,
  overall_status text NOT NULL,
  content jsonb NOT NULL,
  sha256 text NOT NULL,
  generated_by text,
  generated_at timestamptz NOT NULL
);

-- Users whose compliance data the retention job must keep.
CREATE TABLE legal_holds (
  user_id text PRIMARY KEY,
  reason text NOT NULL,
  placed_by text,
  placed_at timestamptz NOT NULL
);
