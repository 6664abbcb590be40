-- Nobody but the owner creates objects: no CREATE on schema public for PUBLIC (PostgreSQL 15's
-- default, made explicit for clusters created by older versions), CREATE for pgpress_owner so
-- migrations may run as it. Every pgpress role may look objects up in public (USAGE).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO pgpress_owner;
GRANT USAGE ON SCHEMA public TO pgpress_app, pgpress_readonly, pgpress_auditor;
