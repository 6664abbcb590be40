-- What each role may do, object by object (test/security/expected-privileges.tsv holds the full
-- matrix). Grants are on partitioned parents: queries go through the parent, and PostgreSQL checks
-- the parent's privileges. A partition read directly needs its own grant: only the default
-- partitions have one, for the app's /metrics (rows that missed their month).
GRANT SELECT, INSERT, UPDATE, DELETE ON users, articles, comments TO pgpress_app;
GRANT SELECT, INSERT, UPDATE ON tags TO pgpress_app;
GRANT SELECT, INSERT ON article_events TO pgpress_app;
GRANT SELECT ON article_analytics, user_engagement, pgpress_matview_staleness, pgpress_matview_refresh TO pgpress_app;
-- The cache's change feed reads the log and prunes old rows; the triggers write it as the owner.
GRANT SELECT, DELETE ON pgpress_cache_changes TO pgpress_app;
-- /metrics and readiness: job history, migration record, partitions ahead, audit completeness.
-- The app reads the audit log (as it reads the tables it audits) but never writes it: rows reach
-- it only through the SECURITY DEFINER audit trigger.
GRANT SELECT ON pgpress_job_runs, pgpress_migrations, audit_log, article_events_default, audit_log_default TO pgpress_app;
GRANT EXECUTE ON FUNCTION pgpress_partition_months(text) TO pgpress_app;
GRANT USAGE ON SEQUENCE users_id_seq, articles_id_seq, comments_id_seq, article_events_id_seq TO pgpress_app;

GRANT SELECT ON users, articles, comments, tags, article_events, article_analytics, user_engagement, pgpress_matview_staleness TO pgpress_readonly;

GRANT SELECT ON audit_log TO pgpress_auditor;
