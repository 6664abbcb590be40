-- Idempotency keys of HTTP writes (the Idempotency-Key header, src/http/idempotency/): one row per
-- (scope, key), inserted by the write's own transaction before the write and completed with the
-- answer before its COMMIT, so a committed write and its key are atomic. A retry of the same
-- request finds the row and gets the stored answer; a concurrent duplicate waits on the primary
-- key until the first transaction ends. scope is who sent the key ('u:<user id>' or 'anon'), so
-- two users' keys never meet. fingerprint: an HMAC of the request (method, path, body), never the
-- body itself. body is json, not jsonb: the stored answer is replayed byte for byte. Rows older
-- than IDEMPOTENCY_KEY_TTL_HOURS are purged in batches by the scheduler (idempotency_keys job).
CREATE TABLE IF NOT EXISTS pgpress_idempotency_keys (
  scope       text        NOT NULL,
  key         text        NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  fingerprint bytea       NOT NULL CHECK (length(fingerprint) = 32),
  status      smallint    CHECK (status BETWEEN 200 AND 299),
  body        json,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (scope, key)
);

-- The purge's range scan (created_at < now() - ttl), oldest first.
CREATE INDEX IF NOT EXISTS pgpress_idempotency_keys_created_idx ON pgpress_idempotency_keys (created_at);

REVOKE ALL ON pgpress_idempotency_keys FROM PUBLIC;

DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_owner') THEN
    ALTER TABLE pgpress_idempotency_keys OWNER TO pgpress_owner;
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pgpress_app') THEN
    -- Claim (INSERT … ON CONFLICT DO UPDATE of an expired row), complete (UPDATE), replay
    -- (SELECT), purge (DELETE, the scheduler runs as the application role).
    GRANT SELECT, INSERT, UPDATE, DELETE ON pgpress_idempotency_keys TO pgpress_app;
  END IF;
END
$$;
