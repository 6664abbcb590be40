-- The application writes only users.email_ciphertext from now on: the clear column becomes
-- nullable (NULL once `pgpress keys rotate` has encrypted a row; a later release drops it).
SET LOCAL lock_timeout = '5s';
ALTER TABLE users ALTER COLUMN email DROP NOT NULL;
