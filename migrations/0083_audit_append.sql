-- Appends one entry to the audit hash chain, in the caller's transaction. Called only by the audit
-- trigger functions and the owner's retention and catalog functions (all SECURITY DEFINER, owned by
-- the owner): EXECUTE is revoked from PUBLIC, and the application role has no privilege on
-- audit_log, so an entry cannot be written but through a trigger.
--
-- The chain (migration 0081): the first entry of a transaction takes a head nobody holds (SKIP
-- LOCKED; if all are held, it waits for one) and keeps it, row-locked by its UPDATE, until commit:
-- every entry of the transaction goes to that chain, in order, and no other transaction can append
-- to it meanwhile. pgpress.audit_chain (transaction-local) remembers "chain/ctid of the head": the
-- next UPDATE goes straight to the head's current version (by ctid, not through a HOT chain that
-- grows with every entry of a long transaction). It is only a hint: the UPDATE re-checks the chain
-- and takes the row lock itself, so a forged or stale value costs a lookup, never a wrong link.
--
-- hash = sha256(prev_hash || payload), the payload as migration 0082 defines it.
-- No SET clause (a per-call cost on every audited row): it runs under its callers' pinned
-- search_path, and only they (and the owner) may execute it.
-- occurred_at is clock_timestamp(): taken under the head lock, it grows along each chain, so
-- dropping the oldest months removes a prefix of each chain.
CREATE OR REPLACE FUNCTION pgpress_audit_append(
  p_table text, p_operation text, p_row_id bigint, p_row_key text, p_old jsonb, p_new jsonb, p_changed text[])
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_hint   text := current_setting('pgpress.audit_chain', true);
  v_id     bigint := nextval('audit_log_id_seq'::regclass);
  v_at     timestamptz := clock_timestamp();
  v_txid   bigint := txid_current();
  v_actor  text := nullif(current_setting('pgpress.actor_id', true), '');
  v_actor_id bigint;
  v_actor_role text := nullif(current_setting('pgpress.role', true), '');
  -- The invoker's role: SECURITY DEFINER changes current_user, not the role setting.
  v_db_role text := CASE WHEN current_setting('role') = 'none' THEN session_user::text ELSE current_setting('role') END;
  v_payload bytea;
  v_chain  smallint;
  v_seq    bigint;
  v_prev   bytea;
  v_hash   bytea;
  v_ctid   tid;
BEGIN
  IF v_actor ~ '^[0-9]{1,18}$' THEN v_actor_id := v_actor::bigint; END IF;
  v_payload := pgpress_audit_payload(v_id, v_at, v_txid, v_actor_id, v_db_role, v_actor_role, p_table, p_operation,
                                      p_row_id, p_row_key, p_changed, p_old, p_new);

  IF v_hint ~ '^[0-9]{1,4}/\([0-9]+,[0-9]+\)$' THEN
    UPDATE pgpress_audit_chain h SET seq = h.seq + 1, prev = h.hash, hash = sha256(h.hash || v_payload)
     WHERE h.ctid = split_part(v_hint, '/', 2)::tid AND h.chain = split_part(v_hint, '/', 1)::smallint
    RETURNING h.chain, h.seq, h.prev, h.hash, h.ctid INTO v_chain, v_seq, v_prev, v_hash, v_ctid;
  END IF;
  IF v_seq IS NULL THEN
    -- Each backend tries the heads in its own order, so concurrent writers spread out.
    SELECT h.chain INTO v_chain FROM pgpress_audit_chain h
     ORDER BY hashint4(h.chain # pg_backend_pid()) LIMIT 1 FOR UPDATE SKIP LOCKED;
    IF v_chain IS NULL THEN
      SELECT h.chain INTO v_chain FROM pgpress_audit_chain h
       ORDER BY hashint4(h.chain # pg_backend_pid()) LIMIT 1 FOR UPDATE;
    END IF;
    UPDATE pgpress_audit_chain h SET seq = h.seq + 1, prev = h.hash, hash = sha256(h.hash || v_payload)
     WHERE h.chain = v_chain
    RETURNING h.chain, h.seq, h.prev, h.hash, h.ctid INTO v_chain, v_seq, v_prev, v_hash, v_ctid;
  END IF;
  PERFORM set_config('pgpress.audit_chain', v_chain || '/' || v_ctid, true);

  INSERT INTO audit_log (id, occurred_at, txid, actor_id, db_role, actor_role, table_name, operation, row_id, row_key,
                         changed_columns, old_row, new_row, chain, seq, prev_hash, hash)
  OVERRIDING SYSTEM VALUE
  VALUES (v_id, v_at, v_txid, v_actor_id, v_db_role, v_actor_role, p_table, p_operation, p_row_id, p_row_key,
          p_changed, p_old, p_new, v_chain, v_seq, v_prev, v_hash);
END
$$;

REVOKE ALL ON FUNCTION pgpress_audit_append(text, text, bigint, text, jsonb, jsonb, text[]) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_owner') THEN
    ALTER FUNCTION pgpress_audit_append(text, text, bigint, text, jsonb, jsonb, text[]) OWNER TO pgpress_owner;
  END IF;
END
$$;
