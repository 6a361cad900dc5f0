-- Saved monitor layouts: a user's own (scope 'user', owner_id = user id) or a template's
-- (scope 'template', owner_id = template id). A user's default overrides the template's.
CREATE TABLE layouts (
  id text PRIMARY KEY,
  scope text NOT NULL CHECK (scope IN ('user', 'template')),
  owner_id text NOT NULL,
  name text NOT NULL,
  monitors jsonb NOT NULL,
  is_default boolean NOT NULL DEFAULT false,
  created_by text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  UNIQUE (scope, owner_id, name)
);
CREATE UNIQUE INDEX layouts_one_default ON layouts (scope, owner_id) WHERE is_default;

-- Sessions as the plugin learned them from session.* events: whose, and from which template.
CREATE TABLE sessions (
  session_id text PRIMARY KEY,
  user_id text NOT NULL,
  template_id text NOT NULL,
  state text NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
