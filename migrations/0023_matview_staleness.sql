-- Staleness per view: age of the last refresh and how many source statements it has not seen.
CREATE OR REPLACE VIEW pgpress_matview_staleness AS
SELECT r.view_name,
       r.last_refreshed_at,
       extract(epoch FROM now() - r.last_refreshed_at)::double precision AS age_seconds,
       greatest(coalesce((SELECT sum(s.changes) FROM pgpress_source_changes s WHERE s.source = ANY (r.sources)), 0) - r.seen_changes, 0)::bigint AS pending_changes,
       r.last_duration_ms,
       r.refreshes,
       r.skips
FROM pgpress_matview_refresh r;
