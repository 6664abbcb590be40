-- Entries written before the chain (0080–0085) join it: in id order, at the end of chain 0, each
-- hashed like a new entry (their db_role and actor_role stay unknown), so `pgpress audit verify`
-- can treat every entry without a chain as written outside the trigger path. Re-running finds
-- nothing left to seal.
DO $$
DECLARE
  r      record;
  v_seq  bigint;
  v_prev bytea;
  v_last bytea;
  v_hash bytea;
  v_key  text;
BEGIN
  SELECT seq, hash, prev INTO STRICT v_seq, v_hash, v_last FROM pgpress_audit_chain WHERE chain = 0 FOR UPDATE;
  FOR r IN SELECT * FROM audit_log WHERE chain IS NULL ORDER BY id LOOP
    v_key := coalesce(r.row_key, r.row_id::text);
    v_prev := v_hash;
    v_seq := v_seq + 1;
    v_hash := sha256(v_prev || pgpress_audit_payload(r.id, r.occurred_at, r.txid, r.actor_id, r.db_role, r.actor_role,
                r.table_name, r.operation, r.row_id, v_key, r.changed_columns, r.old_row, r.new_row));
    UPDATE audit_log SET chain = 0, seq = v_seq, prev_hash = v_prev, hash = v_hash, row_key = v_key
     WHERE id = r.id AND occurred_at = r.occurred_at;
    v_last := v_prev;
  END LOOP;
  UPDATE pgpress_audit_chain SET seq = v_seq, hash = v_hash, prev = v_last WHERE chain = 0;
END
$$;
