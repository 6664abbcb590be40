-- Statement-level AFTER triggers (transition tables: one log row and one NOTIFY per statement, not
-- per row) that log the cache tags a write touches on articles, users, comments, tags and the
-- materialized views' refresh bookkeeping.
-- The tags match src/cache/types.ts. A statement touching more than 1000 distinct tags logs '*'
-- (everything): a bounded row beats an exact list nobody can apply faster than a flush.

-- Appends one change row and wakes the listeners. NOTIFY is delivered only at commit, and
-- identical payloads in one transaction are folded into one, so the wake-up costs one message.
CREATE OR REPLACE FUNCTION pgpress_cache_log(p_tags text[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v_tags text[];
BEGIN
  SELECT coalesce(array_agg(DISTINCT t ORDER BY t), '{}') INTO v_tags FROM unnest(p_tags) AS t WHERE t IS NOT NULL;
  IF cardinality(v_tags) = 0 THEN
    RETURN;
  END IF;
  IF cardinality(v_tags) > 1000 THEN
    v_tags := ARRAY['*'];
  END IF;
  INSERT INTO pgpress_cache_changes (tags) VALUES (v_tags);
  PERFORM pg_notify('pgpress_cache_changes', '');
END
$$;

-- articles: the article (its analytics row too), its author's lists, each of its tags, every feed and search.
CREATE OR REPLACE FUNCTION pgpress_cache_articles_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_tags text[] := '{}';
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    v_tags := v_tags || ARRAY(SELECT 'article:' || n.id FROM new_rows n)
                     || ARRAY(SELECT 'author:' || n.author_id FROM new_rows n)
                     || ARRAY(SELECT 'tag:' || t FROM new_rows n, unnest(n.tags) AS t);
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    v_tags := v_tags || ARRAY(SELECT 'article:' || o.id FROM old_rows o)
                     || ARRAY(SELECT 'author:' || o.author_id FROM old_rows o)
                     || ARRAY(SELECT 'tag:' || t FROM old_rows o, unnest(o.tags) AS t);
  END IF;
  IF cardinality(v_tags) > 0 THEN
    PERFORM pgpress_cache_log(v_tags || ARRAY['feed:*', 'search:*']);
  END IF;
  RETURN NULL;
END
$$;

-- users: the profile, and everything that shows the person as an author (articles, feeds, search).
-- A new user cannot appear in a cached list yet: only its own (possibly cached 404) profile changes.
CREATE OR REPLACE FUNCTION pgpress_cache_users_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_tags text[] := '{}';
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    v_tags := v_tags || ARRAY(SELECT 'user:' || n.id FROM new_rows n) || ARRAY(SELECT 'author:' || n.id FROM new_rows n);
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    v_tags := v_tags || ARRAY(SELECT 'user:' || o.id FROM old_rows o) || ARRAY(SELECT 'author:' || o.id FROM old_rows o);
  END IF;
  IF cardinality(v_tags) > 0 THEN
    IF TG_OP <> 'INSERT' THEN
      v_tags := v_tags || ARRAY['feed:*', 'search:*'];
    END IF;
    PERFORM pgpress_cache_log(v_tags);
  END IF;
  RETURN NULL;
END
$$;

-- comments: the article they hang on (its comment list and counts) and the commenter's profile.
CREATE OR REPLACE FUNCTION pgpress_cache_comments_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_tags text[] := '{}';
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    v_tags := v_tags || ARRAY(SELECT 'article:' || n.article_id FROM new_rows n) || ARRAY(SELECT 'user:' || n.author_id FROM new_rows n);
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    v_tags := v_tags || ARRAY(SELECT 'article:' || o.article_id FROM old_rows o) || ARRAY(SELECT 'user:' || o.author_id FROM old_rows o);
  END IF;
  PERFORM pgpress_cache_log(v_tags);
  RETURN NULL;
END
$$;

-- tags (the registry): the tag's own reads (tag cloud, autocomplete).
CREATE OR REPLACE FUNCTION pgpress_cache_tags_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  v_tags text[] := '{}';
BEGIN
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    v_tags := v_tags || ARRAY(SELECT 'tag:' || n.name FROM new_rows n);
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    v_tags := v_tags || ARRAY(SELECT 'tag:' || o.name FROM old_rows o);
  END IF;
  PERFORM pgpress_cache_log(v_tags);
  RETURN NULL;
END
$$;

-- pgpress_matview_refresh: a refresh (not a skipped one) changes every analytics read.
CREATE OR REPLACE FUNCTION pgpress_cache_matview_refreshed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o USING (view_name)
             WHERE n.last_refreshed_at IS DISTINCT FROM o.last_refreshed_at) THEN
    PERFORM pgpress_cache_log(ARRAY['analytics:*']);
  END IF;
  RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER pgpress_matview_refresh_cache_upd AFTER UPDATE ON pgpress_matview_refresh
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION pgpress_cache_matview_refreshed();

-- TRUNCATE has no transition tables: it invalidates everything.
CREATE OR REPLACE FUNCTION pgpress_cache_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pgpress_cache_log(ARRAY['*']);
  RETURN NULL;
END
$$;

-- One trigger per event: PostgreSQL allows transition tables only on single-event triggers.
DO $$
DECLARE
  t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['articles', 'users', 'comments', 'tags'] LOOP
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_cache_ins', t, 'pgpress_cache_' || t || '_changed');
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_cache_upd', t, 'pgpress_cache_' || t || '_changed');
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows '
                   'FOR EACH STATEMENT EXECUTE FUNCTION %I()', t || '_cache_del', t, 'pgpress_cache_' || t || '_changed');
    EXECUTE format('CREATE OR REPLACE TRIGGER %I AFTER TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION pgpress_cache_truncated()', t || '_cache_trunc', t);
  END LOOP;
END
$$;
