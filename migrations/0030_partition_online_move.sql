-- Online month moves out of a default partition (src/ops/partitions/move.ts), replacing the
-- copy-then-attach of migration 0017, which assumed rows are never changed or deleted (they are:
-- article_events cascades with its article and sets user_id NULL with its user).
--
-- 1. prepare: create each month's table (the parent's columns, checks and indexes) with its bound
--    as a NOT VALID check, plus a session-temporary table for the default's other rows, and a
--    trigger on the default partition that logs the key of every row written from then on.
-- 2. copy: batches of the default partition, in id order, each into its month's table or the rest.
-- 3. constrain: the parent's foreign keys added NOT VALID, logged keys reconciled, then every
--    check and foreign key validated (no strong lock: SHARE UPDATE EXCLUSIVE on the new table).
-- 4. finish, in the caller's transaction: lock the default partition, reconcile the keys logged
--    since, empty the default partition (TRUNCATE) and put back only the rest, attach each month.
--    ATTACH skips its scans (the bound check proves the new table; the default holds only the
--    rest) and builds nothing (indexes and foreign keys exist and are valid): the ACCESS EXCLUSIVE
--    hold grows with the rows written during the move, not with the month's size.
-- Bounds are UTC months; DDL cannot take bind parameters, so bounds are quoted with format(%L).

-- Keys (id, occurred_at) of rows written to a default partition while a move runs.
CREATE TABLE IF NOT EXISTS pgpress_partition_move_log (
  parent      text        NOT NULL,
  id          bigint      NOT NULL,
  occurred_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS pgpress_partition_move_log_parent_idx ON pgpress_partition_move_log (parent);

-- The trigger on <parent>_default during a move (TG_ARGV[0]: the parent).
CREATE OR REPLACE FUNCTION pgpress_partition_log_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO pgpress_partition_move_log VALUES (TG_ARGV[0], OLD.id, OLD.occurred_at);
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND (NEW.id, NEW.occurred_at) IS DISTINCT FROM (OLD.id, OLD.occurred_at)) THEN
    INSERT INTO pgpress_partition_move_log VALUES (TG_ARGV[0], NEW.id, NEW.occurred_at);
  END IF;
  RETURN NULL;
END
$$;

-- Step 1. Months already attached are left out; a month table left unattached by an earlier,
-- interrupted move is dropped and made again (its copy may be stale).
CREATE OR REPLACE FUNCTION pgpress_partition_move_prepare(p_parent text, p_months date[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_month date;
  v_name  text;
  v_from  timestamptz;
  v_to    timestamptz;
BEGIN
  FOREACH v_month IN ARRAY p_months LOOP
    v_name := pgpress_month_partition_name(p_parent, v_month);
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(v_name));
    v_from := date_trunc('month', v_month::timestamp) AT TIME ZONE 'UTC';
    v_to := (date_trunc('month', v_month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
    EXECUTE format('DROP TABLE IF EXISTS %I', v_name);
    EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES)', v_name, p_parent);
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (occurred_at IS NOT NULL AND occurred_at >= %L AND occurred_at < %L) NOT VALID',
      v_name, v_name || '_bound', v_from, v_to);
  END LOOP;
  DROP TABLE IF EXISTS pg_temp.pgpress_partition_rest;
  EXECUTE format('CREATE TEMP TABLE pgpress_partition_rest (LIKE %I INCLUDING DEFAULTS)', p_parent);
  CREATE UNIQUE INDEX ON pg_temp.pgpress_partition_rest (id, occurred_at);
  DELETE FROM pgpress_partition_move_log WHERE parent = p_parent;
  EXECUTE format('CREATE OR REPLACE TRIGGER pgpress_partition_move AFTER INSERT OR UPDATE OR DELETE ON %I
    FOR EACH ROW EXECUTE FUNCTION pgpress_partition_log_change(%L)', p_parent || '_default', p_parent);
END
$$;

-- Step 2: copies up to p_batch rows of the default partition after id p_after_id, each into its
-- month's table (p_months) or the rest. Returns the last id read, NULL when none is left.
CREATE OR REPLACE FUNCTION pgpress_partition_move_copy(p_parent text, p_months date[], p_after_id bigint, p_batch integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_month date;
  v_sql   text := format('WITH batch AS MATERIALIZED (SELECT * FROM %I WHERE id > $1 ORDER BY id LIMIT $2)', p_parent || '_default');
  v_last  bigint;
BEGIN
  FOREACH v_month IN ARRAY p_months LOOP
    v_sql := v_sql || format(', %I AS (INSERT INTO %I SELECT * FROM batch WHERE date_trunc(''month'', occurred_at AT TIME ZONE ''UTC'') = %L::timestamp ON CONFLICT DO NOTHING)',
      'm' || to_char(v_month, 'YYYYMM'), pgpress_month_partition_name(p_parent, v_month), v_month);
  END LOOP;
  v_sql := v_sql || ', rest AS (INSERT INTO pg_temp.pgpress_partition_rest SELECT * FROM batch
    WHERE date_trunc(''month'', occurred_at AT TIME ZONE ''UTC'')::date <> ALL ($3) ON CONFLICT DO NOTHING)
    SELECT max(id) FROM batch';
  EXECUTE v_sql INTO v_last USING coalesce(p_after_id, 0), p_batch, p_months;
  RETURN v_last;
END
$$;

-- Re-copies the rows whose keys were logged: each key's row as the default partition holds it
-- now (or none), in its month's table or the rest. Returns rows written minus rows removed from
-- the month tables. Each key is looked up by the (id, occurred_at) indexes (no hash or merge
-- join: those would read a whole month, under the lock, to find a few rows).
CREATE OR REPLACE FUNCTION pgpress_partition_move_reconcile(p_parent text, p_months date[])
RETURNS bigint LANGUAGE plpgsql SET enable_hashjoin = off SET enable_mergejoin = off AS $$
DECLARE
  v_month date;
  v_name  text;
  v_n     bigint;
  v_delta bigint := 0;
BEGIN
  DROP TABLE IF EXISTS pg_temp.pgpress_partition_keys;
  CREATE TEMP TABLE pgpress_partition_keys AS
    SELECT DISTINCT id, occurred_at FROM pgpress_partition_move_log WHERE parent = p_parent;
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

-- Step 3: the parent's foreign keys on each month table, NOT VALID (from now on a cascade from
-- the referenced table reaches the copy too), the copies made before reconciled, then every
-- constraint of the month tables validated.
CREATE OR REPLACE FUNCTION pgpress_partition_move_add_keys(p_parent text, p_months date[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_month date;
  v_name  text;
  v_fk    record;
BEGIN
  FOREACH v_month IN ARRAY p_months LOOP
    v_name := pgpress_month_partition_name(p_parent, v_month);
    FOR v_fk IN SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint
                WHERE conrelid = to_regclass(p_parent) AND contype = 'f' ORDER BY conname LOOP
      CONTINUE WHEN EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(v_name) AND conname = v_fk.conname);
      EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I %s NOT VALID', v_name, v_fk.conname, v_fk.def);
    END LOOP;
  END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION pgpress_partition_move_validate(p_parent text, p_months date[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_month date;
  v_name  text;
  v_con   text;
BEGIN
  FOREACH v_month IN ARRAY p_months LOOP
    v_name := pgpress_month_partition_name(p_parent, v_month);
    FOR v_con IN SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(v_name) AND NOT convalidated ORDER BY conname LOOP
      EXECUTE format('ALTER TABLE %I VALIDATE CONSTRAINT %I', v_name, v_con);
    END LOOP;
  END LOOP;
END
$$;

-- Step 4, in the caller's transaction, after it locked the default partition. Returns the
-- reconcile's row delta for the month tables.
CREATE OR REPLACE FUNCTION pgpress_partition_move_finish(p_parent text, p_months date[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_default text := p_parent || '_default';
  v_delta   bigint;
  v_month   date;
  v_name    text;
BEGIN
  v_delta := pgpress_partition_move_reconcile(p_parent, p_months);
  EXECUTE format('DROP TRIGGER pgpress_partition_move ON %I', v_default);
  DELETE FROM pgpress_partition_move_log WHERE parent = p_parent;
  -- TRUNCATE instead of deleting the month's rows: constant time, and the scan ATTACH makes of the
  -- default partition then reads only the rest.
  EXECUTE format('TRUNCATE %I', v_default);
  EXECUTE format('INSERT INTO %I SELECT * FROM pg_temp.pgpress_partition_rest', v_default);
  DROP TABLE pg_temp.pgpress_partition_rest;
  FOREACH v_month IN ARRAY p_months LOOP
    v_name := pgpress_month_partition_name(p_parent, v_month);
    EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', p_parent, v_name,
      date_trunc('month', v_month::timestamp) AT TIME ZONE 'UTC', (date_trunc('month', v_month::timestamp) + interval '1 month') AT TIME ZONE 'UTC');
    -- The partition constraint now says the same; keep only the parent's definition.
    EXECUTE format('ALTER TABLE %I DROP CONSTRAINT %I', v_name, v_name || '_bound');
  END LOOP;
  RETURN v_delta;
END
$$;

-- Ends a move that will not finish now (lock timeout, failure): no more logging, and the month
-- tables not attached are dropped (the next run makes them again).
CREATE OR REPLACE FUNCTION pgpress_partition_move_abandon(p_parent text, p_months date[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_month date;
  v_name  text;
BEGIN
  EXECUTE format('DROP TRIGGER IF EXISTS pgpress_partition_move ON %I', p_parent || '_default');
  DELETE FROM pgpress_partition_move_log WHERE parent = p_parent;
  DROP TABLE IF EXISTS pg_temp.pgpress_partition_rest;
  FOREACH v_month IN ARRAY p_months LOOP
    v_name := pgpress_month_partition_name(p_parent, v_month);
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(v_name));
    EXECUTE format('DROP TABLE IF EXISTS %I', v_name);
  END LOOP;
END
$$;

-- The copy-then-attach functions this file replaces.
DROP FUNCTION IF EXISTS pgpress_partition_copy_batch(text, date, bigint, integer);
DROP FUNCTION IF EXISTS pgpress_partition_attach(text, date);

-- Rows in the month tables of a move (counted outside the lock, before the finish).
CREATE OR REPLACE FUNCTION pgpress_partition_move_count(p_parent text, p_months date[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_month date;
  v_n     bigint;
  v_total bigint := 0;
BEGIN
  FOREACH v_month IN ARRAY p_months LOOP
    EXECUTE format('SELECT count(*) FROM %I', pgpress_month_partition_name(p_parent, v_month)) INTO v_n;
    v_total := v_total + v_n;
  END LOOP;
  RETURN v_total;
END
$$;
