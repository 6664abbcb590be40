-- Row-level security on comments (context as in 0070): a comment is visible when its article is
-- (the subquery on articles is itself filtered by articles' policies, so a draft's comments are as
-- hidden as the draft); comments are written only by their author, editors and admins, and only
-- under an article the writer can see. Permissive base + RESTRICTIVE rules, FORCE, as in 0070.
SET LOCAL lock_timeout = '5s';
ALTER TABLE comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE comments FORCE ROW LEVEL SECURITY;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'comments'::regclass AND polname = 'comments_rows') THEN
    CREATE POLICY comments_rows ON comments AS PERMISSIVE FOR ALL USING (true) WITH CHECK (true);
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'comments'::regclass AND polname = 'comments_read') THEN
    CREATE POLICY comments_read ON comments AS RESTRICTIVE FOR SELECT USING (
      EXISTS (SELECT 1 FROM articles a WHERE a.id = comments.article_id));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'comments'::regclass AND polname = 'comments_insert') THEN
    CREATE POLICY comments_insert ON comments AS RESTRICTIVE FOR INSERT WITH CHECK (
      (author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
       OR current_setting('pgpress.role', true) IN ('editor', 'admin'))
      AND EXISTS (SELECT 1 FROM articles a WHERE a.id = comments.article_id));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'comments'::regclass AND polname = 'comments_update') THEN
    CREATE POLICY comments_update ON comments AS RESTRICTIVE FOR UPDATE USING (
      author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
      OR current_setting('pgpress.role', true) IN ('editor', 'admin'))
    WITH CHECK (
      author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
      OR current_setting('pgpress.role', true) IN ('editor', 'admin'));
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = 'comments'::regclass AND polname = 'comments_delete') THEN
    CREATE POLICY comments_delete ON comments AS RESTRICTIVE FOR DELETE USING (
      author_id = nullif(current_setting('pgpress.actor_id', true), '')::bigint
      OR current_setting('pgpress.role', true) IN ('editor', 'admin'));
  END IF;
END
$$;
