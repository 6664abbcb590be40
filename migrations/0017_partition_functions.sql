-- Month-partition maintenance primitives, called by src/ops/partitions with bind parameters (DDL
-- cannot take them, so bounds are quoted here with format(%L)). Partitioned tables are expected
-- to have `id bigint` + `occurred_at timestamptz`, a `<parent>_default` partition, and be
-- append-only (rows are not updated or deleted while maintenance copies them). Bounds are UTC.

-- The partition of p_parent holding the month of p_month: <parent>_pYYYY_MM.
CREATE OR REPLACE FUNCTION pgpress_month_partition_name(p_parent text, p_month date) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT p_parent || '_p' || to_char(p_month, 'YYYY_MM') $$;

-- Creates the (unattached) partition table for a month and copies up to p_batch rows of that month
-- from the default partition into it, in id order after p_after_id. Returns the last id copied,
-- or NULL when nothing is left. The rows stay in the default partition (still visible) until
-- pgpress_partition_attach moves the rest and attaches, atomically.
CREATE OR REPLACE FUNCTION pgpress_partition_copy_batch(p_parent text, p_month date, p_after_id bigint, p_batch integer)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_from timestamptz := date_trunc('month', p_month::timestamp) AT TIME ZONE 'UTC';
  v_to   timestamptz := (date_trunc('month', p_month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
  v_name text := pgpress_month_partition_name(p_parent, p_month);
  v_last bigint;
BEGIN
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name, p_parent);
  EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %I (id, occurred_at)', v_name || '_pkey', v_name);
  EXECUTE format(
    'WITH batch AS (SELECT * FROM %I WHERE occurred_at >= $1 AND occurred_at < $2 AND id > $3 ORDER BY id LIMIT $4),
          ins AS (INSERT INTO %I SELECT * FROM batch ON CONFLICT DO NOTHING)
     SELECT max(id) FROM batch', p_parent || '_default', v_name)
    INTO v_last USING v_from, v_to, coalesce(p_after_id, 0), p_batch;
  RETURN v_last;
END
$$;

-- Moves what is left of the month out of the default partition (rows that arrived during the
-- copy) and attaches the month's partition, in the caller's transaction. Returns rows moved now.
CREATE OR REPLACE FUNCTION pgpress_partition_attach(p_parent text, p_month date)
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  v_from timestamptz := date_trunc('month', p_month::timestamp) AT TIME ZONE 'UTC';
  v_to   timestamptz := (date_trunc('month', p_month::timestamp) + interval '1 month') AT TIME ZONE 'UTC';
  v_name text := pgpress_month_partition_name(p_parent, p_month);
  v_moved bigint;
BEGIN
  IF EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(v_name)) THEN RETURN 0; END IF;
  EXECUTE format('CREATE TABLE IF NOT EXISTS %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name, p_parent);
  EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %I (id, occurred_at)', v_name || '_pkey', v_name);
  EXECUTE format(
    'WITH moved AS (DELETE FROM %I WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *),
          ins AS (INSERT INTO %I SELECT * FROM moved ON CONFLICT DO NOTHING)
     SELECT count(*) FROM moved', p_parent || '_default', v_name)
    INTO v_moved USING v_from, v_to;
  EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)', p_parent, v_name, v_from, v_to);
  RETURN v_moved;
END
$$;

-- Retires a month: detaches its partition, then drops it (p_archive false) or keeps it as a
-- plain table renamed <partition>_archived (p_archive true). Returns false when there was none.
CREATE OR REPLACE FUNCTION pgpress_partition_retire(p_parent text, p_month date, p_archive boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_name text := pgpress_month_partition_name(p_parent, p_month);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(v_name) AND inhparent = to_regclass(p_parent)) THEN
    RETURN false;
  END IF;
  EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', p_parent, v_name);
  IF p_archive THEN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', v_name, v_name || '_archived');
  ELSE
    EXECUTE format('DROP TABLE %I', v_name);
  END IF;
  RETURN true;
END
$$;

-- The months that have an attached partition of p_parent (first day of each, ascending).
CREATE OR REPLACE FUNCTION pgpress_partition_months(p_parent text)
RETURNS SETOF date LANGUAGE sql STABLE AS $$
  SELECT to_date(substring(c.relname FROM '_p([0-9]{4}_[0-9]{2})$'), 'YYYY_MM')
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent = to_regclass(p_parent) AND c.relname ~ '_p[0-9]{4}_[0-9]{2}$'
  ORDER BY 1
$$;
