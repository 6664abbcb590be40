-- Validates 0092's check (a scan that lets reads and writes go on).
SET LOCAL lock_timeout = '5s';
ALTER TABLE users VALIDATE CONSTRAINT users_email_present;
