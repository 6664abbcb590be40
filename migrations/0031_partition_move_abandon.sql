-- Ending a move that will not finish now (migration 0030) when its lock was refused: the reader
-- that made the move time out still holds the default partition, so DROP TRIGGER (ACCESS
-- EXCLUSIVE) would time out as well and leave everything behind. Each step now stands alone:
-- the unattached month tables are dropped, the logging trigger is dropped or, when that lock is
-- not granted either, disabled (SHARE ROW EXCLUSIVE: readers do not block it; the next move's
-- CREATE OR REPLACE TRIGGER enables it again, its finish drops it), and the log is emptied.
CREATE OR REPLACE FUNCTION pgpress_partition_move_abandon(p_parent text, p_months date[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_default text := p_parent || '_default';
  v_month   date;
  v_name    text;
BEGIN
  FOREACH v_month IN ARRAY p_months LOOP
    v_name := pgpress_month_partition_name(p_parent, v_month);
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(v_name));
    BEGIN
      EXECUTE format('DROP TABLE IF EXISTS %I', v_name);
    EXCEPTION WHEN lock_not_available THEN
      NULL; -- the next move drops and makes it again
    END;
  END LOOP;
  BEGIN
    EXECUTE format('DROP TRIGGER IF EXISTS pgpress_partition_move ON %I', v_default);
  EXCEPTION WHEN lock_not_available THEN
    BEGIN
      EXECUTE format('ALTER TABLE %I DISABLE TRIGGER pgpress_partition_move', v_default);
    EXCEPTION WHEN lock_not_available THEN
      NULL; -- the trigger keeps logging until the next move starts over
    END;
  END;
  DELETE FROM pgpress_partition_move_log WHERE parent = p_parent;
  DROP TABLE IF EXISTS pg_temp.pgpress_partition_rest;
END
$$;
