-- A write's permission check locks the article's row before reading it (FOR UPDATE for an edit,
-- FOR SHARE for a comment: an archive waits for the comment, and the comment for an archive in
-- flight). Row-level security applies the UPDATE policy to SELECT … FOR UPDATE/SHARE, so the app
-- role could lock only rows it may change, and another author's comment or refused edit would
-- look like a missing article. The lock is taken here, as the owner (BYPASSRLS); the caller then
-- reads the row in its own statement under its own policies. Returns only whether the row
-- exists (so a refused edit of a hidden draft is 403, as the routes answered before; the app role
-- learns as much from a foreign key error): no column of the row leaks.
CREATE OR REPLACE FUNCTION pgpress_lock_article(p_id bigint, p_for_update boolean)
RETURNS boolean LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF p_for_update THEN
    PERFORM 1 FROM public.articles WHERE id = p_id FOR UPDATE;
  ELSE
    PERFORM 1 FROM public.articles WHERE id = p_id FOR SHARE;
  END IF;
  RETURN FOUND;
END
$$;

ALTER FUNCTION pgpress_lock_article(bigint, boolean) OWNER TO pgpress_owner;
REVOKE ALL ON FUNCTION pgpress_lock_article(bigint, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION pgpress_lock_article(bigint, boolean) TO pgpress_app;
