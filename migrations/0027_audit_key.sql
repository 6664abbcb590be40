-- The audit log's hashing key: 32 random bytes made once, here, and never shown. Personal values
-- are recorded in audit_log as HMAC-SHA256 under it (migration 0028), so equal values can be
-- matched without being readable, and nobody without the key can test guesses against them.
-- No role but the owner may read it (the audit trigger runs as the owner); ipad/opad are the
-- key padded to SHA-256's 64-byte block and XORed with HMAC's constants, computed once so the
-- trigger needs only the built-in sha256() (no extension).
CREATE TABLE IF NOT EXISTS pgpress_audit_key (
  singleton  boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  key        bytea       NOT NULL CHECK (length(key) = 32),
  ipad       bytea       NOT NULL CHECK (length(ipad) = 64),
  opad       bytea       NOT NULL CHECK (length(opad) = 64),
  created_at timestamptz NOT NULL DEFAULT now()
);

REVOKE ALL ON pgpress_audit_key FROM PUBLIC;

DO $$
DECLARE
  -- Two v4 UUIDs: 244 random bits from the server's strong random source (gen_random_uuid is built in).
  v_key bytea := decode(replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''), 'hex');
  v_ipad bytea := v_key || decode(repeat('00', 32), 'hex');
  v_opad bytea := v_key || decode(repeat('00', 32), 'hex');
BEGIN
  IF EXISTS (SELECT 1 FROM pgpress_audit_key) THEN RETURN; END IF;
  FOR i IN 0..63 LOOP
    v_ipad := set_byte(v_ipad, i, get_byte(v_ipad, i) # 54);  -- 0x36
    v_opad := set_byte(v_opad, i, get_byte(v_opad, i) # 92);  -- 0x5c
  END LOOP;
  INSERT INTO pgpress_audit_key (key, ipad, opad) VALUES (v_key, v_ipad, v_opad) ON CONFLICT DO NOTHING;
END
$$;
