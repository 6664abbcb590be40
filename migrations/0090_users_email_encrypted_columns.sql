-- users.email encrypted in the application (docs/security.md "Personal data and keys"): the
-- AES-256-GCM ciphertext (nonce || ciphertext || tag), the id of the key that sealed it, and the
-- blind index (HMAC-SHA256 of the normalised email under BLIND_INDEX_KEY) for lookups and
-- uniqueness. Nullable: rows written before this release keep their clear email until
-- `pgpress keys rotate` encrypts them (the migration cannot: the keys live in the application).
SET LOCAL lock_timeout = '5s';
ALTER TABLE users
  ADD COLUMN IF NOT EXISTS email_ciphertext bytea,
  ADD COLUMN IF NOT EXISTS email_key_id text,
  ADD COLUMN IF NOT EXISTS email_index bytea;
