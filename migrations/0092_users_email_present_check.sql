-- Every user keeps an email: in clear (rows from before 0090, until `pgpress keys rotate`) or
-- sealed with its key id and blind index. NOT VALID: instant; 0093 validates it.
SET LOCAL lock_timeout = '5s';
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'users_email_present' AND conrelid = 'users'::regclass) THEN
    ALTER TABLE users ADD CONSTRAINT users_email_present
      CHECK (email IS NOT NULL OR (email_ciphertext IS NOT NULL AND email_key_id IS NOT NULL AND email_index IS NOT NULL)) NOT VALID;
  END IF;
END $$;
