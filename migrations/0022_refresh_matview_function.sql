-- Refreshes one view CONCURRENTLY unless its sources are unchanged since the last refresh and
-- that refresh is younger than p_max_age (the 7/30-day windows slide with time alone). Returns
-- true when it refreshed, false when skipped (nothing new, or another refresh holds the lock).
CREATE OR REPLACE FUNCTION pgpress_refresh_matview(p_view text, p_force boolean DEFAULT false, p_max_age interval DEFAULT interval '1 hour')
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  r pgpress_matview_refresh;
  v_changes bigint;
  v_started timestamptz := clock_timestamp();
BEGIN
  SELECT * INTO r FROM pgpress_matview_refresh WHERE view_name = p_view;
  IF NOT FOUND THEN RAISE EXCEPTION 'unknown materialized view %', p_view USING ERRCODE = '22023'; END IF;
  -- One refresher per view; a second one skips instead of queueing behind the EXCLUSIVE lock.
  IF NOT pg_try_advisory_xact_lock(hashtext('pgpress_refresh:' || p_view)) THEN RETURN false; END IF;
  -- Read the counters before REFRESH takes its snapshot: a write committing in between is both
  -- in the view and uncounted (one spare refresh later), never counted and missing.
  SELECT coalesce(sum(changes), 0) INTO v_changes FROM pgpress_source_changes WHERE source = ANY (r.sources);
  IF NOT p_force AND r.last_refreshed_at IS NOT NULL AND v_changes = r.seen_changes
     AND r.last_refreshed_at > now() - p_max_age THEN
    UPDATE pgpress_matview_refresh SET skips = skips + 1 WHERE view_name = p_view;
    RETURN false;
  END IF;
  EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %I', p_view);
  UPDATE pgpress_matview_refresh
     SET seen_changes = v_changes, last_refreshed_at = v_started, refreshes = refreshes + 1,
         last_duration_ms = (extract(epoch FROM clock_timestamp() - v_started) * 1000)::integer
   WHERE view_name = p_view;
  RETURN true;
END
$$;
