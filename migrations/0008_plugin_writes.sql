-- A plugin's route, job or handler writes its data, its events and its audit
-- row in one transaction of its own database role. The role has no rights on
-- core tables: it appends through functions in schema `kernel` that the host
-- creates for each plugin at install (SECURITY DEFINER, executable by that
-- role alone, fixed to its id), so a plugin can add only its own `<id>.*`
-- events and audit rows marked with its id.
CREATE SCHEMA IF NOT EXISTS kernel;
ALTER TABLE audit_log ADD COLUMN plugin text;

-- Uninstalling with keepData keeps a plugin's schema and role; its config and
-- sealed secrets wait here and come back when it is installed again.
CREATE TABLE plugin_kept_config (
  id        text PRIMARY KEY,
  version   text NOT NULL,
  config    jsonb NOT NULL,
  secrets   text,
  kept_at   timestamptz NOT NULL
);
