-- Change counters for the materialized views' source tables. A statement-level trigger bumps a
-- row keyed by (source, backend pid): each backend owns its row, so concurrent writers never wait
-- on each other, and the bump commits or rolls back with the write. A refresh reads the sum
-- before its snapshot; any later commit makes the sum larger than what the refresh recorded.
CREATE TABLE IF NOT EXISTS pgpress_source_changes (
  source  text    NOT NULL,
  pid     integer NOT NULL,
  changes bigint  NOT NULL DEFAULT 0 CHECK (changes >= 0),
  PRIMARY KEY (source, pid)
);

CREATE OR REPLACE FUNCTION pgpress_bump_source_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO pgpress_source_changes AS s (source, pid, changes) VALUES (TG_TABLE_NAME, pg_backend_pid(), 1)
  ON CONFLICT (source, pid) DO UPDATE SET changes = s.changes + 1;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER users_source_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_bump_source_changes();
CREATE OR REPLACE TRIGGER articles_source_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON articles
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_bump_source_changes();
CREATE OR REPLACE TRIGGER comments_source_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON comments
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_bump_source_changes();
CREATE OR REPLACE TRIGGER article_events_source_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON article_events
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_bump_source_changes();
