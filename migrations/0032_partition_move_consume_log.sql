-- The reconcile of a partition move (migration 0030) consumes the keys it handles: the pass
-- before the lock takes every change logged so far, and the final transaction, under the lock,
-- re-copies only the rows written since — the stragglers — not every change of the whole move.
-- (The DELETE … RETURNING takes exactly the log rows its snapshot sees; a change committed
-- later has its own, later log row.)
CREATE OR REPLACE FUNCTION pgpress_partition_move_reconcile(p_parent text, p_months date[])
RETURNS bigint LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_month date;
  v_name  text;
  v_n     bigint;
  v_delta bigint := 0;
BEGIN
  DROP TABLE IF EXISTS pg_temp.pgpress_partition_keys;
  -- Consumed: a key changed again later is logged again, so each pass (the one before the
  -- lock, then the final one) handles only what was written since the previous.
  CREATE TEMP TABLE pgpress_partition_keys (id bigint NOT NULL, occurred_at timestamptz NOT NULL);
  WITH taken AS (DELETE FROM pgpress_partition_move_log WHERE parent = p_parent RETURNING id, occurred_at)
  INSERT INTO pg_temp.pgpress_partition_keys SELECT DISTINCT id, occurred_at FROM taken;
  IF NOT EXISTS (SELECT 1 FROM pg_temp.pgpress_partition_keys) THEN
    DROP TABLE pg_temp.pgpress_partition_keys;
    RETURN 0;
  END IF;
  ANALYZE pg_temp.pgpress_partition_keys;
  FOREACH v_month IN ARRAY p_months LOOP
    v_name := pgpress_month_partition_name(p_parent, v_month);
    EXECUTE format('DELETE FROM %I t USING pg_temp.pgpress_partition_keys k WHERE t.id = k.id AND t.occurred_at = k.occurred_at', v_name);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_delta := v_delta - v_n;
    EXECUTE format('INSERT INTO %I SELECT d.* FROM %I d JOIN pg_temp.pgpress_partition_keys k ON d.id = k.id AND d.occurred_at = k.occurred_at
      WHERE date_trunc(''month'', d.occurred_at AT TIME ZONE ''UTC'') = %L::timestamp', v_name, p_parent || '_default', v_month);
    GET DIAGNOSTICS v_n = ROW_COUNT;
    v_delta := v_delta + v_n;
  END LOOP;
  DELETE FROM pg_temp.pgpress_partition_rest t USING pg_temp.pgpress_partition_keys k WHERE t.id = k.id AND t.occurred_at = k.occurred_at;
  EXECUTE format('INSERT INTO pg_temp.pgpress_partition_rest SELECT d.* FROM %I d JOIN pg_temp.pgpress_partition_keys k ON d.id = k.id AND d.occurred_at = k.occurred_at
    WHERE date_trunc(''month'', d.occurred_at AT TIME ZONE ''UTC'')::date <> ALL ($1)', p_parent || '_default') USING p_months;
  DROP TABLE pg_temp.pgpress_partition_keys;
  RETURN v_delta;
END
$$;
