-- Request-path performance (issue 12). Sections are labelled by concern;
-- other parts of the issue append their own.

-- Sessions: indexes that hold as history grows. The list is two index scans
-- joined by UNION ALL (own sessions; sessions shared with the viewer), each
-- already in (created_at, id) order, so neither reads more than a page.
DROP INDEX sessions_user_idx;
CREATE INDEX sessions_user_idx ON sessions (user_id, created_at DESC, id DESC);
-- sessions:admin lists everyone's, newest first.
CREATE INDEX sessions_created_idx ON sessions (created_at DESC, id DESC);
-- The orchestrator's claim: sessions whose desired state still needs a runtime
-- command, oldest change first. Live sessions are few whatever the history.
CREATE INDEX sessions_claim_idx ON sessions (updated_at)
  WHERE state NOT IN ('terminated', 'failed') AND desired <> state AND NOT submitted;
