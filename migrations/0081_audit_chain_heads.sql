-- The heads of the audit hash chains: per chain, the last position given out (seq) and the hash
-- of the entry there. An audited write takes one head's row lock for the rest of its transaction
-- (the UPDATE in pgpress_audit_append), so within a chain the order of seq is the order of the
-- entries' commits and no two transactions interleave. Eight chains, not one: one head would
-- serialise every audited transaction from its first write to its commit (measured in
-- docs/security.md); a transaction takes a head nobody holds (SKIP LOCKED) and waits only when
-- all eight are held. prev is the hash before the last entry (the UPDATE's RETURNING cannot see
-- old values). The first entry of a chain links to 32 zero bytes.
CREATE TABLE IF NOT EXISTS pgpress_audit_chain (
  chain smallint PRIMARY KEY CHECK (chain >= 0),
  seq   bigint   NOT NULL DEFAULT 0 CHECK (seq >= 0),
  hash  bytea    NOT NULL DEFAULT decode(repeat('00', 32), 'hex') CHECK (length(hash) = 32),
  prev  bytea
);

INSERT INTO pgpress_audit_chain (chain) SELECT g FROM generate_series(0, 7) AS g ON CONFLICT DO NOTHING;

REVOKE ALL ON pgpress_audit_chain FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_owner') THEN
    ALTER TABLE pgpress_audit_chain OWNER TO pgpress_owner;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_auditor') THEN
    GRANT SELECT ON pgpress_audit_chain TO pgpress_auditor;  -- audit verify as the auditor
  END IF;
END
$$;
