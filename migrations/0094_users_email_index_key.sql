-- pgpress:no-transaction
-- One user per email, by blind index (the clear column's users_email_key goes with the column).
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS users_email_index_key ON users (email_index);
