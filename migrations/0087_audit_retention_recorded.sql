-- Retention removes audit entries only by whole months (or stragglers older than retention from
-- the default partition), and each removal is itself an entry of the chain: operation RETIRE,
-- new_row = {"relation", "archived", "chains": [{chain, first, last, count, last_hash}]}. `pgpress
-- audit verify` accepts the positions a RETIRE entry names as removed, and checks that the entry
-- after them links to last_hash: the chain links across the removal. Anything else missing is
-- reported as deleted. Only the owner runs these (EXECUTE revoked from PUBLIC; DROP TABLE needs
-- ownership anyway).

-- Records the removal of the audit entries of p_relation: those at p_ctids, or all when NULL.
CREATE OR REPLACE FUNCTION pgpress_audit_note_removal(p_relation text, p_ctids tid[], p_archived boolean)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_chains jsonb;
BEGIN
  EXECUTE format(
    'SELECT coalesce(jsonb_agg(jsonb_build_object(''chain'', chain, ''first'', first, ''last'', last, ''count'', n,
                                                  ''last_hash'', encode(last_hash, ''hex'')) ORDER BY chain), ''[]'')
       FROM (SELECT chain, min(seq) AS first, max(seq) AS last, count(*) AS n, (array_agg(hash ORDER BY seq DESC))[1] AS last_hash
               FROM %I WHERE $1 IS NULL OR ctid = ANY ($1) GROUP BY chain) x', p_relation)
    INTO v_chains USING p_ctids;
  IF v_chains = '[]' THEN RETURN; END IF;
  PERFORM pgpress_audit_append('audit_log', 'RETIRE', NULL, p_relation, NULL,
    jsonb_build_object('relation', p_relation, 'archived', p_archived, 'chains', v_chains), NULL);
END
$$;

-- Deletes up to p_limit entries older than p_before from audit_log_default (stragglers past
-- retention), recording them first. Returns the ids deleted (maintenance counts the rows).
CREATE OR REPLACE FUNCTION pgpress_audit_purge_default(p_before timestamptz, p_limit integer)
RETURNS SETOF bigint LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_ctids tid[];
BEGIN
  -- Locked first, so the rows recorded are the rows deleted.
  v_ctids := ARRAY(SELECT ctid FROM audit_log_default WHERE occurred_at < p_before ORDER BY occurred_at LIMIT p_limit FOR UPDATE);
  IF cardinality(v_ctids) = 0 THEN RETURN; END IF;
  PERFORM pgpress_audit_note_removal('audit_log_default', v_ctids, false);
  RETURN QUERY DELETE FROM audit_log_default WHERE ctid = ANY (v_ctids) RETURNING id;
END
$$;

-- 0017's retire, recording an audit month before it leaves the log.
CREATE OR REPLACE FUNCTION pgpress_partition_retire(p_parent text, p_month date, p_archive boolean)
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_name text := pgpress_month_partition_name(p_parent, p_month);
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(v_name) AND inhparent = to_regclass(p_parent)) THEN
    RETURN false;
  END IF;
  EXECUTE format('ALTER TABLE %I DETACH PARTITION %I', p_parent, v_name);
  -- After the detach: the RETIRE entry must not land in the month being removed (its own month,
  -- when the current month is retired); the detached table still holds what it records.
  IF p_parent = 'audit_log' THEN
    PERFORM pgpress_audit_note_removal(v_name, NULL, p_archive);
  END IF;
  IF p_archive THEN
    EXECUTE format('ALTER TABLE %I RENAME TO %I', v_name, v_name || '_archived');
  ELSE
    EXECUTE format('DROP TABLE %I', v_name);
  END IF;
  RETURN true;
END
$$;

REVOKE ALL ON FUNCTION pgpress_audit_note_removal(text, tid[], boolean) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgpress_audit_purge_default(timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION pgpress_partition_retire(text, date, boolean) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_owner') THEN
    ALTER FUNCTION pgpress_audit_note_removal(text, tid[], boolean) OWNER TO pgpress_owner;
    ALTER FUNCTION pgpress_audit_purge_default(timestamptz, integer) OWNER TO pgpress_owner;
  END IF;
END
$$;
