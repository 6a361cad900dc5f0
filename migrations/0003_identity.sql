-- Identity: local accounts, roles with permission strings (plugins add their
-- own, so permissions are data), groups, refresh tokens, API keys, MFA and
-- login throttling.
CREATE TABLE users (
  id            text PRIMARY KEY,
  username      text NOT NULL,
  email         text,
  display_name  text NOT NULL DEFAULT '',
  password_hash text NOT NULL,
  disabled      boolean NOT NULL DEFAULT false,
  totp_secret   text,
  totp_enabled  boolean NOT NULL DEFAULT false,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);
CREATE UNIQUE INDEX users_username_key ON users (lower(username));

CREATE TABLE roles (
  name        text PRIMARY KEY,
  description text NOT NULL DEFAULT ''
);

CREATE TABLE permissions (
  name        text PRIMARY KEY,
  description text NOT NULL DEFAULT '',
  owner       text NOT NULL DEFAULT 'core'
);

CREATE TABLE role_permissions (
  role       text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  permission text NOT NULL,
  owner      text NOT NULL DEFAULT 'core',
  PRIMARY KEY (role, permission)
);

CREATE TABLE user_roles (
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role    text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
  PRIMARY KEY (user_id, role)
);

CREATE TABLE groups (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  description text NOT NULL DEFAULT '',
  created_at  timestamptz NOT NULL
);
CREATE UNIQUE INDEX groups_name_key ON groups (lower(name));

CREATE TABLE group_members (
  group_id text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  user_id  text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  added_at timestamptz NOT NULL,
  PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user_idx ON group_members (user_id);

-- Refresh tokens are stored hashed and rotated on use; reusing a rotated
-- token revokes its whole family (RFC 6819 §5.2.2.3).
CREATE TABLE refresh_tokens (
  id         text PRIMARY KEY,
  family     text NOT NULL,
  user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  token_hash text NOT NULL UNIQUE,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz,
  revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE api_keys (
  id           text PRIMARY KEY,
  user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL,
  prefix       text NOT NULL,
  key_hash     text NOT NULL UNIQUE,
  scopes       text[] NOT NULL,
  expires_at   timestamptz,
  last_used_at timestamptz,
  created_at   timestamptz NOT NULL,
  revoked_at   timestamptz
);
CREATE INDEX api_keys_user_idx ON api_keys (user_id);

CREATE TABLE recovery_codes (
  user_id   text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_hash text NOT NULL,
  used_at   timestamptz,
  PRIMARY KEY (user_id, code_hash)
);

CREATE TABLE login_attempts (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL,
  ip       text NOT NULL,
  at       timestamptz NOT NULL,
  success  boolean NOT NULL
);
CREATE INDEX login_attempts_username_idx ON login_attempts (username, at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, at);

INSERT INTO roles (name, description) VALUES
  ('admin', 'Everything'),
  ('operator', 'Runs the platform: sessions, templates, quotas; reads users and audit'),
  ('user', 'Launches and uses own sessions and files'),
  ('viewer', 'Reads own sessions and the catalog');

INSERT INTO permissions (name, description) VALUES
  ('*', 'Every permission'),
  ('users:read', 'List and read users'),
  ('users:write', 'Create, change and delete users'),
  ('groups:read', 'List and read groups'),
  ('groups:write', 'Create, change and delete groups and their members'),
  ('templates:read', 'Browse the app catalog'),
  ('templates:admin', 'Manage the app catalog'),
  ('sessions:read', 'Read own sessions'),
  ('sessions:write', 'Launch and control own sessions'),
  ('sessions:admin', 'See and control every session'),
  ('quotas:read', 'Read quotas'),
  ('quotas:admin', 'Set quotas'),
  ('files:read', 'List and download own files'),
  ('files:write', 'Upload and delete own files'),
  ('webhooks:admin', 'Manage outgoing webhooks'),
  ('integrations:admin', 'Manage integrations'),
  ('audit:read', 'Query the audit log'),
  ('plugins:admin', 'Install, configure and remove plugins');

INSERT INTO role_permissions (role, permission) VALUES
  ('admin', '*'),
  ('operator', 'users:read'), ('operator', 'groups:read'), ('operator', 'templates:read'),
  ('operator', 'templates:admin'), ('operator', 'sessions:read'), ('operator', 'sessions:write'),
  ('operator', 'sessions:admin'), ('operator', 'quotas:read'), ('operator', 'quotas:admin'),
  ('operator', 'files:read'), ('operator', 'files:write'), ('operator', 'audit:read'),
  ('user', 'templates:read'), ('user', 'sessions:read'), ('user', 'sessions:write'),
  ('user', 'files:read'), ('user', 'files:write'), ('user', 'quotas:read'),
  ('viewer', 'templates:read'), ('viewer', 'sessions:read'), ('viewer', 'quotas:read');
