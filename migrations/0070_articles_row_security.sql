-- Row-level security on articles, from the request's context (SET LOCAL by the transaction):
-- pgpress.actor_id (the acting user) and pgpress.role (author, editor, admin). A missing or empty
-- setting is anonymous. Drafts and archived articles are visible only to their author, editors and
-- admins; rows are written only by their author, editors and admins. One permissive policy admits
-- every row and RESTRICTIVE policies carry the rules, so dropping a rule opens exactly what it
-- guarded (test/security/rlsPolicies.test.ts proves the tests notice). FORCE: the owner is subject
-- too, unless (like pgpress_owner) it has BYPASSRLS: maintenance, matview refreshes and the
-- SECURITY DEFINER trigger functions it owns see every row.
SET LOCAL lock_timeout = '5s';
ALTER TABLE articles ENABLE ROW LEVEL SECURITY;
ALTER TABLE articles FORCE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'articles'::regclass AND polname = 'articles_rows') THEN
    CREATE POLICY articles_rows ON articles AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'articles'::regclass AND polname = 'articles_read') THEN
    CREATE POLICY articles_read ON articles AS RESTRICTIVE FOR SELECT USING (
      status = 'published'
      OR author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
      OR current_setting('pgpress.role', true) IN ('editor', 'admin'));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'articles'::regclass AND polname = 'articles_insert') THEN
    CREATE POLICY articles_insert ON articles AS RESTRICTIVE FOR INSERT WITH CHECK (
      author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
      OR current_setting('pgpress.role', true) IN ('editor', 'admin'));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'articles'::regclass AND polname = 'articles_update') THEN
    CREATE POLICY articles_update ON articles AS RESTRICTIVE FOR UPDATE USING (
      author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
      OR current_setting('pgpress.role', true) IN ('editor', 'admin'))
    WITH CHECK (
      author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
      OR current_setting('pgpress.role', true) IN ('editor', 'admin'));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'articles'::regclass AND polname = 'articles_delete') THEN
    CREATE POLICY articles_delete ON articles AS RESTRICTIVE FOR DELETE USING (
      author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
      OR current_setting('pgpress.role', true) IN ('editor', 'admin'));
  END IF;
END
$$;
