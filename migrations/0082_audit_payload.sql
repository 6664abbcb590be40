-- What an audit entry's hash covers: every recorded field as text, each written as
-- <octet length>:<text> or '-' for NULL, so the concatenation is unambiguous without separators.
-- The time is UTC to the microsecond (independent of the session's TimeZone and DateStyle).
-- hash = sha256(prev_hash || payload). src/audit/payload.ts builds the same bytes from the stored
-- columns (cast to text) to verify the chain: change both together, never this function alone.
-- The chain's position (chain, seq) is not in the payload: it is checked by the links, which lets
-- `pgpress audit verify` tell a reordered entry (its own hash holds, its link points elsewhere)
-- from an edited one (its own hash fails).
CREATE OR REPLACE FUNCTION pgpress_audit_payload(
  p_id bigint, p_at timestamptz, p_txid bigint, p_actor_id bigint, p_db_role text, p_actor_role text,
  p_table text, p_operation text, p_row_id bigint, p_row_key text, p_changed text[], p_old jsonb, p_new jsonb)
RETURNS bytea LANGUAGE sql STABLE AS $$
  SELECT convert_to(
       coalesce(octet_length(p_id::text) || ':' || p_id::text, '-')
    || coalesce(octet_length(to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) || ':'
                 || to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), '-')
    || coalesce(octet_length(p_txid::text) || ':' || p_txid::text, '-')
    || coalesce(octet_length(p_actor_id::text) || ':' || p_actor_id::text, '-')
    || coalesce(octet_length(p_db_role) || ':' || p_db_role, '-')
    || coalesce(octet_length(p_actor_role) || ':' || p_actor_role, '-')
    || coalesce(octet_length(p_table) || ':' || p_table, '-')
    || coalesce(octet_length(p_operation) || ':' || p_operation, '-')
    || coalesce(octet_length(p_row_id::text) || ':' || p_row_id::text, '-')
    || coalesce(octet_length(p_row_key) || ':' || p_row_key, '-')
    || coalesce(octet_length(p_changed::text) || ':' || p_changed::text, '-')
    || coalesce(octet_length(p_old::text) || ':' || p_old::text, '-')
    || coalesce(octet_length(p_new::text) || ':' || p_new::text, '-'), 'UTF8')
$$;

REVOKE ALL ON FUNCTION pgpress_audit_payload(bigint, timestamptz, bigint, bigint, text, text, text, text, bigint, text, text[], jsonb, jsonb) FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_owner') THEN
    ALTER FUNCTION pgpress_audit_payload(bigint, timestamptz, bigint, bigint, text, text, text, text, bigint, text, text[], jsonb, jsonb) OWNER TO pgpress_owner;
  END IF;
END
$$;
