-- The cache's change log: one row per data-changing statement on a cached table, holding the cache
-- tags the statement touched. Every pgpress instance tails it (src/cache/changeFeed.ts), so a write
-- made outside pgpress (psql, a batch job, another service) invalidates the cache too.
-- xid is the writing transaction's id: a reader's cursor is a snapshot xmin, not a row id, because
-- ids are handed out at insert time but become visible at commit time, in another order; every
-- transaction below a snapshot's xmin has finished, so "xid >= cursor" never skips a late commit.
CREATE TABLE IF NOT EXISTS pgpress_cache_changes (
  id   bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  xid  xid8        NOT NULL DEFAULT pg_current_xact_id(),
  tags text[]      NOT NULL CHECK (cardinality(tags) >= 1),
  at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS pgpress_cache_changes_xid_idx ON pgpress_cache_changes (xid);
CREATE INDEX IF NOT EXISTS pgpress_cache_changes_at_idx ON pgpress_cache_changes (at);
