-- Security hardening (issue 21). Sections are labelled by concern.

-- Permissions: opening a desktop is its own permission (API keys need it
-- as a scope); `account` is held implicitly by every user and lets an API
-- key change its owner's account (password, email, MFA, keys, logins).
INSERT INTO permissions (name, description) VALUES
  ('sessions:connect', 'Open the desktop (VNC) of own and shared sessions'),
  ('account', 'Change own account (password, email, MFA, API keys, logins); every user holds it, an API key only when scoped to it')
ON CONFLICT (name) DO NOTHING;
-- Roles that could see or run sessions could open their desktops before this permission existed.
INSERT INTO role_permissions (role, permission)
  SELECT DISTINCT role, 'sessions:connect' FROM role_permissions
  WHERE permission IN ('sessions:read', 'sessions:write', 'sessions:admin')
ON CONFLICT DO NOTHING;

-- VNC tickets: short-lived, single-use, stored hashed; the WebSocket takes one instead of a token.
CREATE TABLE vnc_tickets (
  ticket_hash text PRIMARY KEY,
  session_id  text NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
  user_id     text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  api_key_id  text REFERENCES api_keys(id) ON DELETE CASCADE,
  created_at  timestamptz NOT NULL,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX vnc_tickets_expires_idx ON vnc_tickets (expires_at);

-- TOTP: the last accepted time step, so a code is accepted once per step.
ALTER TABLE users ADD COLUMN totp_last_step bigint;

-- Lockout and limits: a failed login remembers whether its username existed,
-- so that a client address is held only for sprays of unknown usernames
-- (auth.maxUnknownUserFailuresPerIp), never for failures against real accounts.
ALTER TABLE login_attempts ADD COLUMN unknown_user boolean NOT NULL DEFAULT false;
CREATE INDEX login_attempts_spray_idx ON login_attempts (ip, at) WHERE unknown_user AND NOT success;
-- Request budgets shared by API replicas: hits per bucket (class or route, and
-- caller) and minute, added by each replica about once a second. UNLOGGED:
-- the counts are worthless after a crash, and skipping the WAL keeps the writes cheap.
CREATE UNLOGGED TABLE rate_limit_counters (
  window_start bigint  NOT NULL, -- minutes since the epoch
  bucket       text    NOT NULL,
  hits         integer NOT NULL,
  budget       integer NOT NULL,
  PRIMARY KEY (window_start, bucket)
);
