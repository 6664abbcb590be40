-- A retention removal's record (0087) also carries the ranges recorded by RETIRE entries it
-- removes, as they were: otherwise removing an old record (a later month, a purge of the default
-- partition) would leave the chains it accounted for with no record, and verify would report
-- their start as deleted. The newest record accounts for every earlier removal.
CREATE OR REPLACE FUNCTION pgpress_audit_note_removal(p_relation text, p_ctids tid[], p_archived boolean)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_chains jsonb;
BEGIN
  EXECUTE format(
    'WITH removed AS (SELECT * FROM %I WHERE $1 IS NULL OR ctid = ANY ($1)),
          own AS (SELECT chain, min(seq) AS first, max(seq) AS last, count(*) AS n, (array_agg(hash ORDER BY seq DESC))[1] AS last_hash
                    FROM removed GROUP BY chain),
          ranges AS (
            SELECT jsonb_build_object(''chain'', chain, ''first'', first, ''last'', last, ''count'', n, ''last_hash'', encode(last_hash, ''hex'')) AS r, chain, first
              FROM own
            UNION ALL
            SELECT c, (c ->> ''chain'')::int, (c ->> ''first'')::bigint
              FROM removed, jsonb_array_elements(removed.new_row -> ''chains'') AS c WHERE removed.operation = ''RETIRE'')
     SELECT coalesce(jsonb_agg(r ORDER BY chain, first), ''[]'') FROM ranges', p_relation)
    INTO v_chains USING p_ctids;
  IF v_chains = '[]' THEN RETURN; END IF;
  PERFORM pgpress_audit_append('audit_log', 'RETIRE', NULL, p_relation, NULL,
    jsonb_build_object('relation', p_relation, 'archived', p_archived, 'chains', v_chains), NULL);
END
$$;
